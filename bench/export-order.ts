/**
 * Measures a CSV export of N users from a LevelDB store in BioStar's ID order
 * (daemon/ingest/export-order.ts: IDs sorted, users read in pages) beside the store's key
 * order (one scan), each export in a child process of its own so that its peak RSS is its
 * own. IDs are 1 … N, so the two orders differ. Not one of the five benchmarks and not part
 * of the test suite (minutes at 500k):
 *
 *   node dist/bench/export-order.js [--users 500000] [--dir DIR] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { usersInIdOrder } from '../daemon/ingest/export-order.js';
import { Metrics } from '../daemon/obs/metrics.js';
import type { User } from '../daemon/model/user.js';
import { LevelStore } from '../plugins/storage/level/level-store.js';
import csvWatcher from '../plugins/watchers/csv/index.js';
import { configSchema as csvConfigSchema } from '../plugins/watchers/csv/schema.js';
import { ownPeakRssBytes } from './lib/process-stats.js';
import { siteUser } from './lib/site-users.js';

const silent = pino({ level: 'silent' });
const FILL_BATCH = 1000;

function openStore(dir: string): LevelStore {
  return new LevelStore({ location: join(dir, 'leveldb'), logger: silent });
}

async function fill(dir: string, users: number): Promise<void> {
  const store = openStore(dir);
  await store.start();
  try {
    for (let first = 0; first < users; first += FILL_BATCH) {
      const batch: User[] = [];
      for (let n = first; n < Math.min(users, first + FILL_BATCH); n++) batch.push({ ...siteUser(n), id: String(n + 1) });
      await store.commit(batch.map((user) => ({ type: 'putUser' as const, user, origin: { kind: 'server' as const } })));
    }
  } finally {
    await store.stop();
  }
}

/** One export, in this process; prints its figures as JSON. */
async function exportOnce(dir: string, order: 'key' | 'id'): Promise<void> {
  const store = openStore(dir);
  await store.start();
  try {
    const context = { logger: silent, metrics: new Metrics(), signal: new AbortController().signal, dataDir: dir, lookup: () => undefined };
    const watcher = csvWatcher.create(context, csvConfigSchema.parse({}));
    const path = join(dir, `export-${order}.csv`);
    const started = performance.now();
    const users = order === 'id' ? usersInIdOrder(store) : store.scanUsers();
    const summary = await watcher.exportUsers(users, createWriteStream(path));
    const ms = Math.round(performance.now() - started);
    const result = { order, users: summary.users, ms, peakRssMiB: Math.round(ownPeakRssBytes() / 2 ** 20), bytes: (await stat(path)).size };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await store.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '500000' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      child: { type: 'string' },
    },
  });
  if (values.child === 'key' || values.child === 'id') return exportOnce(values.dir!, values.child);
  const users = Number(values.users);
  const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'rollcall-export-order-')));
  try {
    const filling = performance.now();
    await fill(dir, users);
    console.log(`# filled ${users} users in ${Math.round(performance.now() - filling)} ms`);
    // Key order first, then ID order, then key order again: the machine is noisy.
    for (const order of ['key', 'id', 'key', 'id'] as const) {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', order, '--dir', dir], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`the ${order}-order export failed: ${child.stderr}`);
      process.stdout.write(child.stdout);
    }
  } finally {
    if (!values.keep && values.dir === undefined) await rm(dir, { recursive: true, force: true });
  }
}

await main();
