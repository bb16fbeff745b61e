/**
 * The drop folder (ARCHITECTURE §3, §6): takes files dropped into the spool's incoming/
 * once they stop changing, one at a time in the order they settled, hands each to the
 * watcher whose pattern matches, and moves it on to done/ or failed/ with its report.
 * It also writes exports to outgoing/, on request and on schedule.
 *
 * Start-up order: the spool folders; then any file left in processing/ by a crash, which
 * resumes from its checkpoint (or finishes, if its end was committed); then the files
 * already waiting in incoming/; then whatever chokidar reports. A file that breaks
 * anything is reported and the folder goes on with the next one.
 *
 * Over 400 lines: it is the one owner of the folder's state (the queue, claimed and
 * settling names, waiters, the file in progress) that start, stop, the watcher's events,
 * requests of the admin API and exports all touch; what one file goes through is in
 * file-import.ts, and the pure parts are in their own files.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { copyFile, lstat, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { RollcallError } from '../errors.js';
import type { Metrics } from '../obs/metrics.js';
import type { HealthReport, Store, WatcherInstance } from '../plugins/api.js';
import { usersInIdOrder } from './export-order.js';
import { ExportTriggers, type ExportTrigger } from './export-triggers.js';
import { writeExport, type Exporter } from './export.js';
import { importFromProcessing, type FileImportContext } from './file-import.js';
import { importMetrics, type ImportMetrics } from './import-metrics.js';
import { defaultExportName, describePatterns, isTemporaryName, watcherFor } from './names.js';
import type { HashPin, PinRetryPolicy } from './pin-hashing.js';
import type { RejectLimits } from './reject-limits.js';
import { Spool, exists, freeName } from './spool.js';
import { SettlingFiles, type FileStat } from './stability.js';
import type { ExportResult, ImportProgress, ImportReport } from './types.js';

export { exportTriggersFrom, type ExportTrigger } from './export-triggers.js';
export type { HashPin, PinRetryPolicy } from './pin-hashing.js';
export type { RejectLimits } from './reject-limits.js';

export interface DropFolderOptions {
  /** The spool directory; incoming/ processing/ done/ failed/ outgoing/ are made under it. */
  spoolDir: string;
  store: Store;
  /** The running watcher plugins; a name goes to the first whose pattern matches. */
  watchers: readonly WatcherInstance[];
  /**
   * The transport's hashPin. While the gateway cannot be reached the import waits for it
   * (with `pinRetry` backoff); when it answers with a refusal, the rows fail with the reason.
   */
  hashPin: HashPin;
  /** The gateway's PIN hash scheme id (transport.pinHashScheme); absent: a re-dropped file is never rehashed. */
  pinHashScheme?: (options?: { signal?: AbortSignal }) => Promise<string>;
  /** Backoff while the gateway cannot be reached to hash PINs. Default 1 s × 1.6 up to 60 s. */
  pinRetry?: PinRetryPolicy;
  /** When a file with many rejected rows is refused; how many the error CSV keeps (reject-limits.ts). */
  rejectLimits?: RejectLimits;
  logger: Logger;
  metrics: Metrics;
  /** Whether the site takes alphanumeric user IDs (read per file when a function). Default false. */
  siteAlphanumericIds?: boolean | (() => boolean);
  /** How long a file's size and mtime must stay the same before it is taken. Default 1000. */
  stableMs?: number;
  /** How often settling files are looked at. Default a quarter of stableMs, 20 to 250 ms. */
  pollMs?: number;
  /** Scheduled exports. */
  exports?: readonly ExportTrigger[];
  /** How long stop() waits for the file in progress to reach a commit. Default 5000. */
  stopTimeoutMs?: number;
  /** This instance (cluster.instanceId), the claimer of its imports in a ledger several instances share (ledger-claim.ts). */
  instanceId?: string;
  /** Every import's progress after each commit (the admin API's importFile has its own). */
  onProgress?: (progress: ImportProgress) => void;
  /** Every file's report once it has been moved on. */
  onReport?: (report: ImportReport) => void;
  /** Every import's end, whatever its outcome (import-hold.ts). */
  onImportEnd?: () => void;
}

export interface ImportRequestOptions {
  /** Stops waiting (rejects with its reason); the import itself goes on in the drop folder. */
  signal?: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
}

export interface DropFolderStatus {
  state: 'created' | 'running' | 'stopping' | 'stopped';
  /** The file being imported, how far it is, and since when it waits for the gateway to hash PINs. */
  current?: { file: string; progress?: ImportProgress; waitingForGatewaySince?: string };
  /** Files waiting their turn, in order. */
  queued: string[];
  /** Files in incoming/ still being written (not yet stable). */
  settling: string[];
  lastReport?: ImportReport;
  nextExports: { format: string; at: string }[];
}

type QueueItem = { kind: 'file'; name: string; from: 'incoming' | 'processing' } | { kind: 'sweep' };

interface Waiter {
  resolve(report: ImportReport): void;
  reject(error: unknown): void;
  onProgress?: (progress: ImportProgress) => void;
}

const DEFAULT_STABLE_MS = 1000;
const DEFAULT_STOP_TIMEOUT_MS = 5000;

export class DropFolder {
  readonly #o: DropFolderOptions;
  readonly #spool: Spool;
  #state: DropFolderStatus['state'] = 'created';
  #controller = new AbortController();
  #metrics: ImportMetrics | undefined;
  #settling: SettlingFiles | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #fsWatcher: FSWatcher | undefined;
  #exportTriggers: ExportTriggers | undefined;
  readonly #queue: QueueItem[] = [];
  /** Names in incoming/ that are queued, so a chokidar event for them is not taken twice. */
  readonly #claimed = new Set<string>();
  readonly #waiters = new Map<string, Waiter[]>();
  /** Names that broke the host itself; left alone until the next start. */
  readonly #poisoned = new Set<string>();
  /** Names no watcher takes, warned about once. */
  readonly #unclaimed = new Set<string>();
  readonly #exportsRunning = new Set<Promise<unknown>>();
  #worker: Promise<void> | undefined;
  #current: DropFolderStatus['current'];
  #lastReport: ImportReport | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: DropFolderOptions) {
    this.#o = options;
    this.#spool = new Spool(resolve(options.spoolDir));
  }

  get spool(): Spool {
    return this.#spool;
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.#state !== 'created') throw new Error(`cannot start a drop folder that is ${this.#state}`);
    signal?.throwIfAborted();
    signal?.addEventListener('abort', () => this.#controller.abort(signal.reason), { once: true });
    const { logger } = this.#o;
    const spool = this.#spool;
    this.#metrics = importMetrics(this.#o.metrics, this.#o.watchers);
    this.#settling = new SettlingFiles(this.#o.stableMs ?? DEFAULT_STABLE_MS);
    await spool.create();
    this.#throwIfStopped();

    // A crash leaves at most the file that was being imported, its journal and
    // half-written report files; the file resumes before anything new is taken.
    const left = await spool.processingEntries();
    await spool.removeTemporary(left.temporary);
    this.#throwIfStopped();
    this.#state = 'running';
    for (const name of left.files) this.#enqueue({ kind: 'file', name, from: 'processing' });
    this.#enqueue({ kind: 'sweep' });
    if (left.files.length > 0) logger.info({ files: left.files }, 'resuming files left in processing/');

    // Watch first, then list: a file dropped in between is seen by one or the other (or
    // both, which SettlingFiles takes once).
    const incoming = spool.incoming;
    const fsWatcher = watch(incoming, {
      depth: 0,
      ignoreInitial: true,
      persistent: true,
      // A link is reported as itself, never followed: it is refused unread (file-type.ts).
      followSymlinks: false,
      ignored: (path: string) => path !== incoming && isTemporaryName(basename(path)),
    });
    this.#fsWatcher = fsWatcher;
    const seen = (path: string): void => {
      if (dirname(path) === incoming) this.#observe(basename(path));
    };
    fsWatcher.on('add', seen);
    fsWatcher.on('change', seen);
    // A directory named like a file a watcher takes is refused like a link; other directories are left alone.
    fsWatcher.on('addDir', (path: string) => {
      if (dirname(path) === incoming && watcherFor(basename(path), this.#o.watchers) !== undefined) seen(path);
    });
    fsWatcher.on('unlink', (path: string) => this.#settling?.forget(basename(path)));
    fsWatcher.on('error', (error: unknown) => logger.error({ err: error }, 'watching incoming/ failed'));
    // A stop closes the watcher, which then never says ready.
    await new Promise<void>((ready) => {
      fsWatcher.once('ready', ready);
      if (this.#controller.signal.aborted) ready();
      else this.#controller.signal.addEventListener('abort', () => ready(), { once: true });
    });
    this.#throwIfStopped();
    await this.#scanIncoming();
    this.#throwIfStopped();

    this.#exportTriggers = new ExportTriggers({ run: (trigger) => this.#scheduledExport(trigger), logger });
    this.#exportTriggers.set(this.#o.exports ?? []);
    logger.info({ spool: spool.root, watchers: describePatterns(this.#o.watchers) }, 'drop folder watching incoming/');
  }

  /** A stop (or the start's signal) came while start() awaited: start no more (stop() closed what was open). */
  #throwIfStopped(): void {
    if (this.#stopping !== undefined || this.#controller.signal.aborted) {
      throw new RollcallError('ROLLCALL_ERR_PLUGIN_FAILED', 'the drop folder was stopped while it was starting');
    }
  }

  /**
   * Stops taking files, aborts the import in progress (its last commit is where it
   * resumes) and waits for it within the deadline, then for exports under way.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#state === 'created') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    this.#controller.abort(new Error('the drop folder is stopping'));
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    const stopped = new Error('the drop folder stopped before this file was imported');
    for (const item of this.#queue.splice(0)) if (item.kind === 'file') this.#settle(item.name, undefined, stopped);
    const closing = [this.#fsWatcher?.close(), this.#exportTriggers?.stop(), this.#worker, ...this.#exportsRunning];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.#o.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    });
    const outcome = await Promise.race([Promise.allSettled(closing), deadline]);
    clearTimeout(timer);
    if (outcome === 'late') this.#o.logger.warn('the drop folder did not stop within its deadline; the last checkpoint is where the import resumes');
    this.#state = 'stopped';
  }

  health(): HealthReport {
    if (this.#state !== 'running') return { ok: false, detail: this.#state };
    const problems = this.#exportTriggers?.problems ?? [];
    const current = this.#current;
    const waiting = current?.waitingForGatewaySince ? `, waiting since ${current.waitingForGatewaySince} for the gateway to hash PINs` : '';
    const doing = current ? `importing ${current.file}${current.progress ? ` (${current.progress.handled} records)` : ''}${waiting}` : 'idle';
    return { ok: true, detail: [doing, ...problems].join('; ') };
  }

  status(): DropFolderStatus {
    return {
      state: this.#state,
      ...(this.#current ? { current: { ...this.#current } } : {}),
      queued: this.#queue.flatMap((item) => (item.kind === 'file' ? [item.name] : [])),
      settling: this.#settling?.names() ?? [],
      ...(this.#lastReport ? { lastReport: this.#lastReport } : {}),
      nextExports: (this.#exportTriggers?.next() ?? []).map(({ format, at }) => ({ format, at: at.toISOString() })),
    };
  }

  /** Replaces the export schedules (a reload). */
  setExportTriggers(triggers: readonly ExportTrigger[]): void {
    if (this.#state === 'running') this.#exportTriggers?.set(triggers);
  }

  /**
   * Imports a file on request (admin API, CLI): copies it into incoming/ under its name
   * (numbered when taken) and queues it at once, without waiting for it to settle.
   * Resolves with its report once it has been moved on.
   */
  async importFile(path: string, options: ImportRequestOptions = {}): Promise<ImportReport> {
    if (this.#state !== 'running') throw new RollcallError('ROLLCALL_ERR_ADMIN_REQUEST', `the drop folder is ${this.#state}`);
    options.signal?.throwIfAborted();
    const source = resolve(path);
    const name = basename(source);
    if (isTemporaryName(name) || watcherFor(name, this.#o.watchers) === undefined) {
      throw new RollcallError(
        'ROLLCALL_ERR_ADMIN_REQUEST',
        `no watcher takes a file named ${JSON.stringify(name)} (${describePatterns(this.#o.watchers)})`,
      );
    }
    const incoming = this.#spool.incoming;
    let target = name;
    if (dirname(source) === incoming) {
      // Already dropped: take it now instead of copying it beside itself.
      if (this.#claimed.has(name)) throw new RollcallError('ROLLCALL_ERR_ADMIN_REQUEST', `${name} is already queued`);
      this.#settling?.forget(name);
      this.#claimed.add(name);
    } else {
      target = await freeName(incoming, name, (candidate) => this.#claimed.has(candidate) || this.#settling?.has(candidate) === true);
      this.#claimed.add(target);
      const partial = join(incoming, `.${target}.${randomBytes(4).toString('hex')}.partial`);
      try {
        await copyFile(source, partial, constants.COPYFILE_EXCL);
        await rename(partial, join(incoming, target));
      } catch (error) {
        this.#claimed.delete(target);
        await rm(partial, { force: true });
        throw error;
      }
    }
    const report = new Promise<ImportReport>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
      this.#waiters.set(target, [...(this.#waiters.get(target) ?? []), waiter]);
    });
    this.#queue.push({ kind: 'file', name: target, from: 'incoming' });
    this.#kick();
    const signal = options.signal;
    if (!signal) return report;
    return new Promise<ImportReport>((resolve, reject) => {
      const abandon = (): void => reject(signal.reason);
      signal.addEventListener('abort', abandon, { once: true });
      report.then(resolve, reject).finally(() => signal.removeEventListener('abort', abandon));
    });
  }

  /**
   * Writes every user in `format` through its watcher's exporter: into outgoing/ under the
   * watcher's export name, or into `out` (a folder: under that name; otherwise the file
   * path itself), first as a hidden `.NAME.partial`, then renamed.
   */
  async exportUsers(format: string, options: { out?: string; signal?: AbortSignal } = {}): Promise<ExportResult> {
    if (this.#state !== 'running') throw new RollcallError('ROLLCALL_ERR_ADMIN_REQUEST', `the drop folder is ${this.#state}`);
    const watcher = this.#o.watchers.find((w) => w.format === format);
    if (!watcher) {
      const known = this.#o.watchers.map((w) => w.format).join(', ') || 'none';
      throw new RollcallError('ROLLCALL_ERR_ADMIN_REQUEST', `no running watcher exports ${JSON.stringify(format)} (running: ${known})`);
    }
    if (!watcher.exportUsers) throw new RollcallError('ROLLCALL_ERR_ADMIN_REQUEST', `the ${format} watcher does not write exports`);
    const exporter: Exporter = { exportUsers: watcher.exportUsers.bind(watcher), exportHoldsSecrets: watcher.exportHoldsSecrets === true };
    const now = new Date();
    let dir = this.#spool.outgoing;
    let name: string | undefined;
    if (options.out !== undefined) {
      const out = resolve(options.out);
      const isDir = await stat(out).then((s) => s.isDirectory(), () => false);
      if (isDir) dir = out;
      else [dir, name] = [dirname(out), basename(out)];
    }
    name ??= await freeName(dir, watcher.exportName?.(now) ?? defaultExportName(now, watcher));
    const signal = options.signal ? AbortSignal.any([options.signal, this.#controller.signal]) : this.#controller.signal;
    const work = this.#export(format, exporter, dir, name, signal);
    this.#exportsRunning.add(work);
    try {
      return await work;
    } finally {
      this.#exportsRunning.delete(work);
    }
  }

  async #export(format: string, exporter: Exporter, dir: string, name: string, signal: AbortSignal): Promise<ExportResult> {
    const metrics = this.#metrics!;
    const { store, logger } = this.#o;
    try {
      // BioStar's order (1, 2, …, 1001), not the store's key order (1, 1001, 2).
      const written = await writeExport(usersInIdOrder(store, { signal }), exporter, dir, name, signal);
      metrics.exports.inc({ format, result: 'done' });
      await store.commit([
        {
          type: 'appendEvent',
          event: { kind: 'export.done', message: `Export of ${written.users} users to ${name}`, detail: { format, path: written.path, users: written.users } },
        },
      ]);
      logger.info({ format, path: written.path, users: written.users }, 'export written');
      return { format, path: written.path, users: written.users };
    } catch (error) {
      metrics.exports.inc({ format, result: 'failed' });
      const reason = error instanceof Error ? error.message : String(error);
      await store
        .commit([{ type: 'appendEvent', event: { kind: 'export.failed', message: `Export to ${name} failed: ${reason}`, detail: { format, reason } } }])
        .catch(() => undefined);
      logger.error({ err: error, format }, 'export failed');
      throw error;
    }
  }

  async #scheduledExport(trigger: ExportTrigger): Promise<void> {
    await this.exportUsers(trigger.format, trigger.dir === undefined ? {} : { out: trigger.dir });
  }

  // ---------------------------------------------------------------------------
  // incoming/

  async #scanIncoming(): Promise<void> {
    const entries: Dirent[] = await readdir(this.#spool.incoming, { withFileTypes: true });
    const files: { name: string; mtimeMs: number }[] = [];
    for (const entry of entries) {
      if (isTemporaryName(entry.name)) continue;
      // Links, FIFOs and devices are taken to be refused; directories only when a watcher takes their name.
      if (entry.isDirectory() && watcherFor(entry.name, this.#o.watchers) === undefined) continue;
      const info = await lstat(join(this.#spool.incoming, entry.name)).catch(() => undefined);
      if (info) files.push({ name: entry.name, mtimeMs: info.mtimeMs });
    }
    // Oldest first: the order they were dropped in, as near as the folder can tell.
    files.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const file of files) this.#observe(file.name);
  }

  #observe(name: string): void {
    if (this.#state !== 'running' || isTemporaryName(name) || this.#claimed.has(name) || this.#poisoned.has(name)) return;
    if (watcherFor(name, this.#o.watchers) === undefined) {
      if (!this.#unclaimed.has(name)) {
        this.#unclaimed.add(name);
        this.#o.logger.warn({ file: name, watchers: describePatterns(this.#o.watchers) }, 'no running watcher takes this file; it stays in incoming/');
      }
      return;
    }
    this.#settling!.observe(name, Date.now());
    this.#schedulePoll();
  }

  #schedulePoll(): void {
    if (this.#pollTimer || this.#state !== 'running' || this.#settling!.size === 0) return;
    const stableMs = this.#o.stableMs ?? DEFAULT_STABLE_MS;
    const pollMs = this.#o.pollMs ?? Math.min(250, Math.max(20, Math.floor(stableMs / 4)));
    this.#pollTimer = setTimeout(() => {
      this.#poll().then(
        () => {
          this.#pollTimer = undefined;
          this.#schedulePoll();
        },
        (error: unknown) => {
          this.#pollTimer = undefined;
          this.#o.logger.error({ err: error }, 'looking at incoming/ failed');
          this.#schedulePoll();
        },
      );
    }, pollMs);
  }

  async #poll(): Promise<void> {
    const settling = this.#settling!;
    const stats = new Map<string, FileStat | undefined>();
    for (const name of settling.names()) {
      // lstat: a link settles as itself; whatever is not a regular file is refused once taken.
      const info = await lstat(join(this.#spool.incoming, name)).catch(() => undefined);
      stats.set(name, info ? { size: info.size, mtimeMs: info.mtimeMs } : undefined);
    }
    for (const name of settling.poll(stats, Date.now())) {
      if (this.#claimed.has(name)) continue;
      this.#enqueue({ kind: 'file', name, from: 'incoming' });
    }
  }

  // ---------------------------------------------------------------------------
  // the queue: one file at a time

  #enqueue(item: QueueItem): void {
    if (item.kind === 'file' && item.from === 'incoming') this.#claimed.add(item.name);
    this.#queue.push(item);
    this.#kick();
  }

  #kick(): void {
    if (this.#worker || this.#state !== 'running') return;
    this.#worker = this.#drain().finally(() => {
      this.#worker = undefined;
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    for (let item = this.#queue.shift(); item !== undefined; item = this.#queue.shift()) {
      if (this.#controller.signal.aborted) {
        if (item.kind === 'file') this.#settle(item.name, undefined, new Error('the drop folder stopped before this file was imported'));
        continue;
      }
      if (item.kind === 'sweep') await this.#sweep();
      else await this.#take(item.name, item.from);
    }
  }

  /** Imports one file; never throws: whatever goes wrong is about this file alone. */
  async #take(name: string, from: 'incoming' | 'processing'): Promise<void> {
    const { logger } = this.#o;
    const signal = this.#controller.signal;
    let inProcessing = name;
    let moved = from === 'processing';
    try {
      const watcher = watcherFor(name, this.#o.watchers);
      if (from === 'incoming') {
        if (!watcher) return this.#settle(name, undefined, new Error(`no running watcher takes ${name}`));
        const path = join(this.#spool.incoming, name);
        if (!(await exists(path))) return this.#settle(name, undefined, new Error(`${name} left incoming/ before it was taken`));
        inProcessing = await freeName(this.#spool.processing, name);
        await rename(path, join(this.#spool.processing, inProcessing));
        moved = true;
        // The name is free in incoming/ again: a new file under it is a new drop, even one
        // that arrived before its event could be told apart from this file's.
        this.#claimed.delete(name);
        if (await exists(path)) this.#observe(name);
      }
      this.#current = { file: inProcessing };
      const waiters = this.#waiters.get(name) ?? [];
      const onProgress = (progress: ImportProgress): void => {
        this.#current = { file: inProcessing, progress };
        this.#o.onProgress?.(progress);
        for (const waiter of waiters) waiter.onProgress?.(progress);
      };
      let report: ImportReport | undefined;
      try {
        report = await importFromProcessing(this.#context(), inProcessing, watcher, signal, onProgress);
      } finally {
        this.#o.onImportEnd?.();
      }
      if (report === undefined) {
        return this.#settle(name, undefined, new Error(`the import of ${name} was interrupted; it resumes from its checkpoint at the next start`));
      }
      this.#lastReport = report;
      this.#o.onReport?.(report);
      this.#settle(name, report);
    } catch (error) {
      // The host itself failed on this file (a disk error, a store error outside the
      // import); it stays where it is and is not tried again until the next start, where
      // a file in processing/ is taken first.
      if (!moved) this.#poisoned.add(name);
      logger.error(
        { err: error, file: name, in: moved ? 'processing/' : 'incoming/' },
        'the drop folder could not handle this file; it is left where it is until the next start',
      );
      this.#settle(name, undefined, error);
    } finally {
      this.#current = undefined;
      if (from === 'incoming') this.#claimed.delete(name);
    }
  }

  /** Drops journals of imports that are over (their file was finished or has gone). */
  async #sweep(): Promise<void> {
    try {
      const { journals } = await this.#spool.processingEntries();
      for (const hash of journals) {
        const record = await this.#o.store.getImport(hash);
        // A running import keeps its journal: dropped again, its content resumes.
        if (record?.state !== 'running') await rm(this.#spool.journalPath(hash), { force: true });
      }
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'could not tidy processing/');
    }
  }

  #settle(name: string, report: ImportReport | undefined, error?: unknown): void {
    const waiters = this.#waiters.get(name);
    if (!waiters) return;
    this.#waiters.delete(name);
    for (const waiter of waiters) {
      if (report) waiter.resolve(report);
      else waiter.reject(error);
    }
  }

  #context(): FileImportContext {
    const alphanumeric = this.#o.siteAlphanumericIds;
    return {
      spool: this.#spool,
      store: this.#o.store,
      logger: this.#o.logger,
      metrics: this.#metrics!,
      hashPin: this.#o.hashPin,
      ...(this.#o.pinHashScheme ? { pinHashScheme: this.#o.pinHashScheme } : {}),
      alphanumericIds: typeof alphanumeric === 'function' ? alphanumeric() : alphanumeric === true,
      ...(this.#o.rejectLimits ? { rejectLimits: this.#o.rejectLimits } : {}),
      ...(this.#o.pinRetry ? { pinRetry: this.#o.pinRetry } : {}),
      ...(this.#o.instanceId ? { instanceId: this.#o.instanceId } : {}),
      onGatewayOutage: (since) => {
        const current = this.#current;
        if (!current) return;
        const { waitingForGatewaySince: _was, ...rest } = current;
        this.#current = since === undefined ? rest : { ...rest, waitingForGatewaySince: new Date(since).toISOString() };
      },
    };
  }
}
