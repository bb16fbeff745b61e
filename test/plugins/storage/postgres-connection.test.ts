/**
 * The PostgreSQL store's connection: the plugin definition and its config, the password
 * (from a file, never in a log line or an error), TLS refused by a server without it, and a
 * lost connection: health() not ready until it is back, and what was committed meanwhile
 * wakes followers once it is.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { isRollcallError } from '../../../daemon/errors.js';
import { emptyUser } from '../../../daemon/model/user.js';
import { buildConfigSchema } from '../../../daemon/config/schema.js';
import { Metrics } from '../../../daemon/obs/metrics.js';
import { BUILTIN_PLUGINS } from '../../../daemon/plugins/registry.js';
import postgresStorage from '../../../plugins/storage/postgres/index.js';
import { configSchema } from '../../../plugins/storage/postgres/schema.js';
import { postgresSkipReason, startPostgresServer } from '../../helpers/postgres-server.js';
import { freshSchema, postgresConfig, postgresStore } from '../../helpers/postgres-stores.js';

const origin = { kind: 'server' as const };

test('the postgres plugin: registered as a storage plugin, its schema has defaults, restart marks, and refuses unknown keys', () => {
  assert.ok(BUILTIN_PLUGINS.includes(postgresStorage as never));
  assert.equal(postgresStorage.kind, 'storage');
  assert.equal(postgresStorage.name, 'postgres');
  const config = configSchema.parse({});
  assert.deepEqual(config, {
    host: '/var/run/postgresql',
    port: 5432,
    database: 'rollcall',
    user: 'rollcall',
    schema: 'rollcall',
    tls: { mode: 'disable' },
    poolSize: 10,
    idleInTransactionTimeoutMs: 5000,
    connectTimeoutMs: 10_000,
    startRetryMs: 20_000,
  });
  assert.equal(configSchema.safeParse({ password: 'x' }).success, false, 'a password is never put in the config itself');
  assert.equal(configSchema.safeParse({ schema: 'Bad-Name' }).success, false);
  assert.equal(configSchema.safeParse({ tls: { mode: 'prefer' } }).success, false);
  assert.equal(configSchema.safeParse({ poolSize: 1 }).success, false);
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    assert.equal(schema.meta()?.['requiresRestart'], true, `${key} requires a restart`);
    assert.ok(schema.description, `${key} is described`);
  }
  // The daemon's config takes it as `storage: { backend: postgres, postgres: {...} }`; level stays the default.
  const full = buildConfigSchema(BUILTIN_PLUGINS);
  const parsed = full.parse({ storage: { backend: 'postgres', postgres: { host: 'db.example', passwordFile: '/etc/rollcall/pg-password' } } });
  assert.equal(parsed.storage.backend, 'postgres');
  assert.equal((parsed.storage['postgres'] as { host: string }).host, 'db.example');
  assert.equal(full.parse({}).storage.backend, 'level');
});

test('without the server binaries the PostgreSQL tests skip with a warning, and fail in CI', (t) => {
  const nowhere = '/nonexistent/postgresql';
  const warn = t.mock.method(console, 'warn', () => {});
  assert.match(String(postgresSkipReason({}, nowhere)), /binaries not found under \/nonexistent\/postgresql/);
  assert.equal(warn.mock.callCount(), 1);
  assert.match(String(warn.mock.calls[0]?.arguments[0]), /^WARNING: skipping the PostgreSQL tests/);
  assert.throws(() => postgresSkipReason({ CI: 'true' }, nowhere), /CI must run the PostgreSQL tests/);
});

/** A pino logger writing every line (trace and up) into `lines`. */
function capturingLogger(lines: string[]) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return pino({ level: 'trace' }, sink);
}

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('postgres connection', { skip }, () => {});
} else {
  const server = await startPostgresServer();
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-pg-conn-'));
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('create() connects to nothing; start() opens over the unix socket; stop() closes', async () => {
    const schema = freshSchema();
    const controller = new AbortController();
    const store = postgresStorage.create(
      { logger: pino({ level: 'silent' }), metrics: new Metrics(), signal: controller.signal, dataDir: '/nonexistent', lookup: () => undefined },
      postgresConfig(server, schema),
    );
    const exists = async () => (await server.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount;
    assert.equal(await exists(), 0);
    assert.equal(store.health().ok, false);
    await store.start(controller.signal);
    try {
      assert.equal(store.health().ok, true);
      assert.equal(await exists(), 1);
    } finally {
      await store.stop();
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
    }
    assert.equal(store.health().ok, false);
  });

  test('the password comes from its file and appears in no log line and no error', async () => {
    const secret = 'S3cret-pw-must-not-leak';
    const wrong = 'Wr0ng-pw-must-not-leak';
    await server.requirePassword('rc_pw', secret);
    const good = join(dir, 'good-password');
    const bad = join(dir, 'bad-password');
    await writeFile(good, `${secret}\n`, { mode: 0o600 });
    await writeFile(bad, `${wrong}\n`, { mode: 0o600 });
    const lines: string[] = [];
    const logger = capturingLogger(lines);
    const schema = freshSchema();

    // A wrong password: refused at once (no retries), with the server's reason and no password.
    const refused = postgresStore(postgresConfig(server, schema, { user: 'rc_pw', passwordFile: bad, startRetryMs: 5_000 }), { logger });
    let failure: unknown;
    await assert.rejects(refused.start(), (error) => {
      failure = error;
      return isRollcallError(error, 'ROLLCALL_ERR_STORE_UNAVAILABLE') && /password authentication failed for user "rc_pw"/.test(error.message);
    });
    assert.equal(refused.health().ok, false);
    for (const text of [inspect(failure, { depth: 10 }), JSON.stringify(failure), JSON.stringify((failure as { detail?: unknown }).detail), String(refused.health().detail)]) {
      assert.ok(!text.includes(wrong) && !text.includes(secret), `no password in ${text.slice(0, 200)}`);
    }

    // The right one (its file ends in a newline, which is not part of it).
    const store = postgresStore(postgresConfig(server, schema, { user: 'rc_pw', passwordFile: good }), { logger });
    await store.start();
    try {
      await store.commit([{ type: 'putUser', user: emptyUser('a'), origin }]);
      assert.equal((await store.getUser('a'))?.id, 'a');
    } finally {
      await store.stop();
      await server.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
    assert.ok(lines.length > 0, 'the store logged something (the test looks at real lines)');
    for (const line of lines) assert.ok(!line.includes(secret) && !line.includes(wrong), `no password in the log line ${line}`);

    // A missing or empty file: a clear error naming the file, not the server's refusal.
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    for (const file of [join(dir, 'absent'), empty]) {
      const store = postgresStore(postgresConfig(server, freshSchema(), { user: 'rc_pw', passwordFile: file }));
      await assert.rejects(store.start(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_UNAVAILABLE') && error.message.includes(file));
    }
  });

  test('a server that cannot be reached fails start with STORE_UNAVAILABLE naming where it looked', async () => {
    const nowhere = join(dir, 'no-server-here');
    const store = postgresStore(postgresConfig(server, freshSchema(), { host: nowhere, startRetryMs: 300 }));
    await assert.rejects(store.start(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_UNAVAILABLE') && error.message.includes(`socket ${nowhere}/.s.PGSQL.`));
    assert.equal(store.health().ok, false);
  });

  test('start retries a server that is not there yet, and opens once it is, leaving no stray connection', { timeout: 60_000 }, async () => {
    const later = await mkdtemp(join(dir, 'later-'));
    const schema = freshSchema();
    const lines: string[] = [];
    // The socket appears in `later` once the first attempt has failed and been logged.
    const socketName = `.s.PGSQL.${server.port}`;
    let linked = false;
    const watcher = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        if (!linked && chunk.toString('utf8').includes('not reachable yet')) {
          linked = true;
          symlink(join(server.socketDir, socketName), join(later, socketName)).then(() => done(), done);
        } else done();
      },
    });
    const store = postgresStore(postgresConfig(server, schema, { host: later, startRetryMs: 60_000 }), { logger: pino({ level: 'debug' }, watcher) });
    await store.start();
    try {
      assert.equal(linked, true, 'the first attempt failed and was retried');
      assert.equal(store.health().ok, true);
      assert.ok(lines.some((line) => line.includes('PostgreSQL store open')));
      const listening = await server.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE starts_with(application_name, 'rollcall/') AND query LIKE 'LISTEN %'");
      assert.equal((listening.rows[0] as { n: number }).n, 1, 'one listening connection, none left over from the failed attempt');
    } finally {
      await store.stop();
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
    }
    // Every connection ends (the server notices each a moment after the store closes it).
    const open = async () => ((await server.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE starts_with(application_name, 'rollcall/')")).rows[0] as { n: number }).n;
    while ((await open()) > 0) await sleep(20);
  });

  test('tls require against a server without TLS is refused with a clear error', async () => {
    const store = postgresStore(postgresConfig(server, freshSchema(), { tls: { mode: 'require' } }));
    await assert.rejects(store.start(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_UNAVAILABLE') && /SSL|TLS/i.test(error.message));
  });

  test('a link that stops answering without closing (a partition) is found by the heartbeat and made again', async () => {
    const schema = freshSchema();
    const store = postgresStore(postgresConfig(server, schema, { connectTimeoutMs: 500 }));
    await store.start();
    let frozen: number | undefined;
    try {
      const listening = await server.query(
        "SELECT pid FROM pg_stat_activity WHERE starts_with(application_name, 'rollcall/') AND (query LIKE 'LISTEN %' OR query = 'SELECT 1')",
      );
      assert.equal(listening.rowCount, 1, 'one listening connection');
      frozen = (listening.rows[0] as { pid: number }).pid;
      // The server process of that connection stops dead: no reset, no error, just silence.
      process.kill(frozen, 'SIGSTOP');
      while (store.health().ok) await sleep(20);
      assert.match(String(store.health().detail), /reconnecting to PostgreSQL: no answer to a heartbeat/);
      while (!store.health().ok) await sleep(20);
      // The new connection hears commits.
      const waiting = store.waitForSeq(0);
      const other = postgresStore(postgresConfig(server, schema));
      await other.start();
      await other.commit([{ type: 'putUser', user: emptyUser('after'), origin }]);
      await other.stop();
      assert.equal(await waiting, 1);
    } finally {
      if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
      await store.stop();
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  test('a lost connection: not ready while it is down, back by itself, and commits made meanwhile wake followers', async () => {
    const role = 'rc_flaky';
    await server.query(`DROP ROLE IF EXISTS ${role}`);
    await server.query(`CREATE ROLE ${role} LOGIN; GRANT ALL ON DATABASE ${server.database} TO ${role}`);
    const schema = freshSchema();
    const follower = postgresStore(postgresConfig(server, schema, { user: role }));
    const writer = postgresStore(postgresConfig(server, schema));
    await writer.start();
    await server.query(`GRANT ALL ON SCHEMA ${schema} TO ${role}; GRANT ALL ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
    await follower.start();
    try {
      assert.equal(follower.health().ok, true);
      const waiting = follower.waitForSeq(0);
      // Cut the follower off: its connections are ended and it may not log in again.
      await server.query(`ALTER ROLE ${role} NOLOGIN`);
      await server.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
      while (follower.health().ok) await sleep(10);
      const down = follower.health();
      assert.equal(down.ok, false);
      assert.match(String(down.detail), /reconnecting to PostgreSQL/);
      // A read meanwhile fails with the store's code.
      await assert.rejects(follower.countUsers(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_UNAVAILABLE') || /not permitted to log in/.test(String(error)));

      // Committed while the follower cannot hear the notification.
      assert.deepEqual(await writer.commit([{ type: 'putUser', user: emptyUser('during'), origin }]), { seq: 1 });
      await server.query(`ALTER ROLE ${role} LOGIN`);
      // Back with backoff; the seq it missed is read on reconnect and wakes the waiter.
      assert.equal(await waiting, 1);
      while (!follower.health().ok) await sleep(10);
      assert.deepEqual((await follower.changesSince(0)).map((c) => c.userId), ['during']);
    } finally {
      await follower.stop();
      await writer.stop();
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
      await server.query(`REVOKE ALL ON DATABASE ${server.database} FROM ${role}; DROP ROLE ${role}`);
    }
  });

  test('a connection that breaks while a commit holds it: that commit fails with the store\'s error, the process lives on, the next commit goes through', async () => {
    const role = 'rc_cut';
    await server.query(`DROP ROLE IF EXISTS ${role}`);
    await server.query(`CREATE ROLE ${role} LOGIN; GRANT ALL ON DATABASE ${server.database} TO ${role}`);
    const schema = freshSchema();
    const owner = postgresStore(postgresConfig(server, schema));
    await owner.start();
    await server.query(`GRANT ALL ON SCHEMA ${schema} TO ${role}; GRANT ALL ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
    const store = postgresStore(postgresConfig(server, schema, { user: role }));
    await store.start();
    // Another session holds the feed's row lock, so the store's commit waits inside its
    // transaction, on a connection checked out of the pool.
    const blocker = new pg.Client({ host: server.socketDir, port: server.port, user: server.user, database: server.database });
    blocker.on('error', () => {});
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT * FROM ${schema}.store_state FOR UPDATE`);
      const commit = store.commit([{ type: 'putUser', user: emptyUser('cut'), origin }]);
      commit.catch(() => {});
      // The commit is waiting for the lock; its backend is then terminated under it.
      for (;;) {
        const waiting = await server.query(`SELECT pid FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`, [role]);
        if (waiting.rowCount) break;
        await sleep(10);
      }
      await server.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`, [role]);
      await assert.rejects(commit, (error) => isRollcallError(error) && /PostgreSQL/.test((error as Error).message));
      await blocker.query('ROLLBACK');
      // Still alive (an 'error' without a listener would have ended this process), and the store works.
      while (!store.health().ok) await sleep(10);
      assert.deepEqual(await store.commit([{ type: 'putUser', user: emptyUser('after'), origin }]), { seq: 1 });
      assert.equal((await store.getUser('cut')), undefined, 'nothing of the cut commit applied');
    } finally {
      await blocker.end().catch(() => {});
      await store.stop();
      await owner.stop();
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
      await server.query(`REVOKE ALL ON DATABASE ${server.database} FROM ${role}; DROP ROLE ${role}`);
    }
  });
}
