/**
 * Device leases on the PostgreSQL store (plugins/storage/postgres/leases.ts) against a real
 * server, with two stores on one schema as two rollcall instances have: each its own pool.
 * Taking a lease is atomic across them (of two asking at once, one gets each device); an
 * expired lease is taken with a new epoch and its old holder can no longer renew it; a
 * fenced commit with a stale epoch, or an expired lease, is refused whole; and the fence is
 * checked inside the commit's transaction: a takeover that commits while the commit waits is
 * seen, where a check made before the commit would have passed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isRollcallError } from '../../../daemon/errors.js';
import type { Mutation } from '../../../daemon/plugins/api.js';
import { postgresSkipReason, startPostgresServer, type PostgresServer } from '../../helpers/postgres-server.js';
import { freshSchema, postgresConfig, postgresStore } from '../../helpers/postgres-stores.js';
import type { PostgresStore } from '../../../plugins/storage/postgres/postgres-store.js';

const TTL = 60_000;
const cursorMove = (deviceId: number, seq: number): Mutation[] => [
  { type: 'setCursor', deviceId, seq },
  { type: 'putDevice', device: { id: deviceId, source: 'config', lastEventId: seq } },
];

async function twoStores(server: PostgresServer): Promise<{ a: PostgresStore; b: PostgresStore; schema: string; close(): Promise<void> }> {
  const schema = freshSchema();
  const config = postgresConfig(server, schema);
  const [a, b] = [postgresStore(config), postgresStore(config)];
  await a.start();
  await b.start();
  return {
    a,
    b,
    schema,
    async close() {
      await Promise.all([a.stop(), b.stop()]);
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

function leaseLost(error: unknown): boolean {
  return isRollcallError(error, 'ROLLCALL_ERR_LEASE_LOST');
}

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('leases on postgres', { skip }, () => {});
} else {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgresServer();
  });
  after(async () => {
    await server.stop();
  });

  test('two instances taking the same 200 leases at once: each device goes to exactly one, at epoch 1', async () => {
    const { a, b, close } = await twoStores(server);
    try {
      const devices = Array.from({ length: 200 }, (_, i) => 1000 + i);
      // Each asks in its own order, in several calls, all at once.
      const reversed = [...devices].reverse();
      const asks = [
        ...[0, 50, 100, 150].map((from) => a.leases.acquire('A', devices.slice(from, from + 50), TTL)),
        ...[0, 50, 100, 150].map((from) => b.leases.acquire('B', reversed.slice(from, from + 50), TTL)),
      ];
      const results = await Promise.all(asks);
      const byA = results.slice(0, 4).flat();
      const byB = results.slice(4).flat();
      const taken = [...byA, ...byB].map((l) => l.deviceId).sort((x, y) => x - y);
      assert.deepEqual(taken, devices, 'every device taken once, none twice');
      assert.ok([...byA, ...byB].every((l) => l.epoch === 1 && l.ttlMs > TTL - 10_000 && l.ttlMs <= TTL));
      const { leases } = await a.leases.list();
      const owners = new Map(leases.map((l) => [l.deviceId, l.owner]));
      for (const l of byA) assert.equal(owners.get(l.deviceId), 'A');
      for (const l of byB) assert.equal(owners.get(l.deviceId), 'B');
      // A lease held live is not taken again, by anyone.
      assert.deepEqual(await b.leases.acquire('B', byA.map((l) => l.deviceId), TTL), []);
      assert.deepEqual(await a.leases.acquire('A', byA.map((l) => l.deviceId), TTL), []);
    } finally {
      await close();
    }
  });

  test('an expired lease is taken with a new epoch; the old holder cannot renew it, and its fenced commit is refused whole', async () => {
    const { a, b, schema, close } = await twoStores(server);
    try {
      const [held] = await a.leases.acquire('A', [7], TTL);
      assert.equal(held!.epoch, 1);
      await a.commit(cursorMove(7, 0), { fences: [{ deviceId: 7, owner: 'A', epoch: 1 }] });
      assert.equal((await a.leases.renew('A', [{ deviceId: 7, epoch: 1 }], TTL)).length, 1);

      // A is cut off: its lease runs out (the server's clock decides).
      await server.query(`UPDATE ${schema}.leases SET expires_at = now() - interval '1 second' WHERE device_id = 7`);
      await assert.rejects(a.commit(cursorMove(7, 0), { fences: [{ deviceId: 7, owner: 'A', epoch: 1 }] }), leaseLost, 'an expired lease fences, even before anyone took it');
      const [taken] = await b.leases.acquire('B', [7], TTL);
      assert.equal(taken!.epoch, 2, 'a change of owner takes a new epoch');
      assert.deepEqual(await a.leases.renew('A', [{ deviceId: 7, epoch: 1 }], TTL), [], 'the old holder renews nothing');

      const seqBefore = a.currentSeq();
      const stale = [{ type: 'putUser' as const, user: { id: 'u1', name: 'merged by a stale owner', cards: [], fingerprints: [], faces: [] } as never, origin: { kind: 'device' as const, deviceId: 7 } }, ...cursorMove(7, 0)];
      await assert.rejects(a.commit(stale, { fences: [{ deviceId: 7, owner: 'A', epoch: 1 }] }), leaseLost);
      assert.equal(await a.getUser('u1'), undefined, 'nothing of the refused commit was applied');
      assert.equal((await server.query(`SELECT count(*)::int AS n FROM ${schema}.feed`)).rows[0].n, 0);
      assert.equal(a.currentSeq(), seqBefore);
      // The new owner commits with its epoch.
      await b.commit(cursorMove(7, 0), { fences: [{ deviceId: 7, owner: 'B', epoch: 2 }] });
      // Its own epoch under another name is no fence either.
      await assert.rejects(a.commit(cursorMove(7, 0), { fences: [{ deviceId: 7, owner: 'A', epoch: 2 }] }), leaseLost);
    } finally {
      await close();
    }
  });

  test('the fence is checked inside the commit: a takeover that commits while the commit waits refuses it', async () => {
    const { a, schema, close } = await twoStores(server);
    const other = new pg.Client({ host: server.socketDir, port: server.port, user: server.user, database: server.database });
    await other.connect();
    try {
      await a.leases.acquire('A', [9], TTL);
      // Another instance takes the lease in a transaction it has not committed yet (as a
      // takeover of an expired lease would): the row is locked and still says A, epoch 1.
      await other.query('BEGIN');
      await other.query(`UPDATE ${schema}.leases SET owner = 'B', epoch = epoch + 1, expires_at = now() + interval '60 seconds' WHERE device_id = 9`);
      const visible = await a.leases.list();
      assert.deepEqual(
        visible.leases.map((l) => [l.deviceId, l.owner, l.epoch]),
        [[9, 'A', 1]],
        'a check made now, before the commit, would pass',
      );
      const commit = a.commit(cursorMove(9, 0), { fences: [{ deviceId: 9, owner: 'A', epoch: 1 }] });
      const outcome = commit.then(
        () => 'committed',
        (error: unknown) => (leaseLost(error) ? 'refused' : `failed: ${(error as Error).message}`),
      );
      // Wait until the commit is blocked on the lease row, inside its transaction.
      for (;;) {
        const waiting = await server.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM leases%FOR SHARE%'`,
        );
        if (waiting.rows[0].n > 0) break;
        await sleep(20);
      }
      await other.query('COMMIT');
      assert.equal(await outcome, 'refused');
      assert.equal((await server.query(`SELECT count(*)::int AS n FROM ${schema}.cursors`)).rows[0].n, 0, 'no cursor written');
    } finally {
      await other.end();
      await close();
    }
  });

  test('heartbeat and list: instances are live while they heartbeat; a fresh start of an ID gives back what its earlier run held; leave releases all', async () => {
    const { a, b, schema, close } = await twoStores(server);
    try {
      await a.leases.heartbeat({ id: 'A', host: 'host-a', ttlMs: TTL, fresh: true });
      await b.leases.heartbeat({ id: 'B', host: 'host-b', ttlMs: TTL, fresh: true });
      await a.leases.acquire('A', [1, 2, 3], TTL);
      await b.leases.acquire('B', [4], TTL);
      let view = await b.leases.list();
      assert.deepEqual(
        view.instances.map((i) => [i.id, i.host, i.live]),
        [
          ['A', 'host-a', true],
          ['B', 'host-b', true],
        ],
      );
      assert.deepEqual(view.leases.map((l) => [l.deviceId, l.owner, l.live]), [
        [1, 'A', true],
        [2, 'A', true],
        [3, 'A', true],
        [4, 'B', true],
      ]);
      // A restarts (a crash, then systemd): what its earlier run held is given back.
      await a.leases.heartbeat({ id: 'A', host: 'host-a', ttlMs: TTL, fresh: true });
      view = await a.leases.list();
      assert.deepEqual(view.leases.filter((l) => l.live).map((l) => l.deviceId), [4]);
      const again = await a.leases.acquire('A', [1, 2, 3], TTL);
      assert.deepEqual(again.map((l) => l.epoch), [2, 2, 2], 'taken again with a new epoch: its earlier run is fenced');
      // An instance whose heartbeat ran out is not live.
      await server.query(`UPDATE ${schema}.instances SET expires_at = now() - interval '1 second' WHERE id = 'B'`);
      view = await a.leases.list();
      assert.deepEqual(view.instances.map((i) => [i.id, i.live]), [
        ['A', true],
        ['B', false],
      ]);
      await a.leases.leave('A');
      view = await b.leases.list();
      assert.deepEqual(view.instances.map((i) => i.id), ['B']);
      assert.deepEqual(view.leases.filter((l) => l.live).map((l) => l.deviceId), [4]);
      // Released, not deleted: the epoch goes on growing.
      assert.deepEqual((await b.leases.acquire('B', [1], TTL)).map((l) => l.epoch), [3]);
    } finally {
      await close();
    }
  });

  test('release gives back only what the owner holds at that epoch', async () => {
    const { a, b, close } = await twoStores(server);
    try {
      await a.leases.acquire('A', [5, 6], TTL);
      await b.leases.release('B', [{ deviceId: 5, epoch: 1 }]);
      await a.leases.release('A', [{ deviceId: 6, epoch: 9 }]);
      assert.deepEqual((await a.leases.list()).leases.filter((l) => l.live).map((l) => l.deviceId), [5, 6]);
      await a.leases.release('A', [{ deviceId: 5, epoch: 1 }]);
      assert.deepEqual((await b.leases.acquire('B', [5, 6], TTL)).map((l) => [l.deviceId, l.epoch]), [[5, 2]]);
    } finally {
      await close();
    }
  });
}
