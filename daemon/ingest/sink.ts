/**
 * The host's side of one import: what a watcher hands its records to (IngestSink). Each
 * accepted batch becomes ONE store commit holding the changed users, the ledger record
 * with the new checkpoint and counts, so rows and checkpoint land together or not at all:
 * a process killed at any point resumes after the last commit with no row lost or applied
 * twice. Failed rows go to the rejection journal, made durable before the commit that
 * counts them (reject-journal.ts says why).
 *
 * A plaintext PIN is hashed through the gateway as soon as its batch arrives and dropped
 * from the record at once; it is never stored, logged or put in a reason. While the
 * gateway cannot be reached the batch waits for it (pin-hashing.ts).
 *
 * Work for a bad file is bounded: the journal keeps the first `errorCsvRows` rejections
 * only, a flush of held rejections is awaited before more rows are taken, and a file past
 * `spool.rejects` is refused as soon as it is (reject-limits.ts).
 *
 * Why one file of about 400 lines: every method reads and sets the same state of one import
 * (the record the next commit builds on, the last committed one, the batches in flight), and
 * the exactly-once guarantee lives in their order. Hashing and the journal live apart.
 */
import type { ImportMergeOptions } from '../merge/import-merge.js';
import type { User } from '../model/user.js';
import type {
  ImportRecord,
  IngestRecord,
  IngestRejection,
  IngestSink,
  Mutation,
  NewEvent,
  Store,
  WatcherInstance,
} from '../plugins/api.js';
import type { Logger } from 'pino';
import { RollcallError } from '../errors.js';
import { mergeBatch } from './batch.js';
import type { ImportMetrics } from './import-metrics.js';
import { countsOf, rowsOf } from './ledger.js';
import { PinHasher, pinFailure, type HashPin, type PinRetryPolicy } from './pin-hashing.js';
import { mergeByRow, type RejectJournal } from './reject-journal.js';
import { DEFAULT_REJECT_LIMITS, tooManyRejections, type RejectLimits } from './reject-limits.js';
import type { ImportProgress, ImportReport } from './types.js';

export type { HashPin } from './pin-hashing.js';

const DEFAULT_MERGE: ImportMergeOptions = { mode: 'preserve', blankClears: false };
/** PINs hashed at once per batch: enough to hide the gateway's round trip, few enough to be polite. */
const PIN_CONCURRENCY = 8;
/** Rejections held back to be written in row order with the next batch's; past this they are written at once. */
const PENDING_MAX = 1000;
const MAX_NOTES = 50;

export interface ImportSinkOptions {
  store: Store;
  /** The committed ledger record the import goes on from (state running). */
  record: ImportRecord;
  journal: RejectJournal;
  watcher: Pick<WatcherInstance, 'format' | 'mergeOptions'>;
  hashPin: HashPin;
  alphanumericIds: boolean;
  /** Aborts the import: nothing after the last commit is committed. */
  signal: AbortSignal;
  metrics: ImportMetrics;
  /** When a file with many rejected rows is refused; how many the journal keeps. */
  rejectLimits?: RejectLimits;
  /** Rejections the journal already holds (a resumed import). */
  journaled?: number;
  /** Waiting for a gateway that cannot be reached to hash PINs. */
  pinRetry?: PinRetryPolicy;
  /** Told when the gateway went away while hashing PINs (a time), and when it came back (undefined). */
  onGatewayOutage?: (since: number | undefined) => void;
  logger?: Logger;
  onProgress?: (progress: ImportProgress) => void;
  now?: () => number;
}

interface InFlight {
  done: Promise<void>;
  users: ReadonlyMap<string, User>;
}

export class ImportSink implements IngestSink {
  readonly resumeFrom: number;
  readonly #o: ImportSinkOptions;
  readonly #merge: ImportMergeOptions;
  readonly #notes: string[] = [];
  /** The ledger record the next commit builds on: the last one queued (accept() does not wait for its write). */
  #record: ImportRecord;
  /** The last committed ledger record. */
  #committed: ImportRecord;
  /** The last batch commit queued and the users it writes. */
  #inflight: InFlight | undefined;
  /** The one queued before it, until the next batch waits for it. */
  #older: InFlight | undefined;
  /** Resolves once the last commit made here was handed to the store. */
  #issued: Promise<void> = Promise.resolve();
  /** Records handed to accept or reject so far, counting those skipped on resume. */
  #handled: number;
  #rows: ImportReport['rows'];
  /** Rows counted in #rows but not yet in the metrics (they count once committed). */
  #uncounted: ImportReport['rows'] = { imported: 0, unchanged: 0, failed: 0 };
  /** Rejections from the watcher since the last batch, sorted by row as they come (only those the journal has room for). */
  #pending: IngestRejection[] = [];
  readonly #limits: RejectLimits;
  /** The gateway scheme of the last PIN hashed (pin-provenance.ts); undefined before one. */
  #lastScheme: string | undefined;
  /** Rejections the journal may still take (the error CSV's first rows). */
  #journalRoom: number;
  /** Rows whose PIN the gateway answered it would not hash: outside the file's fault. */
  #pinRefused: number;
  readonly #pins: PinHasher;
  /** Set when a commit failed: the store, not the file, is at fault. */
  storeError: unknown;

  constructor(options: ImportSinkOptions) {
    this.#o = options;
    this.#merge = options.watcher.mergeOptions ?? DEFAULT_MERGE;
    this.#record = this.#committed = options.record;
    this.resumeFrom = options.record.checkpoint;
    this.#handled = options.record.checkpoint;
    this.#rows = rowsOf(options.record);
    this.#limits = options.rejectLimits ?? DEFAULT_REJECT_LIMITS;
    this.#journalRoom = Math.max(0, this.#limits.errorCsvRows - (options.journaled ?? 0));
    this.#pinRefused = options.record.pinRefused ?? 0;
    this.#pins = new PinHasher({
      hashPin: options.hashPin,
      signal: options.signal,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.pinRetry ? { retry: options.pinRetry } : {}),
      ...(options.onGatewayOutage ? { onOutage: options.onGatewayOutage } : {}),
    });
  }

  /** Outages of the gateway the import waited out while hashing PINs. */
  get gatewayWaits(): { outages: number; ms: number } {
    return this.#pins.waited;
  }

  /** The last committed ledger record. */
  get record(): ImportRecord {
    return this.#committed;
  }

  get notes(): readonly string[] {
    return this.#notes;
  }

  setHeader(header: string[]): void {
    this.#o.journal.header([...header]);
  }

  note(message: string): void {
    if (this.#notes.length < MAX_NOTES && !this.#notes.includes(message)) this.#notes.push(message);
  }

  /**
   * Counts a rejected row and holds it for the journal while it has room. Returns a
   * promise when held rows are written out (the watcher awaits it before reading on);
   * throws ROLLCALL_ERR_IMPORT_REFUSED once the file is past `spool.rejects`.
   */
  reject(rejection: IngestRejection): Promise<void> | void {
    this.#handled++;
    this.#rows.failed++;
    this.#uncounted.failed++;
    if (this.#pending.length < this.#journalRoom) this.#pending.push({ row: rejection.row, raw: [...rejection.raw], reason: rejection.reason });
    this.#refuseWhenTooMany();
    if (this.#pending.length >= PENDING_MAX) return this.#journal(this.#pending.splice(0));
  }

  /**
   * Merges a batch against the stored users and queues its commit; resolves once it is
   * queued, not written. The next batch is read, merged and encoded while this one is
   * written (the write waits on LevelDB's threads, not on this one): its users are read
   * with this batch's on top (#inflight), and its commit applies only if this one's did
   * (CommitOptions.after). A failed commit fails the next call, and finish() or refuse().
   */
  async accept(records: IngestRecord[]): Promise<void> {
    const { signal, store } = this.#o;
    signal.throwIfAborted();
    if (records.length === 0) return;
    // At most one commit in flight while this batch is read: the one before it is written.
    const older = this.#older;
    this.#older = undefined;
    await older?.done.catch(() => undefined);
    this.#throwIfFailed();
    const ids = [...new Set(records.map((record) => record.patch.id))];
    const found = await store.getUsers(ids).catch((error: unknown) => {
      this.storeError ??= error;
      throw error;
    });
    // The batch in flight may or may not be written yet: its users are what the store holds.
    const written = this.#inflight?.users;
    const stored = new Map<string, User | undefined>(ids.map((id, i) => [id, written?.get(id) ?? found[i]]));
    const failed = await this.#hashPins(records, stored);
    signal.throwIfAborted();
    this.#throwIfFailed();

    const outcome = mergeBatch(records, stored, failed, { merge: this.#merge, alphanumericIds: this.#o.alphanumericIds });
    const rejections = mergeByRow(this.#pending.splice(0), outcome.rejections);
    const handled = this.#handled + records.length;
    const rows = {
      imported: this.#rows.imported + outcome.imported,
      unchanged: this.#rows.unchanged + outcome.unchanged,
      failed: this.#rows.failed + outcome.rejections.length,
    };
    const pinRefused = this.#pinRefused + failed.size;
    const scheme = this.#lastScheme ?? this.#record.pinHashScheme;
    const record: ImportRecord = {
      ...this.#record,
      checkpoint: handled,
      counts: countsOf(rows),
      ...(pinRefused > 0 ? { pinRefused } : {}),
      ...(scheme !== undefined ? { pinHashScheme: scheme } : {}),
    };
    const origin = { kind: 'import' as const, file: record.file, format: record.format };
    const committed = this.#commit(rejections, [
      ...outcome.users.map((user): Mutation => ({ type: 'putUser', user, origin })),
      { type: 'putImport', record },
    ]).then(() => {
      this.#committed = record;
      this.#uncounted.imported += outcome.imported;
      this.#uncounted.unchanged += outcome.unchanged;
      this.#uncounted.failed += outcome.rejections.length;
      this.#countRows();
      // As committed: the next batch may be queued already.
      this.#o.onProgress?.({ ...this.progress(), handled: record.checkpoint, rows: rowsOf(record) });
    });
    // Seen by the next call, finish(), refuse() or settle(); this only keeps it from counting as unhandled meanwhile.
    committed.catch(() => undefined);
    this.#older = this.#inflight;
    this.#inflight = { done: committed, users: new Map(outcome.users.map((user) => [user.id, user])) };
    // What the next batch builds on: this batch as if written (it is, or nothing after it is).
    this.#pinRefused = record.pinRefused ?? 0;
    this.#handled = handled;
    this.#rows = rows;
    this.#record = record;
    this.#refuseWhenTooMany();
  }

  /** Waits for the commit in flight; rejects with its error if it failed. */
  async settle(): Promise<void> {
    await this.#older?.done;
    await this.#inflight?.done;
  }

  /** Commits the end of a file read to the last record, with its summary event. */
  async finish(): Promise<ImportRecord> {
    await this.settle();
    const record: ImportRecord = {
      ...this.#record,
      state: 'done',
      finishedAt: this.#now(),
      checkpoint: this.#handled,
      counts: countsOf(this.#rows),
    };
    const { imported, unchanged, failed } = this.#rows;
    const event: NewEvent = {
      kind: 'import.done',
      message: `Import of ${record.file}: ${imported} imported, ${unchanged} unchanged, ${failed} failed`,
      detail: { file: record.file, format: record.format, hash: record.hash, imported, unchanged, failed },
    };
    await this.#commit(this.#pending.splice(0), [{ type: 'putImport', record }, { type: 'appendEvent', event }]);
    this.#record = this.#committed = record;
    this.#countRows();
    return record;
  }

  /**
   * Commits the refusal of the file as a whole. Batches committed before stay: each was
   * whole, with its checkpoint, and a half-applied file is what the report then says.
   */
  async refuse(reason: string): Promise<ImportRecord> {
    await this.settle();
    const record: ImportRecord = {
      ...this.#record,
      state: 'failed',
      finishedAt: this.#now(),
      checkpoint: this.#handled,
      counts: countsOf(this.#rows),
      reason,
    };
    const { imported, unchanged, failed } = this.#rows;
    const kept = imported > 0 ? ` (${imported} users imported before the refusal stay imported)` : '';
    const event: NewEvent = {
      kind: 'import.failed',
      message: `Import of ${record.file} failed: ${reason}${kept}`,
      detail: { file: record.file, format: record.format, hash: record.hash, reason, imported, unchanged, failed },
    };
    await this.#commit(this.#pending.splice(0), [{ type: 'putImport', record }, { type: 'appendEvent', event }]);
    this.#record = this.#committed = record;
    this.#countRows();
    return record;
  }

  progress(): ImportProgress {
    return {
      file: this.#record.file,
      format: this.#record.format,
      hash: this.#record.hash,
      handled: this.#handled,
      resumedFrom: this.resumeFrom,
      rows: { ...this.#rows },
    };
  }

  /** Throws the refusal of a file past `spool.rejects`; the caller commits it (refuse()). */
  #refuseWhenTooMany(): void {
    const reason = tooManyRejections(this.#rows.failed, this.#handled, this.#limits);
    if (reason !== undefined) throw new RollcallError('ROLLCALL_ERR_IMPORT_REFUSED', reason, { detail: { failed: this.#rows.failed, handled: this.#handled } });
  }

  /** Appends the rejections the journal has room for (the first ones); resolves once written. */
  #journal(rejections: readonly IngestRejection[]): Promise<void> {
    const kept = rejections.length <= this.#journalRoom ? rejections : rejections.slice(0, this.#journalRoom);
    this.#journalRoom -= kept.length;
    return this.#o.journal.append(kept);
  }

  /** The rejections reach the disk first: the commit then counts rows the journal surely holds. */
  async #commit(rejections: readonly IngestRejection[], mutations: Mutation[]): Promise<void> {
    // Taken now: the caller makes this commit the one in flight once this call returns.
    const before = this.#inflight?.done;
    // The store takes the commits in the order they were made here, whichever journal flush
    // ends first: one made `after` another it had not been given yet would wait forever.
    const previous = this.#issued;
    let issue!: () => void;
    this.#issued = new Promise<void>((resolve) => (issue = resolve));
    try {
      void this.#journal(rejections);
      await this.#o.journal.flush();
      await previous;
      const written = this.#o.store.commit(mutations, before ? { after: before } : undefined);
      issue();
      await written.catch((error: unknown) => {
        this.storeError ??= error;
        throw error;
      });
    } finally {
      issue();
    }
  }

  /** A commit failed: nothing more is merged or committed for this file. */
  #throwIfFailed(): void {
    if (this.storeError !== undefined) throw this.storeError;
  }

  /**
   * Under preserve an existing user's row is skipped, so its PIN is not hashed, unless the
   * stored hash may be of another gateway's scheme (pin-provenance.ts): then the merge takes
   * the new hash. Once a hash told this gateway's scheme, a user of that scheme is skipped.
   */
  #mayRehash(user: User | undefined): boolean {
    if (user === undefined) return true;
    if (user.pinHash === undefined || user.pinHash === '' || user.pinHashScheme === undefined) return false;
    return this.#lastScheme === undefined || user.pinHashScheme !== this.#lastScheme;
  }

  /**
   * Hashes the plaintext PINs of a batch and drops them from the records. A row whose
   * user exists under preserve is skipped by the merge anyway, so its PIN is not sent
   * (unless its stored hash may be another gateway's: #mayRehash).
   * Returns the rows whose PIN could not be hashed, with the reason.
   */
  async #hashPins(records: readonly IngestRecord[], stored: ReadonlyMap<string, User | undefined>): Promise<Map<IngestRecord, string>> {
    const failed = new Map<IngestRecord, string>();
    const work: { record: IngestRecord; pin: string }[] = [];
    for (const record of records) {
      const pin = record.patch.pin;
      if (pin === undefined) continue;
      delete record.patch.pin;
      if (this.#merge.mode === 'preserve' && !this.#mayRehash(stored.get(record.patch.id))) continue;
      work.push({ record, pin });
    }
    const { signal } = this.#o;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        const item = work[next++]!;
        try {
          // Where the hash is made: it records the gateway scheme that made it (pin-provenance.ts).
          const hashed = await this.#pins.hash(item.pin);
          if (hashed.scheme !== undefined) this.#lastScheme = hashed.scheme;
          item.record.patch.values = { ...item.record.patch.values, pinHash: hashed.hash, ...(hashed.scheme === undefined ? {} : { pinHashScheme: hashed.scheme }) };
        } catch (error) {
          signal.throwIfAborted();
          failed.set(item.record, pinFailure(error, item.pin));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PIN_CONCURRENCY, work.length) }, worker));
    return failed;
  }

  #countRows(): void {
    const { format } = this.#record;
    const rows = this.#o.metrics.rows;
    const uncounted = this.#uncounted;
    if (uncounted.imported > 0) rows.inc({ format, result: 'imported' }, uncounted.imported);
    if (uncounted.unchanged > 0) rows.inc({ format, result: 'unchanged' }, uncounted.unchanged);
    if (uncounted.failed > 0) rows.inc({ format, result: 'failed' }, uncounted.failed);
    this.#uncounted = { imported: 0, unchanged: 0, failed: 0 };
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }
}
