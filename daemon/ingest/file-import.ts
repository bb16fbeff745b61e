/**
 * One file in processing/, from its content hash to its place in done/ or failed/
 * (README.md, "Lifecycle of a file"). The same path serves a fresh drop, a request of the
 * admin API and a file found in processing/ at start-up after a crash: the ledger record
 * of its content says where it stands (ledger.ts).
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { isRollcallError, RollcallError } from '../errors.js';
import type { ImportRecord, IngestFile, Store, WatcherInstance } from '../plugins/api.js';
import { contentHash } from './content-hash.js';
import { writeErrorCsv } from './error-csv.js';
import { openRegularFile } from './file-type.js';
import type { ImportMetrics } from './import-metrics.js';
import { asksPinScheme, planImport, startRecord } from './ledger.js';
import { claimImport, ledgerRecordFree } from './ledger-claim.js';
import { dayFolder } from './names.js';
import type { PinRetryPolicy } from './pin-hashing.js';
import { RejectJournal } from './reject-journal.js';
import { DEFAULT_REJECT_LIMITS, unlistedNote, type RejectLimits } from './reject-limits.js';
import { duplicateReport, finishedReport, reportJson, unreadableReport, type ReportPlaces } from './report.js';
import { ImportSink, type HashPin } from './sink.js';
import { exists, freeName, syncDirectory, syncFile, writeFileAtomic, type Spool } from './spool.js';
import type { ImportProgress, ImportReport } from './types.js';

export interface FileImportContext {
  spool: Spool;
  store: Store;
  logger: Logger;
  metrics: ImportMetrics;
  hashPin: HashPin;
  /** The gateway's PIN hash scheme id now (a re-dropped file's PINs are hashed again after a switch). */
  pinHashScheme?: (options?: { signal?: AbortSignal }) => Promise<string>;
  alphanumericIds: boolean;
  rejectLimits?: RejectLimits;
  pinRetry?: PinRetryPolicy;
  /** Told when the gateway went away while PINs were hashed (a time), and when it came back. */
  onGatewayOutage?: (since: number | undefined) => void;
  now?: () => number;
  /** This instance (cluster.instanceId): the claimer of its imports in a ledger shared by several. */
  instanceId?: string;
}

/**
 * Imports `name` from processing/ with `watcher` and moves it on. Resolves with the
 * report, or with undefined when the import was interrupted (stop, or the store failed):
 * the file then stays in processing/ and its last checkpoint is where it resumes.
 */
export async function importFromProcessing(
  ctx: FileImportContext,
  name: string,
  watcher: WatcherInstance | undefined,
  signal: AbortSignal,
  onProgress?: (progress: ImportProgress) => void,
): Promise<ImportReport | undefined> {
  const now = ctx.now ?? Date.now;
  const startedAt = now();
  const path = join(ctx.spool.processing, name);
  const format = watcher?.format ?? 'unknown';
  let hash: string;
  let size: number;
  let scan: IngestFile['scan'];
  try {
    const opened = await openRegularFile(path);
    if ('refused' in opened) {
      const refusal = new RollcallError('ROLLCALL_ERR_IMPORT_REFUSED', `${name} ${opened.refused}; the drop folder takes regular files only, and this one was not read`);
      return await refuseUnread(ctx, name, format, describeError(refusal), startedAt);
    }
    if (watcher === undefined) {
      await opened.handle.close();
      return await refuseUnread(ctx, name, format, 'no running watcher takes files named like this', startedAt);
    }
    try {
      // One read for the ledger key and the watcher's own check of the bytes (its encoding).
      ({ hash, size, scan } = await contentHash(opened.handle, signal, watcher.scanner?.()));
    } finally {
      await opened.handle.close();
    }
  } catch (error) {
    if (signal.aborted) return undefined;
    return refuseUnread(ctx, name, format, `the file could not be read: ${describeError(error)}`, startedAt);
  }

  const journal = new RejectJournal(ctx.spool.journalPath(hash));
  const log = ctx.logger.child({ file: name, format, hash: hash.slice(0, 16) });
  const notes: string[] = [];
  let record: ImportRecord;
  let journaled = 0;
  // Claimed in the ledger shared with other instances (ledger-claim.ts): a claim lost to
  // another instance reads the ledger again.
  for (;;) {
    let earlier: ImportRecord | undefined;
    try {
      earlier = await ledgerRecordFree(ctx.store, ctx.instanceId, hash, log, signal);
    } catch (error) {
      if (signal.aborted) return undefined;
      throw error;
    }
    const journalExists = await exists(journal.path);
    const schemeNow = asksPinScheme(earlier, journalExists) && ctx.pinHashScheme ? await ctx.pinHashScheme({ signal }).catch(() => 'unknown') : undefined;
    const plan = planImport(earlier, journalExists, schemeNow);

    if (plan.action === 'duplicate') return duplicate(ctx, name, format, plan.record, startedAt, watcher);
    if (plan.action === 'finish') {
      log.info({ state: plan.record.state }, 'finishing an import whose end was committed before an interruption');
      return placeFinished(ctx, name, plan.record, journal, [], startedAt, watcher);
    }

    if (plan.action === 'start') {
      record = { ...startRecord(hash, name, format, startedAt), ...(ctx.instanceId === undefined ? {} : { claimedBy: ctx.instanceId }) };
      // The record first, then the journal: a journal without a running record would read
      // as an import whose end was committed (ledger.ts).
      if (!(await claimImport(ctx.store, record, earlier))) continue;
      if (schemeNow !== undefined) {
        const why = schemeNow === 'unknown' ? "the gateway's PIN hash scheme could not be read to tell" : "the gateway's PIN hash scheme is not the one that hashed them";
        notes.push(`Imported again although this content was imported before: its PINs are hashed again (${why}).`);
        log.info({ earlierScheme: earlier?.pinHashScheme, scheme: schemeNow }, 'content imported before is imported again: its PINs were hashed under another gateway scheme');
      }
      await journal.create();
      log.info({ size }, 'import started');
    } else {
      record = { ...plan.record, file: name, ...(ctx.instanceId === undefined ? {} : { claimedBy: ctx.instanceId }) };
      if (record.claimedBy !== plan.record.claimedBy && !(await claimImport(ctx.store, record, plan.record))) continue;
      const kept = await journal.resume(record.counts.failed);
      journaled = kept.rejections;
      notes.push(`resumed after an interruption, after record ${record.checkpoint}`);
      const missing = listedRows(ctx, record.counts.failed) - kept.rejections;
      if (missing > 0) notes.push(`${missing} rows rejected before the interruption are missing from the error CSV: its journal was lost`);
      log.info({ size, checkpoint: record.checkpoint, counts: record.counts }, 'import resumed from its checkpoint');
    }
    break;
  }

  const sink = new ImportSink({
    store: ctx.store,
    record,
    journal,
    watcher,
    hashPin: ctx.hashPin,
    alphanumericIds: ctx.alphanumericIds,
    signal,
    metrics: ctx.metrics,
    journaled,
    logger: log,
    ...(ctx.rejectLimits ? { rejectLimits: ctx.rejectLimits } : {}),
    ...(ctx.pinRetry ? { pinRetry: ctx.pinRetry } : {}),
    ...(ctx.onGatewayOutage ? { onGatewayOutage: ctx.onGatewayOutage } : {}),
    ...(onProgress ? { onProgress } : {}),
    now,
  });
  let finished: ImportRecord;
  // Where the watcher may write the copy kept in done/ while it reads the file (api.ts, IngestFile.keptCopy).
  const keptCopy = ctx.spool.temporaryPath(`kept-${name}`);
  const file: IngestFile = { path, name, size, keptCopy, ...(scan ? { scan } : {}) };
  try {
    try {
      await watcher.ingest(file, sink, signal);
    } catch (error) {
      if (signal.aborted || sink.storeError !== undefined) throw error;
      const reason = describeError(error);
      log.warn({ reason, handled: sink.progress().handled }, 'file refused');
      finished = await sink.refuse(reason);
      if (finished.counts.ok > 0) {
        notes.push(`${finished.counts.ok} users imported before the refusal stay imported: each batch was committed whole with its checkpoint`);
      }
    }
    finished ??= await sink.finish();
    const waits = sink.gatewayWaits;
    if (waits.outages > 0) {
      notes.push(
        `the gateway could not be reached to hash PINs ${waits.outages === 1 ? 'once' : `${waits.outages} times`} (${Math.round(waits.ms / 1000)} s in all); ` +
          'the import waited in processing/ and went on when it answered: no row was lost to it',
      );
    }
  } catch (error) {
    // A batch commit may still be in flight (accept() does not wait for its write).
    await sink.settle().catch(() => undefined);
    await journal.close();
    await removeKeptCopy(keptCopy);
    if (signal.aborted) {
      log.info({ checkpoint: sink.record.checkpoint }, 'import interrupted; it resumes from its checkpoint');
    } else {
      log.error({ err: error, checkpoint: sink.record.checkpoint }, 'import stopped: the store failed; the file stays in processing/ and resumes from its checkpoint');
    }
    return undefined;
  }
  return placeFinished(ctx, name, finished, journal, [...notes, ...sink.notes], startedAt, watcher, keptCopy);
}

/** Drops a copy the watcher wrote (or began) that will not be used. */
async function removeKeptCopy(keptCopy: string | undefined): Promise<void> {
  if (keptCopy === undefined) return;
  await rm(keptCopy, { force: true });
  await rm(`${keptCopy}.partial`, { force: true });
}

/** Rejected rows the error CSV lists: the first `errorCsvRows` of them. */
function listedRows(ctx: FileImportContext, failed: number): number {
  return Math.min(failed, (ctx.rejectLimits ?? DEFAULT_REJECT_LIMITS).errorCsvRows);
}

/** The report's note about rows whose PIN the gateway would not hash, which make the content importable again. */
function pinRefusedNote(record: ImportRecord): string | undefined {
  const rows = record.pinRefused ?? 0;
  if (rows === 0) return undefined;
  return (
    `${rows} row${rows === 1 ? '' : 's'} failed because the gateway would not hash ${rows === 1 ? 'its' : 'their'} PIN, which is not the file's fault: ` +
    'this content is not recorded as imported, so dropping the same file again imports them (rows imported now count as unchanged under preserve)'
  );
}

/**
 * Moves a handled file from processing/ to its place. A watcher that finds secrets in it
 * (a CSV's PIN column) writes a copy without them there instead, and the original goes; a
 * file that may hold secrets the watcher cannot take out is not kept at all, and
 * `withheld()` rewrites the report to say so. The original is removed last: after a crash
 * in between, the file is still in processing/ and is placed again.
 */
async function archive(watcher: WatcherInstance | undefined, from: string, to: string, withheld: () => Promise<void>, keptCopy?: string): Promise<void> {
  if (keptCopy !== undefined && (await exists(keptCopy))) {
    // The watcher wrote the copy while it read the file: no second read for it.
    await rename(keptCopy, to);
    await rm(from);
    return;
  }
  await removeKeptCopy(keptCopy);
  const kept = watcher?.redactedCopy ? await watcher.redactedCopy(from, to) : 'as-dropped';
  if (kept === 'as-dropped') {
    await rename(from, to);
    return;
  }
  if (kept === 'withheld') await withheld();
  await rm(from);
}

/** A report without the path of its file (which was not kept). */
function withheld(report: ImportReport): ImportReport {
  const { path: _notKept, ...rest } = report;
  return rest;
}

const WITHHELD_NOTE = 'the file could not be read and may hold plaintext PINs, so it was not kept: fix it where it came from and drop it again';

/**
 * Writes the error CSV and the report beside where the file goes, then moves the file,
 * then drops the journal. Each step can be repeated after a crash: the file is moved
 * last, so a file still in processing/ has not been finished.
 */
async function placeFinished(
  ctx: FileImportContext,
  name: string,
  record: ImportRecord,
  journal: RejectJournal,
  notes: string[],
  runStartedAt: number,
  watcher?: WatcherInstance,
  keptCopy?: string,
): Promise<ImportReport> {
  await journal.close();
  const { spool } = ctx;
  const dir = record.state === 'done' ? join(spool.done, dayFolder(new Date(record.finishedAt ?? Date.now()))) : spool.failed;
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const placed = await freeName(dir, name);
  const places: ReportPlaces = { path: relative(spool.root, join(dir, placed)), reportJson: relative(spool.root, join(dir, `${placed}.report.json`)) };
  if (record.counts.failed > 0) {
    const errorsPath = join(dir, `${placed}.errors.csv`);
    const temporary = spool.temporaryPath('errors.csv');
    const listed = listedRows(ctx, record.counts.failed);
    const kept = await writeErrorCsv(journal.path, listed, temporary);
    await syncFile(temporary);
    await rename(temporary, errorsPath);
    places.errorsCsv = relative(spool.root, errorsPath);
    const missing = listed - kept;
    if (missing > 0 && !notes.some((note) => note.includes('missing from the error CSV'))) {
      notes.push(`${missing} rows rejected before an interruption are missing from the error CSV: its journal was lost`);
    }
    const unlisted = unlistedNote(record.counts.failed, listed);
    if (unlisted !== undefined) notes.push(unlisted);
  }
  const refusedPins = pinRefusedNote(record);
  if (refusedPins !== undefined) notes.push(refusedPins);
  let report = finishedReport(record, notes, places);
  await writeFileAtomic(spool.temporaryPath('report.json'), join(spool.root, places.reportJson), reportJson(report));
  await archive(watcher, join(spool.processing, name), join(spool.root, places.path), async () => {
    report = withheld(finishedReport(record, [...notes, WITHHELD_NOTE], places));
    await writeFileAtomic(spool.temporaryPath('report.json'), join(spool.root, places.reportJson), reportJson(report));
  }, keptCopy);
  await syncDirectory(dir);
  await journal.remove();

  const result = record.state === 'done' ? 'done' : 'failed';
  ctx.metrics.files.inc({ format: record.format, result });
  ctx.metrics.duration.observe({ format: record.format }, ((ctx.now ?? Date.now)() - runStartedAt) / 1000);
  ctx.logger.info(
    { file: name, format: record.format, state: record.state, rows: report.rows, path: places.path, errorsCsv: places.errorsCsv },
    record.state === 'done' ? 'import done' : 'import refused',
  );
  return report;
}

async function duplicate(ctx: FileImportContext, name: string, format: string, earlier: ImportRecord, startedAt: number, watcher: WatcherInstance): Promise<ImportReport> {
  const { spool } = ctx;
  const now = (ctx.now ?? Date.now)();
  const dir = join(spool.done, dayFolder(new Date(now)));
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const placed = await freeName(dir, name);
  const places: ReportPlaces = { path: relative(spool.root, join(dir, placed)), reportJson: relative(spool.root, join(dir, `${placed}.report.json`)) };
  const report = duplicateReport(name, format, earlier, startedAt, now, places);
  await ctx.store.commit([
    {
      type: 'appendEvent',
      event: {
        kind: 'import.duplicate',
        message: `Import of ${name} skipped: ${report.reason}`,
        detail: { file: name, format, hash: earlier.hash, earlierFile: earlier.file },
      },
    },
  ]);
  await writeFileAtomic(spool.temporaryPath('report.json'), join(spool.root, places.reportJson), reportJson(report));
  await archive(watcher, join(spool.processing, name), join(spool.root, places.path), async () => {
    const withheldReport = withheld({ ...report, notes: [...report.notes, WITHHELD_NOTE] });
    await writeFileAtomic(spool.temporaryPath('report.json'), join(spool.root, places.reportJson), reportJson(withheldReport));
  });
  await syncDirectory(dir);
  ctx.metrics.files.inc({ format, result: 'duplicate' });
  ctx.logger.info({ file: name, format, earlierFile: earlier.file, path: places.path }, 'duplicate skipped');
  return report;
}

/** A file refused before it had a ledger record: no watcher takes it, or it cannot be read. */
export async function refuseUnread(ctx: FileImportContext, name: string, format: string, reason: string, startedAt: number): Promise<ImportReport> {
  const { spool } = ctx;
  const placed = await freeName(spool.failed, name);
  const places: ReportPlaces = { path: relative(spool.root, join(spool.failed, placed)), reportJson: relative(spool.root, join(spool.failed, `${placed}.report.json`)) };
  const finishedAt = (ctx.now ?? Date.now)();
  const report = unreadableReport(name, format, reason, startedAt, finishedAt, places);
  await ctx.store.commit([
    { type: 'appendEvent', event: { kind: 'import.failed', message: `Import of ${name} failed: ${reason}`, detail: { file: name, format, reason } } },
  ]);
  await writeFileAtomic(spool.temporaryPath('report.json'), join(spool.root, places.reportJson), reportJson(report));
  await rename(join(spool.processing, name), join(spool.root, places.path));
  await syncDirectory(spool.failed);
  ctx.metrics.files.inc({ format, result: 'failed' });
  ctx.logger.warn({ file: name, reason, path: places.path }, 'file refused');
  return report;
}

/** A refusal's reason: the stable code first when there is one, so an operator can grep for it. */
export function describeError(error: unknown): string {
  if (isRollcallError(error)) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
