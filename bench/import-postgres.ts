/**
 * Benchmark 1 on PostgreSQL, import-postgres: the import benchmark's user's path (import.ts:
 * `rollcall import FILE` as a process of its own, against `rollcall run` in a child
 * process whose devices are `rollcall sim` in a third process) with the daemon on the
 * postgres store, against a throwaway PostgreSQL server started for the run (Debian's
 * `postgresql` package: initdb in a temp dir, a unix socket there, no TCP; the server's
 * durable defaults, synchronous_commit on).
 *
 * The raw floor in the same run, on the same server and file, in a fresh process: csv-parse's
 * stream into multi-row INSERTs of 2,000 rows by node-postgres, into a table like the store's
 * `users`, with no rollcall code at all (lib/import-floor-postgres.ts). It runs before and
 * after the measured import and the ratio is taken against the mean of the two, so that a
 * machine that got busier meanwhile shows as a spread between them.
 *
 * Beside the times, what the server did during the measured import (pg_stat_database,
 * pg_stat_user_tables, the WAL position): commits, rows written and WAL bytes per row, the
 * figures docs/scale.md models the load with.
 *
 *   node dist/bench/import-postgres.js [--quick] [--rows 500000] [--devices 3] [--daemon-cpu-prof DIR]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPostgresServer, type PostgresServer } from '../test/helpers/postgres-server.js';
import { userPath, type UserPathResult } from './import.js';
import { writeBiostarCsv } from './lib/biostar-csv.js';
import { PG_FLOOR_BATCH, rawPostgresFloor, type PgFloorTarget } from './lib/import-floor-postgres.js';
import { ownPeakRssBytes } from './lib/process-stats.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import type { ResultRow } from './lib/results.js';
import { costRatio, round } from './lib/stats.js';

interface FloorResult {
  rows: number;
  seconds: number;
  peakRssBytes: number;
  stored: number;
}

/** What the server counted over an interval. */
export interface ServerWork {
  commits: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
  walBytes: number;
}

interface ServerCounters extends ServerWork {
  lsn: string;
}

/** The floor in a fresh process of its own, so that its peak RSS is its own. */
function floorInChild(file: string, target: PgFloorTarget): Promise<FloorResult> {
  const args = ['--pg-floor', '--file', file, '--host', target.host, '--port', String(target.port), '--user', target.user, '--database', target.database, '--table', target.table];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the floor exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as FloorResult);
    });
  });
}

async function floorChild(file: string, target: PgFloorTarget): Promise<void> {
  const result = await rawPostgresFloor(file, target);
  process.stdout.write(`${JSON.stringify({ ...result, peakRssBytes: ownPeakRssBytes() })}\n`);
}

/** The database's transaction and row counters (the statistics collector's, flushed first) and the WAL position. */
async function serverCounters(server: PostgresServer): Promise<ServerCounters> {
  // A connection of its own (server.query), so no snapshot of the statistics is reused.
  const result = await server.query(
    `SELECT d.xact_commit, pg_current_wal_lsn()::text AS lsn,
            coalesce(sum(t.n_tup_ins), 0) AS ins, coalesce(sum(t.n_tup_upd), 0) AS upd, coalesce(sum(t.n_tup_del), 0) AS del
       FROM pg_stat_database d LEFT JOIN pg_stat_user_tables t ON true
      WHERE d.datname = current_database() GROUP BY d.xact_commit`,
  );
  const row = result.rows[0] as { xact_commit: string; lsn: string; ins: string; upd: string; del: string };
  return { commits: Number(row.xact_commit), lsn: row.lsn, rowsInserted: Number(row.ins), rowsUpdated: Number(row.upd), rowsDeleted: Number(row.del), walBytes: 0 };
}

async function serverWorkSince(server: PostgresServer, before: ServerCounters): Promise<ServerWork> {
  // The statistics of the daemon's backends are reported when they go idle; give them a moment.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = await serverCounters(server);
  const wal = await server.query('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn) AS bytes', [after.lsn, before.lsn]);
  return {
    commits: after.commits - before.commits,
    rowsInserted: after.rowsInserted - before.rowsInserted,
    rowsUpdated: after.rowsUpdated - before.rowsUpdated,
    rowsDeleted: after.rowsDeleted - before.rowsDeleted,
    walBytes: Number((wal.rows[0] as { bytes: string }).bytes),
  };
}

/** On-disk bytes (heap, indexes, TOAST) of each of the store's tables in `schema`. */
async function tableSizes(server: PostgresServer, schema: string): Promise<Record<string, number>> {
  const result = await server.query(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`,
    [schema],
  );
  return Object.fromEntries(result.rows.map((r: { name: string; bytes: string }) => [r.name, Number(r.bytes)]));
}

const text = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));

export const importPostgresBench: BenchDefinition = {
  name: 'import-postgres',
  title: 'CSV import, PostgreSQL store',
  options: { rows: { type: 'string' }, devices: { type: 'string' }, 'daemon-cpu-prof': { type: 'string' } },
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const quick = ctx.profile === 'quick';
    const sizes = typeof ctx.values['rows'] === 'string' ? (ctx.values['rows'] as string).split(',').map(Number) : quick ? [20_000] : [500_000];
    const devices = Number(ctx.values['devices'] ?? 3);
    const server = await startPostgresServer({ durable: true });
    const version = String((await server.query('SHOW server_version')).rows[0]?.server_version ?? '?');
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-bench-csv-'));
    const results: { rows: number; fileBytes: number; floors: [FloorResult, FloorResult]; user: UserPathResult; work: ServerWork; floorWork: ServerWork; tables: Record<string, number>; floorTable: number }[] = [];
    try {
      for (const rows of sizes) {
        const file = join(dir, `users_${rows}.csv`);
        const fileBytes = await writeBiostarCsv(file, rows);
        if ((await stat(file)).size !== fileBytes) throw new Error('the CSV was not written whole');
        const target = { host: server.socketDir, port: server.port, user: server.user, database: server.database, table: `floor_users_${rows}` };
        const f0 = await serverCounters(server);
        const before = await floorInChild(file, target);
        const floorWork = await serverWorkSince(server, f0);
        ctx.log(`${rows} rows: raw floor ${round(before.seconds)} s`);
        const storage = { backend: 'postgres', postgres: { host: server.socketDir, port: server.port, user: server.user, database: server.database, schema: `rollcall_${rows}` } };
        const w0 = await serverCounters(server);
        const user = await userPath(ctx, file, rows, devices, 'sim-process', storage);
        const work = await serverWorkSince(server, w0);
        const tables = await tableSizes(server, `rollcall_${rows}`);
        const floorTable = (await tableSizes(server, 'public'))[target.table] ?? 0;
        ctx.log(`${rows} rows: rollcall import ${round(user.importSeconds)} s, all ${devices} devices in sync at ${round(user.inSyncSeconds)} s; ${work.commits} commits, ${work.rowsInserted} rows inserted, ${round(work.walBytes / 2 ** 20)} MiB WAL`);
        const afterFloor = await floorInChild(file, target);
        ctx.log(`${rows} rows: raw floor again ${round(afterFloor.seconds)} s`);
        if (before.stored !== rows || afterFloor.stored !== rows || user.report.rows.imported !== rows) {
          throw new Error(`${rows} rows: stored ${before.stored} and ${afterFloor.stored} (floor), imported ${user.report.rows.imported} (rollcall)`);
        }
        results.push({ rows, fileBytes, floors: [before, afterFloor], user, work, floorWork, tables, floorTable });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
      await server.stop();
    }
    const out: ResultRow[] = [];
    const floorLabel = `csv-parse stream → pg multi-row INSERTs of ${PG_FLOOR_BATCH}, no rollcall code; mean of the runs before and after`;
    for (const r of results) {
      const floorSeconds = (r.floors[0].seconds + r.floors[1].seconds) / 2;
      const ratio = costRatio(r.user.importSeconds, floorSeconds);
      out.push({
        figure: `${text(r.rows)} rows, \`rollcall import\`, postgres store`,
        measured: { value: r.user.importSeconds, unit: 's' },
        baseline: { value: floorSeconds, unit: 's', label: floorLabel },
        ratio,
        budget: { text: '≤ 2× the raw floor', pass: ratio <= 2 },
      });
      out.push({
        figure: `${text(r.rows)} rows, drop → all ${r.user.devices} devices in sync, postgres store`,
        measured: { value: r.user.inSyncSeconds, unit: 's' },
        baseline: { value: floorSeconds, unit: 's', label: 'the raw floor' },
        ratio: costRatio(r.user.inSyncSeconds, floorSeconds),
      });
      out.push({
        figure: `${text(r.rows)} rows, WAL written`,
        measured: { value: r.work.walBytes, unit: 'B' },
        baseline: { value: r.floorWork.walBytes, unit: 'B', label: 'the raw floor' },
        ratio: costRatio(r.work.walBytes, r.floorWork.walBytes),
      });
      out.push({
        figure: `${text(r.rows)} rows, daemon peak RSS, postgres store`,
        measured: { value: r.user.daemonPeakRssBytes, unit: 'B' },
        baseline: { value: r.floors[0].peakRssBytes, unit: 'B', label: 'the raw floor' },
        ratio: costRatio(r.user.daemonPeakRssBytes, r.floors[0].peakRssBytes),
      });
    }
    return {
      rows: out,
      notes: [
        `Server: PostgreSQL ${version} from Debian's package, started for the run (initdb in a temp dir, unix socket only, trust on the socket), durable defaults (fsync, synchronous_commit, full_page_writes on), shared_buffers 128MB. The floor and the daemon use the same server; the daemon's store is in a schema of its own (\`rollcall_<rows>\`), pool size the default.`,
        `Files: ${results.map((r) => `${text(r.rows)} rows = ${round(r.fileBytes / 2 ** 20)} MiB`).join(', ')}; the import benchmark's BioStar 2 CSV (lib/biostar-csv.ts). Every row is new to the database.`,
        `Measured: \`rollcall import FILE --json\` (a process) against \`rollcall run\` with \`storage.backend: postgres\` (import.ts's user's path, otherwise the same config), gateway \`rollcall sim --devices ${devices}\` in a third process; a fresh daemon, schema and simulator per size.`,
        `Raw floor: lib/import-floor-postgres.ts in a fresh process (csv-parse stream, columns by header and bom, into \`INSERT INTO t (id, record) VALUES ...\` of ${PG_FLOOR_BATCH} rows each, autocommit, id bytea primary key, record json); it imports no rollcall module. Before and after: ${results.map((r) => `${text(r.rows)} ${round(r.floors[0].seconds)} s and ${round(r.floors[1].seconds)} s`).join('; ')}.`,
        ...results.map(
          (r) =>
            `Server work, ${text(r.rows)} rows (pg_stat_database, pg_stat_user_tables, WAL position; the daemon's start, import and sync to ${r.user.devices} devices): ${r.work.commits} transactions committed (reads included), ${r.work.rowsInserted} rows inserted, ${r.work.rowsUpdated} updated, ${r.work.rowsDeleted} deleted, ${round(r.work.walBytes / 2 ** 20)} MiB of WAL (${round(r.work.walBytes / r.rows)} B per user). The floor: ${r.floorWork.commits} transactions, ${r.floorWork.rowsInserted} rows, ${round(r.floorWork.walBytes / 2 ** 20)} MiB of WAL (${round(r.floorWork.walBytes / r.rows)} B per row).`,
        ),
        ...results.map(
          (r) =>
            `On disk after ${text(r.rows)} rows (pg_total_relation_size: heap, indexes, TOAST): ${Object.entries(r.tables)
              .map(([name, bytes]) => `${name} ${round(bytes / 2 ** 20)} MiB${name === 'users' || name === 'feed' ? ` (${round(bytes / r.rows)} B per user)` : ''}`)
              .join(', ')}; the floor's table ${round(r.floorTable / 2 ** 20)} MiB (${round(r.floorTable / r.rows)} B per row).`,
        ),
      ],
      details: { results },
    };
  },
};

if (process.argv.includes('--pg-floor')) {
  const { values } = parseArgs({
    options: { 'pg-floor': { type: 'boolean' }, file: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, user: { type: 'string' }, database: { type: 'string' }, table: { type: 'string' } },
  });
  floorChild(values.file!, { host: values.host!, port: Number(values.port), user: values.user!, database: values.database!, table: values.table! }).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`import-postgres floor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
} else {
  runIfMain(import.meta.url, importPostgresBench);
}
