/**
 * A drop folder with real parts for tests: a spool in a temp directory, a LevelDB store in
 * another, the real CSV (and datafile) watcher plugins, chokidar. Tests drop files and
 * wait for reports; logs are kept in memory so a test can look for a PIN in them.
 */
import { mkdtemp, readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pino, type Logger } from 'pino';
import { DropFolder, type DropFolderOptions } from '../../daemon/ingest/drop-folder.js';
import type { ImportReport } from '../../daemon/ingest/types.js';
import { Metrics } from '../../daemon/obs/metrics.js';
import type { PluginContext, Store, WatcherInstance } from '../../daemon/plugins/api.js';
import { tempLevelStore, type TempLevelStore } from './stores.js';
import csvWatcher from '../../plugins/watchers/csv/index.js';
import { configSchema as csvSchema } from '../../plugins/watchers/csv/schema.js';
import datafileWatcher from '../../plugins/watchers/datafile/index.js';
import { configSchema as datafileSchema } from '../../plugins/watchers/datafile/schema.js';

export function watcherContext(logger: Logger, store?: Store): PluginContext {
  return { logger, metrics: new Metrics(), signal: new AbortController().signal, dataDir: '/nonexistent', store, lookup: () => undefined };
}

export function csvWatcherFor(logger: Logger, config: Record<string, unknown> = {}): WatcherInstance {
  return csvWatcher.create(watcherContext(logger), csvSchema.parse(config));
}

export function datafileWatcherFor(logger: Logger, store: Store, config: Record<string, unknown> = {}): WatcherInstance {
  return datafileWatcher.create(watcherContext(logger, store), datafileSchema.parse(config));
}

/** A stand-in for the gateway's PIN hash in unit tests: 32 bytes, deterministic, base64. */
export const testHashPin = async (pin: string): Promise<string> => {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(`test-pin:${pin}`).digest('base64');
};

export interface SpoolHarnessOptions extends Partial<Omit<DropFolderOptions, 'store' | 'logger' | 'metrics'>> {
  csv?: Record<string, unknown>;
  /** Add the datafile watcher (after csv). */
  datafile?: Record<string, unknown>;
  /** Reuse a store (a restart); the caller cleans it up. */
  stored?: TempLevelStore;
  /** Reuse a spool directory (a restart). */
  spoolDir?: string;
}

export class SpoolHarness {
  readonly logLines: string[] = [];
  readonly reports: ImportReport[] = [];
  readonly metrics = new Metrics();
  readonly logger: Logger;
  spoolDir!: string;
  stored!: TempLevelStore;
  folder!: DropFolder;
  watchers: WatcherInstance[] = [];
  #ownsStore = true;
  #ownsSpool = true;
  #waiting: { count: number; resolve: () => void }[] = [];

  private constructor() {
    this.logger = pino({ level: 'debug' }, { write: (line: string) => void this.logLines.push(line) });
  }

  static async start(options: SpoolHarnessOptions = {}): Promise<SpoolHarness> {
    const h = new SpoolHarness();
    if (options.stored) {
      h.stored = options.stored;
      h.#ownsStore = false;
    } else {
      h.stored = await tempLevelStore();
    }
    if (options.spoolDir) {
      h.spoolDir = options.spoolDir;
      h.#ownsSpool = false;
    } else {
      h.spoolDir = await mkdtemp(join(tmpdir(), 'rollcall-spool-'));
    }
    h.watchers = [csvWatcherFor(h.logger, options.csv)];
    if (options.datafile) h.watchers.push(datafileWatcherFor(h.logger, h.stored.store, options.datafile));
    const { csv: _csv, datafile: _datafile, stored: _stored, ...rest } = options;
    h.folder = new DropFolder({
      store: h.stored.store,
      watchers: h.watchers,
      hashPin: testHashPin,
      logger: h.logger,
      metrics: h.metrics,
      stableMs: 150,
      ...rest,
      spoolDir: h.spoolDir,
      onReport: (report) => {
        h.reports.push(report);
        for (const waiter of h.#waiting.filter((w) => h.reports.length >= w.count)) waiter.resolve();
        rest.onReport?.(report);
      },
    });
    await h.folder.start();
    return h;
  }

  get store(): Store {
    return this.stored.store;
  }

  path(...parts: string[]): string {
    return join(this.spoolDir, ...parts);
  }

  /** Drops a file the way a careful writer does: written beside, then renamed in. */
  async drop(name: string, content: string | Buffer): Promise<void> {
    const temporary = join(this.spoolDir, 'incoming', `.${name}.partial`);
    await writeFile(temporary, content);
    await rename(temporary, join(this.spoolDir, 'incoming', name));
  }

  /** Resolves once `count` reports in all have come (bounded, so a broken test fails). */
  async reportsAtLeast(count: number, timeoutMs = 20_000): Promise<ImportReport[]> {
    if (this.reports.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} reports; got ${JSON.stringify(this.reports, null, 1)}`)), timeoutMs);
        this.#waiting.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    }
    return this.reports.slice(0, count);
  }

  /** Every file under the spool, relative, sorted. */
  async files(): Promise<string[]> {
    return listFiles(this.spoolDir);
  }

  async read(relativePath: string): Promise<string> {
    return readFile(join(this.spoolDir, relativePath), 'utf8');
  }

  async stop(): Promise<void> {
    await this.folder.stop();
    if (this.#ownsStore) await this.stored.cleanup();
    if (this.#ownsSpool) await rm(this.spoolDir, { recursive: true, force: true });
  }
}

export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(root, path));
    }
  };
  await walk(root);
  return out.sort();
}

/** Polls `check` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
