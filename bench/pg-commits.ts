/**
 * Benchmark 7, pg-commits: how many commits a second one PostgreSQL site takes, the ceiling
 * docs/scale.md's load model is checked against. Every postgres-store commit locks the one
 * row of `store_state` to COMMIT (commit-order numbering), so the commits of every instance
 * of a site are serialized; a commit's hold time (its round trips and its WAL flush) is the
 * cost.
 *
 * Measured: `--instances` PostgresStore objects (as many daemons) on one schema of a
 * throwaway server (Debian's package, initdb in a temp dir, unix socket, durable defaults:
 * fsync and synchronous_commit on), each committing in a loop for `--seconds` what a device
 * acknowledgement commits: a cursor move and the device's record.
 *
 * Baselines in the same run, on the same server, by node-postgres alone (no rollcall code):
 *  - parallel: as many clients each upserting its own row, one transaction each (nothing
 *    shared: the server's group commit at its best);
 *  - serialized: the same, plus every transaction incrementing one shared counter row
 *    first, which is what commit-order numbering costs at its least.
 *
 *   node dist/bench/pg-commits.js [--quick] [--instances 10] [--seconds 10]
 */
import pg from 'pg';
import { pino } from 'pino';
import { startPostgresServer, type PostgresServer } from '../test/helpers/postgres-server.js';
import { PostgresStore } from '../plugins/storage/postgres/postgres-store.js';
import { configSchema } from '../plugins/storage/postgres/schema.js';
import type { DeviceRecord } from '../daemon/model/device.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import type { ResultRow } from './lib/results.js';
import { siteUser } from './lib/site-users.js';
import { round } from './lib/stats.js';

const silent = pino({ level: 'silent' });

/** Runs `work` in a loop on each of `loops` until `seconds` pass; returns the total count. */
async function loopFor(seconds: number, loops: number, work: (loop: number, i: number) => Promise<void>): Promise<{ count: number; seconds: number }> {
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await work(loop, i);
        count++;
      }
    }),
  );
  return { count, seconds: (performance.now() - t0) / 1000 };
}

async function rollcallCommits(server: PostgresServer, instances: number, seconds: number, device: (id: number) => DeviceRecord): Promise<{ count: number; seconds: number }> {
  const config = configSchema.parse({ host: server.socketDir, port: server.port, user: server.user, database: server.database, schema: 'bench_commits', startRetryMs: 0 });
  const stores = Array.from({ length: instances }, () => new PostgresStore({ connection: config, poolSize: config.poolSize, startRetryMs: 0, logger: silent }));
  for (const store of stores) await store.start();
  // One user, so that there is a seq for the cursors to stand at (a cursor is never ahead of the feed).
  await stores[0]!.commit([{ type: 'putUser', user: siteUser(0), origin: { kind: 'server', by: 'bench' } }]);
  try {
    return await loopFor(seconds, instances, async (loop, i) => {
      await stores[loop]!.commit([
        { type: 'setCursor', deviceId: 1001 + loop, seq: i % 2 },
        { type: 'putDevice', device: device(1001 + loop) },
      ]);
    });
  } finally {
    for (const store of stores) await store.stop();
  }
}

async function rawCommits(server: PostgresServer, clients: number, seconds: number, shared: boolean, record: string): Promise<{ count: number; seconds: number }> {
  const table = shared ? 'raw_serialized' : 'raw_parallel';
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ host: server.socketDir, port: server.port, user: server.user, database: server.database });
    await client.connect();
    return client;
  };
  const setup = await connect();
  await setup.query(`DROP TABLE IF EXISTS ${table}, ${table}_counter`);
  await setup.query(`CREATE TABLE ${table} (k bigint PRIMARY KEY, seq bigint NOT NULL, record json NOT NULL)`);
  await setup.query(`CREATE TABLE ${table}_counter (n bigint NOT NULL)`);
  await setup.query(`INSERT INTO ${table}_counter VALUES (0)`);
  await setup.end();
  const pool = await Promise.all(Array.from({ length: clients }, connect));
  try {
    return await loopFor(seconds, clients, async (loop, i) => {
      const client = pool[loop]!;
      await client.query('BEGIN');
      if (shared) await client.query(`UPDATE ${table}_counter SET n = n + 1`);
      await client.query(`INSERT INTO ${table} (k, seq, record) VALUES ($1, $2, $3) ON CONFLICT (k) DO UPDATE SET seq = EXCLUDED.seq, record = EXCLUDED.record`, [loop, i, record]);
      await client.query('COMMIT');
    });
  } finally {
    await Promise.all(pool.map((c) => c.end()));
  }
}

export const pgCommits: BenchDefinition = {
  name: 'pg-commits',
  title: 'PostgreSQL commits per second',
  options: { instances: { type: 'string' }, seconds: { type: 'string' } },
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const quick = ctx.profile === 'quick';
    const instances = Number(ctx.values['instances'] ?? 10);
    const seconds = Number(ctx.values['seconds'] ?? (quick ? 2 : 10));
    const server = await startPostgresServer({ durable: true });
    // A device record of the size the engine keeps after a first check (its common fields; the rest is left out).
    const device = (id: number): DeviceRecord =>
      ({ id, source: 'config', type: 40, templateFormat: 0, useAlphanumericID: false, lastEventId: 123456, lastCheck: { at: Date.now(), method: 'headers', inSync: true, differences: 0 }, rejectedUsers: {} }) as unknown as DeviceRecord;
    const record = JSON.stringify(device(1001));
    try {
      const parallel = await rawCommits(server, instances, seconds, false, record);
      ctx.log(`raw parallel: ${round(parallel.count / parallel.seconds)} commits/s`);
      const measured = await rollcallCommits(server, instances, seconds, device);
      ctx.log(`rollcall, ${instances} stores: ${round(measured.count / measured.seconds)} commits/s`);
      const serialized = await rawCommits(server, instances, seconds, true, record);
      ctx.log(`raw serialized: ${round(serialized.count / serialized.seconds)} commits/s`);
      const rate = (r: { count: number; seconds: number }): number => r.count / r.seconds;
      const rows: ResultRow[] = [
        {
          figure: `commits/s of ${instances} postgres stores on one schema (cursor move + device record each)`,
          measured: { value: round(rate(measured)), unit: 'commits/s' },
          baseline: { value: round(rate(serialized)), unit: 'commits/s', label: 'pg alone, the same row upserts, every transaction through one shared counter row' },
          ratio: rate(serialized) / rate(measured),
        },
        {
          figure: `commits/s of ${instances} postgres stores against unshared transactions`,
          measured: { value: round(rate(measured)), unit: 'commits/s' },
          baseline: { value: round(rate(parallel)), unit: 'commits/s', label: 'pg alone, the same row upserts, nothing shared (group commit)' },
          ratio: rate(parallel) / rate(measured),
        },
      ];
      return {
        rows,
        notes: [
          `Server: PostgreSQL from Debian's package, started for the run (unix socket, durable defaults: fsync, synchronous_commit, full_page_writes on). ${instances} loops of each, each loop one commit at a time, for ${seconds} s each; raw parallel first, then rollcall, then raw serialized.`,
          `Ratios are baseline rate ÷ measured rate (> 1: rollcall commits fewer per second). Counts: rollcall ${measured.count} in ${round(measured.seconds)} s, serialized ${serialized.count} in ${round(serialized.seconds)} s, parallel ${parallel.count} in ${round(parallel.seconds)} s.`,
          'A rollcall commit: BEGIN, the store_state row locked, the plan written (one statement), store_state moved, COMMIT; no NOTIFY (no user changed). The lock is what serializes every instance of a site.',
        ],
        details: { instances, seconds, measured, serialized, parallel },
      };
    } finally {
      await server.stop();
    }
  },
};

runIfMain(import.meta.url, pgCommits);
