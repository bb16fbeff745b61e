/**
 * Benchmark 1, import: a deterministic BioStar CSV of each size through the real
 * drop-folder path into LevelDB: DropFolder.importFile() with the CSV watcher (the daemon's
 * default settings) and the level store, until the file's report is out (encoding check,
 * content hash, parse, mapping and validation, merge with stored users, one commit per
 * 500 rows with its checkpoint, the file moved to done/).
 *
 * Baseline in the same run, on the same file: the same parser (decodeText + readCsv)
 * streaming the file, and classic-level batched writes (500 per batch) of the equivalent
 * user records, with no validation, merging, feed or checkpoint.
 *
 * Each run is a child process of its own, so that its peak RSS (getrusage maxrss, read
 * in the child) is its own. Sizes run smallest first; baseline and measured back to back.
 *
 *   node dist/bench/import.js [--quick] [--rows 50000,200000,500000]
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import { pino } from 'pino';
import { csnToCardData } from '../daemon/model/csn.js';
import { CardType, emptyUser, type User } from '../daemon/model/user.js';
import { DropFolder } from '../daemon/ingest/drop-folder.js';
import { Metrics } from '../daemon/obs/metrics.js';
import type { WatcherInstance } from '../daemon/plugins/api.js';
import { LevelStore } from '../plugins/storage/level/level-store.js';
import csvWatcher from '../plugins/watchers/csv/index.js';
import { configSchema as csvConfigSchema } from '../plugins/watchers/csv/schema.js';
import { decodeText } from '../plugins/watchers/csv/decode.js';
import { readCsv } from '../plugins/watchers/csv/reader.js';
import { writeBiostarCsv } from './lib/biostar-csv.js';
import { ownPeakRssBytes } from './lib/process-stats.js';
import { runIfMain, type BenchContext, type BenchDefinition, type BenchOutcome } from './lib/run.js';
import type { ResultRow } from './lib/results.js';
import { costRatio, round } from './lib/stats.js';

interface ChildResult {
  rows: number;
  seconds: number;
  peakRssBytes: number;
  stored: number;
}

const silent = pino({ level: 'silent' });
const BATCH = 500;

/** The real path: the drop folder, the CSV watcher, the level store. */
async function measured(file: string, dir: string): Promise<ChildResult> {
  const store = new LevelStore({ location: join(dir, 'leveldb'), logger: silent });
  await store.start();
  const abort = new AbortController();
  const metrics = new Metrics();
  const context = { logger: silent, metrics, signal: abort.signal, dataDir: dir, store, lookup: () => undefined };
  const watcher = csvWatcher.create(context, csvConfigSchema.parse({})) as WatcherInstance;
  const drop = new DropFolder({
    spoolDir: join(dir, 'spool'),
    store,
    watchers: [watcher],
    hashPin: () => Promise.reject(new Error('the benchmark file has no PINs')),
    logger: silent,
    metrics,
  });
  await drop.start(abort.signal);
  const t0 = performance.now();
  const report = await drop.importFile(file);
  const t1 = performance.now();
  await drop.stop();
  const stored = await store.countUsers();
  await store.stop();
  if (report.state !== 'done' || report.rows.failed > 0) throw new Error(`the import did not go through: ${JSON.stringify(report)}`);
  return { rows: report.rows.imported, seconds: (t1 - t0) / 1000, peakRssBytes: ownPeakRssBytes(), stored };
}

/** The floor: the same parser streaming the file, batched writes of equivalent records. */
async function baseline(file: string, dir: string): Promise<ChildResult> {
  const db = new Level<string, string>(join(dir, 'baseline'), { valueEncoding: 'utf8' });
  await db.open();
  const t0 = performance.now();
  let ops: { type: 'put'; key: string; value: string }[] = [];
  let rows = 0;
  const seconds = (text: string): number => Math.floor(Date.parse(`${text.replace(' ', 'T')}Z`) / 1000);
  for await (const event of readCsv(decodeText(createReadStream(file)), { delimiter: ',', startRow: 2 })) {
    if (event.kind !== 'row') continue;
    const c = event.cells;
    const user: User = {
      ...emptyUser(c[0]!),
      name: c[1]!,
      department: c[2]!,
      title: c[3]!,
      phone: c[4]!,
      email: c[5]!,
      userGroup: c[6]!,
      startTime: seconds(c[7]!),
      endTime: seconds(c[8]!),
      cards: [{ type: CardType.CSN, data: csnToCardData(BigInt(c[9]!)) }],
    };
    ops.push({ type: 'put', key: user.id, value: JSON.stringify(user) });
    rows++;
    if (ops.length >= BATCH) {
      await db.batch(ops);
      ops = [];
    }
  }
  if (ops.length > 0) await db.batch(ops);
  const t1 = performance.now();
  let stored = 0;
  for await (const _ of db.keys()) stored++;
  await db.close();
  return { rows, seconds: (t1 - t0) / 1000, peakRssBytes: ownPeakRssBytes(), stored };
}

/** Runs one import in a child process of its own and reads its result. */
function inChild(kind: 'measured' | 'baseline', file: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, '--file', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the ${kind} import exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
}

async function child(kind: string, file: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `rollcall-bench-import-${kind}-`));
  try {
    const result = kind === 'measured' ? await measured(file, dir) : await baseline(file, dir);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const importBench: BenchDefinition = {
  name: 'import',
  title: 'CSV import',
  options: { rows: { type: 'string' } },
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const sizes = typeof ctx.values['rows'] === 'string' ? (ctx.values['rows'] as string).split(',').map(Number) : ctx.profile === 'quick' ? [5_000, 20_000] : [50_000, 200_000, 500_000];
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-bench-csv-'));
    const results: { rows: number; fileBytes: number; measured: ChildResult; baseline: ChildResult }[] = [];
    try {
      for (const rows of sizes) {
        const file = join(dir, `users_${rows}.csv`);
        const fileBytes = await writeBiostarCsv(file, rows);
        if ((await stat(file)).size !== fileBytes) throw new Error('the CSV was not written whole');
        const base = await inChild('baseline', file);
        ctx.log(`${rows} rows: baseline ${round(base.seconds)} s, peak RSS ${round(base.peakRssBytes / 2 ** 20)} MiB`);
        const real = await inChild('measured', file);
        ctx.log(`${rows} rows: drop folder ${round(real.seconds)} s, peak RSS ${round(real.peakRssBytes / 2 ** 20)} MiB`);
        if (real.stored !== rows || base.stored !== rows) throw new Error(`${rows} rows: stored ${real.stored} (drop folder), ${base.stored} (baseline)`);
        results.push({ rows, fileBytes, measured: real, baseline: base });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const rowsOut: ResultRow[] = [];
    const text = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));
    const largest = results[results.length - 1]!;
    for (const r of results) {
      const ratio = costRatio(r.measured.seconds, r.baseline.seconds);
      rowsOut.push({
        figure: `${text(r.rows)} rows, rate`,
        measured: { value: r.rows / r.measured.seconds, unit: 'rows/s' },
        baseline: { value: r.rows / r.baseline.seconds, unit: 'rows/s', label: 'same parser + batched classic-level writes' },
        ratio,
        budget: { text: '≤ 2× the baseline', pass: ratio <= 2 },
      });
      rowsOut.push({
        figure: `${text(r.rows)} rows, time`,
        measured: { value: r.measured.seconds, unit: 's' },
        baseline: { value: r.baseline.seconds, unit: 's', label: 'baseline' },
        ratio,
        ...(r === largest && ctx.profile === 'full' ? { budget: { text: '500k rows ≤ 20 s', pass: r.measured.seconds <= 20 } } : {}),
      });
      rowsOut.push({
        figure: `${text(r.rows)} rows, peak RSS`,
        measured: { value: r.measured.peakRssBytes, unit: 'B' },
        baseline: { value: r.baseline.peakRssBytes, unit: 'B', label: 'baseline' },
        ratio: costRatio(r.measured.peakRssBytes, r.baseline.peakRssBytes),
        budget: { text: '≤ 300 MB (286 MiB)', pass: r.measured.peakRssBytes <= 300e6 },
      });
    }
    const rss = results.map((r) => r.measured.peakRssBytes);
    const flatness = Math.max(...rss) / Math.min(...rss);
    rowsOut.push({
      figure: `peak RSS across sizes (largest ÷ smallest, ${text(results[0]!.rows)} to ${text(largest.rows)} rows)`,
      measured: { value: flatness, unit: '×' },
      budget: { text: 'flat: ≤ 1.25×', pass: flatness <= 1.25 },
    });
    return {
      rows: rowsOut,
      notes: [
        `Files: ${results.map((r) => `${text(r.rows)} rows = ${round(r.fileBytes / 2 ** 20)} MiB`).join(', ')}; columns user_id, name, department, user_title, phone, email, user_group, start_datetime, expiry_datetime, csn (one CSN card each, no PIN: a PIN is hashed by the gateway, which this benchmark leaves out), UTF-8 with BOM, CRLF. Every row is new to the database.`,
        'Measured: `DropFolder.importFile()` (copy into incoming/, encoding check, content hash, the CSV watcher\'s parse, column mapping and row validation, merge with stored users, one store commit per 500 rows with the ledger checkpoint, the move to done/) with the CSV watcher\'s default settings and the level store (LevelDB in a temp dir), in a fresh process per run.',
        'The time ratio is the rate ratio: drop-folder time ÷ baseline time. "Flat" is read as the largest peak RSS at most 1.25× the smallest.',
      ],
      details: { results },
    };
  },
};

const isChild = process.argv.includes('--child');
if (isChild) {
  const { values } = parseArgs({ options: { child: { type: 'string' }, file: { type: 'string' } } });
  child(values.child!, values.file!).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`import ${values.child}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
} else {
  runIfMain(import.meta.url, importBench);
}
