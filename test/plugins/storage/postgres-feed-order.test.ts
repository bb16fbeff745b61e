/**
 * The change feed of the PostgreSQL store never lets a follower pass a change that commits
 * late: two stores (two daemons, two connections) commit into one schema at once, and a
 * third follows the feed as a device worker does (waitForSeq, changesSince, move the
 * cursor). With seqs handed out before commit (a SEQUENCE), a commit that took seq n and
 * committed after the one that took n+1 would be passed by the follower and never seen.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Change, Store } from '../../../daemon/plugins/api.js';
import { emptyUser } from '../../../daemon/model/user.js';
import { postgresSkipReason, startPostgresServer, type PostgresServer } from '../../helpers/postgres-server.js';
import { freshSchema, postgresConfig, postgresStore } from '../../helpers/postgres-stores.js';
import type { PostgresStore } from '../../../plugins/storage/postgres/postgres-store.js';

const origin = { kind: 'server' as const, by: 'feed-order' };
const put = (id: string) => ({ type: 'putUser' as const, user: { ...emptyUser(id), name: id }, origin });

/** Three stores on one new schema: two writers and a follower, each with its own pool and listener. */
async function threeStores(server: PostgresServer): Promise<{ a: PostgresStore; b: PostgresStore; follower: PostgresStore; close(): Promise<void> }> {
  const schema = freshSchema();
  const config = postgresConfig(server, schema);
  const [a, b, follower] = [postgresStore(config), postgresStore(config), postgresStore(config)];
  for (const store of [a, b, follower]) await store.start();
  return {
    a,
    b,
    follower,
    async close() {
      await Promise.all([a.stop(), b.stop(), follower.stop()]);
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

/** Follows the feed as a device worker does, until `stop` aborts; returns every change seen. */
async function follow(store: Store, stop: AbortSignal): Promise<{ seen: Change[]; cursor: number }> {
  const seen: Change[] = [];
  let cursor = 0;
  for (;;) {
    try {
      await store.waitForSeq(cursor, stop);
    } catch (error) {
      if (stop.aborted) break;
      throw error;
    }
    const changes = await store.changesSince(cursor, { limit: 50 });
    for (const change of changes) {
      assert.ok(change.seq > cursor, `the feed went back: ${change.seq} after cursor ${cursor}`);
      seen.push(change);
      cursor = change.seq;
    }
  }
  // What was committed up to the moment of the stop, read once more.
  for (;;) {
    const rest = await store.changesSince(cursor);
    if (rest.length === 0) break;
    seen.push(...rest);
    cursor = rest[rest.length - 1]!.seq;
  }
  return { seen, cursor };
}

/** Polls the server (not the clock) until `count` backends of the test database wait on a lock, or `unless` settles. */
async function untilLockWaiters(server: PostgresServer, count: number, unless?: Promise<unknown>): Promise<void> {
  let settled = false;
  unless?.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    const result = await server.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if ((result.rows[0] as { n: number }).n >= count) return;
    await sleep(5);
  }
}

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('postgres feed order', { skip }, () => {});
} else {
  const server = await startPostgresServer();
  after(() => server.stop());

  test('a commit held in flight holds back the next one: the follower never sees a later seq first', async () => {
    const { a, b, follower, close } = await threeStores(server);
    const blocker = new pg.Client({ host: server.socketDir, port: server.port, user: server.user, database: server.database });
    try {
      await a.commit([put('held')]);
      await follower.waitForSeq(0);
      const cursor = (await follower.changesSince(0)).at(-1)!.seq;
      assert.equal(cursor, 1);

      // Another session locks the row of user "held": A's next commit takes its number, then waits.
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${a.schema}.users WHERE id = $1 FOR UPDATE`, [Buffer.from('held')]);
      const late = a.commit([put('held')]);
      await untilLockWaiters(server, 1);
      // B commits meanwhile, from its own connection: it must wait for A, not pass it.
      const early = b.commit([put('other')]);
      // (Should B's commit finish instead, the checks below say what went wrong.)
      await untilLockWaiters(server, 2, early);

      // Neither is visible to the follower yet; nothing above its cursor to pass.
      assert.deepEqual(await follower.changesSince(cursor), []);
      const direct = await server.query(`SELECT seq FROM ${a.schema}.feed ORDER BY seq`);
      assert.deepEqual(direct.rows.map((r: { seq: string }) => Number(r.seq)), [1]);

      await blocker.query('COMMIT');
      const [lateResult, earlyResult] = await Promise.all([late, early]);
      assert.ok(lateResult.seq < earlyResult.seq, `the commit that started first is numbered first (${lateResult.seq} < ${earlyResult.seq})`);

      // The follower is woken through LISTEN/NOTIFY (it made no commit itself) and sees both, in order.
      assert.equal(await follower.waitForSeq(earlyResult.seq - 1), earlyResult.seq);
      assert.deepEqual(
        (await follower.changesSince(cursor)).map((c) => [c.seq, c.userId]),
        [
          [lateResult.seq, 'held'],
          [earlyResult.seq, 'other'],
        ],
      );
    } finally {
      await blocker.end().catch(() => {});
      await close();
    }
  });

  test('two stores committing at once: a follower on a third sees every change exactly once', async () => {
    const { a, b, follower, close } = await threeStores(server);
    try {
      const stop = new AbortController();
      const following = follow(follower, stop.signal);
      const perWriter = 150;
      const write = async (store: Store, prefix: string) => {
        const seqs: number[] = [];
        for (let i = 0; i < perWriter; i++) seqs.push((await store.commit([put(`${prefix}${i}`)])).seq);
        return seqs;
      };
      const [seqsA, seqsB] = await Promise.all([write(a, 'a'), write(b, 'b')]);
      const total = perWriter * 2;
      assert.deepEqual([...seqsA, ...seqsB].sort((x, y) => x - y), Array.from({ length: total }, (_, i) => i + 1), 'every seq used once');
      await follower.waitForSeq(total - 1);
      stop.abort();
      const { seen, cursor } = await following;
      assert.equal(cursor, total);
      assert.deepEqual(
        seen.map((c) => c.seq),
        Array.from({ length: total }, (_, i) => i + 1),
        'the follower saw every seq, in order, none twice',
      );
      // Both writers' commits interleaved, or the test proved nothing about concurrency.
      const owners = seen.map((c) => c.userId[0]);
      const switches = owners.filter((o, i) => i > 0 && o !== owners[i - 1]).length;
      assert.ok(switches > 1, `the two writers' commits interleaved (${switches} switches)`);
      assert.equal(await a.countUsers(), total);
    } finally {
      await close();
    }
  });
}
