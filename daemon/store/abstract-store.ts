/**
 * The half of every store that does not depend on where data lives (ARCHITECTURE §4,
 * STYLE §8): the open/close state machine, argument checks, the serialized commit queue,
 * seq and event-ID assignment, and the in-process seq waiters. Backends extend it and
 * implement the protected `_` methods, which may assume the store is open and their
 * arguments are valid.
 *
 * Calls made while the store is not open reject with ROLLCALL_ERR_STORE_CLOSED; bad
 * arguments reject with ROLLCALL_ERR_STORE_INVALID_ARGUMENT and change nothing.
 *
 * Over 400 lines because it is the one base every backend shares: the commit queue, the
 * fences and claims it hands to `_numberAndCommit`, and the summary default are steps of the
 * same commit and read best together. Argument checks (store-arguments.ts), planning
 * (commit-plan.ts) and the solo leases (solo-leases.ts) are already apart.
 */
import { isRollcallError } from '../errors.js';
import type { DeviceRecord } from '../model/device.js';
import type { User } from '../model/user.js';
import { summarizeUser, type UserSummary } from '../model/user-summary.js';
import type {
  Change,
  CommitOptions,
  CommitResult,
  DeviceLeases,
  Fence,
  ImportClaim,
  EventQuery,
  HealthReport,
  ImportRecord,
  Mutation,
  Store,
  StoredEvent,
} from '../plugins/api.js';
import { planCommit, prepareMutations, type CommitPlan } from './commit-plan.js';
import { SeqWaiters } from './seq-waiters.js';
import { SoloLeases } from './solo-leases.js';
import { checkImportClaim } from './lease-errors.js';
import {
  checkDeviceId,
  checkEventQuery,
  checkClaim,
  checkAfter,
  checkFences,
  checkImportHash,
  checkImportState,
  checkLimit,
  checkOptions,
  checkScanOptions,
  checkSeq,
  checkTime,
  checkUserId,
} from './store-arguments.js';
import { invalidArgumentError, storeClosedError } from './store-errors.js';

export type StoreStatus = 'opening' | 'open' | 'closing' | 'closed';

/** What a backend has on disk when it opens; the rest of its state it keeps itself. */
export interface OpenedState {
  /** The last committed seq. */
  seq: number;
  /** The highest event ID written (0 for none). */
  lastEventId: number;
}

/** The numbers a commit is planned from: the last seq and event ID before it. */
export interface NumberingBase {
  seq: number;
  lastEventId: number;
}

/** What a commit must find true inside it, or apply nothing (lease-api.ts CommitOptions). */
export interface CommitGuards {
  fences: readonly Fence[];
  claim?: ImportClaim | undefined;
}

export interface AbstractStoreOptions {
  /** Unix ms clock for commit times. Tests may pin it; it defaults to Date.now. */
  now?: () => number;
}

const ignore = (): void => {};

/** Summaries per page of scanUserSummaries, in the default implementation. */
const SUMMARY_PAGE = 1000;

export abstract class AbstractStore implements Store {
  readonly #now: () => number;
  #status: StoreStatus = 'closed';
  #statusChange: Promise<void> | undefined = undefined;
  #seq = 0;
  #lastEventId = 0;
  /** The tail of the write queue: commits and prunes run one at a time, in call order. */
  #writes: Promise<void> = Promise.resolve();
  readonly #reads = new Set<Promise<unknown>>();
  readonly #waiters = new SeqWaiters();

  readonly #solo: SoloLeases;

  constructor(options: AbstractStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#solo = new SoloLeases(this.#now);
  }

  /**
   * Leases (lease-api.ts). The default is for a store one process opens: trivially held
   * (solo-leases.ts). A store several instances share overrides it and `_numberAndCommit`.
   */
  get leases(): DeviceLeases {
    return this.#solo;
  }

  get status(): StoreStatus {
    return this.#status;
  }

  // -------------------------------------------------------------------------
  // lifecycle

  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    while (this.#statusChange) await this.#statusChange.catch(ignore);
    if (this.#status === 'open') return;
    this.#status = 'opening';
    // A backend may report commits of other writers while it opens (_seqCommitted).
    this.#seq = 0;
    this.#statusChange = (async () => {
      try {
        const opened = await this._open(signal);
        this.#seq = Math.max(this.#seq, opened.seq);
        this.#lastEventId = opened.lastEventId;
        this.#status = 'open';
      } catch (error) {
        this.#status = 'closed';
        throw error;
      }
    })();
    try {
      await this.#statusChange;
    } finally {
      this.#statusChange = undefined;
    }
  }

  /** Rejects waiters, lets queued commits and running reads finish, then closes. */
  async stop(): Promise<void> {
    while (this.#statusChange) await this.#statusChange.catch(ignore);
    if (this.#status === 'closed') return;
    this.#status = 'closing';
    this.#statusChange = (async () => {
      this.#waiters.rejectAll(storeClosedError('closing'));
      await this.#writes;
      await Promise.allSettled(this.#reads);
      try {
        await this._close();
      } finally {
        this.#status = 'closed';
      }
    })();
    try {
      await this.#statusChange;
    } finally {
      this.#statusChange = undefined;
    }
  }

  health(): HealthReport {
    return { ok: this.#status === 'open', detail: this.#status };
  }

  // -------------------------------------------------------------------------
  // writes

  async commit(mutations: Mutation[], options?: CommitOptions): Promise<CommitResult> {
    this.#assertOpen();
    const prepared = prepareMutations(mutations, { summaries: this._keepsSummaries });
    const guards: CommitGuards = { fences: checkFences(options), claim: checkClaim(options) };
    const after = checkAfter(options);
    return this.#write(async () => {
      // Queued before this one, so settled by now: its failure is this commit's too.
      if (after) await after;
      if (prepared.length === 0) return { seq: this.#seq };
      // Planned in turn, so a cursor is checked against every commit queued before it.
      const at = this.#now();
      const written = await this._numberAndCommit((base) => planCommit(prepared, { ...base, at }), guards);
      this.#lastEventId = Math.max(this.#lastEventId, written.lastEventId);
      this._seqCommitted(written.seq);
      return { seq: written.seq };
    });
  }

  async pruneTombstones(before: number): Promise<number> {
    this.#assertOpen();
    checkTime(before, 'before');
    return this.#write(() => this._pruneTombstones(before));
  }

  // -------------------------------------------------------------------------
  // users and the change feed

  async getUser(id: string): Promise<User | undefined> {
    checkUserId(id, 'id');
    const [user] = await this.#read(() => this._getUsers([id]));
    return user;
  }

  async getUsers(ids: string[]): Promise<(User | undefined)[]> {
    if (!Array.isArray(ids)) throw invalidArgumentError('ids must be an array', { argument: 'ids' });
    ids.forEach((id, index) => checkUserId(id, `ids[${index}]`));
    if (ids.length === 0) {
      this.#assertOpen();
      return [];
    }
    return this.#read(() => this._getUsers(ids));
  }

  scanUsers(options?: { after?: string; limit?: number }): AsyncIterable<User> {
    return this.#scan(options);
  }

  scanUserSummaries(): AsyncIterable<readonly UserSummary[]> {
    return this.#scanSummaries();
  }

  async countUsers(): Promise<number> {
    return this.#read(() => this._countUsers());
  }

  currentSeq(): number {
    this.#assertOpen();
    return this.#seq;
  }

  async changesSince(seq: number, options?: { limit?: number }): Promise<Change[]> {
    checkSeq(seq);
    checkOptions(options);
    checkLimit(options?.limit);
    const limit = options?.limit;
    if (limit === 0 || seq >= this.#seq) {
      this.#assertOpen();
      return [];
    }
    // Bounded by the seq readers were told about, so a batch landing now shows up whole
    // after its commit resolves, never half-way before.
    const upTo = this.#seq;
    return this.#read(() => this._changesSince(seq, upTo, limit));
  }

  async feedHorizon(): Promise<number> {
    return this.#read(() => this._feedHorizon());
  }

  waitForSeq(seq: number, signal?: AbortSignal): Promise<number> {
    try {
      checkSeq(seq);
      this.#assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#waiters.wait(seq, this.#seq, signal);
  }

  // -------------------------------------------------------------------------
  // devices, imports, events

  async cursor(deviceId: number): Promise<number> {
    checkDeviceId(deviceId);
    return this.#read(() => this._cursor(deviceId));
  }

  async getDevice(id: number): Promise<DeviceRecord | undefined> {
    checkDeviceId(id, 'id');
    return this.#read(() => this._getDevice(id));
  }

  async listDevices(): Promise<DeviceRecord[]> {
    return this.#read(() => this._listDevices());
  }

  async getImport(hash: string): Promise<ImportRecord | undefined> {
    checkImportHash(hash);
    return this.#read(() => this._getImport(hash));
  }

  async listImports(options?: { state?: ImportRecord['state'] }): Promise<ImportRecord[]> {
    checkOptions(options);
    const state = options?.state;
    if (state !== undefined) checkImportState(state, 'options.state');
    return this.#read(() => this._listImports(state));
  }

  async queryEvents(query?: EventQuery): Promise<StoredEvent[]> {
    const checked = checkEventQuery(query);
    if (checked.limit === 0) {
      this.#assertOpen();
      return [];
    }
    return this.#read(() => this._queryEvents(checked));
  }

  // -------------------------------------------------------------------------
  // numbering

  /**
   * Numbers one commit and writes it. The default plans from the seq and event ID this
   * process holds and hands the plan to `_commit`. A backend whose database other writers
   * share (PostgreSQL) overrides it to plan inside its own transaction from the database's
   * numbers, so that seqs follow commit order across every writer, and checks the fences in
   * that transaction. Here the fences are checked in the write queue, which no other writer
   * shares: nothing can change a lease between the check and the write.
   */
  protected async _numberAndCommit(plan: (base: NumberingBase) => CommitPlan, guards: CommitGuards = { fences: [] }): Promise<CommitPlan> {
    if (guards.fences.length > 0) this.#solo.check(guards.fences);
    if (guards.claim) checkImportClaim(guards.claim, await this._getImport(guards.claim.hash));
    const planned = plan({ seq: this.#seq, lastEventId: this.#lastEventId });
    await this._commit(planned);
    return planned;
  }

  /**
   * Moves the seq forward to `seq` and wakes the waiters it passes: after a commit of this
   * process, or when a backend learns of a commit another writer made to the same database.
   * Only a seq whose commit and every commit below it are visible to reads may be given.
   */
  protected _seqCommitted(seq: number): void {
    if (this.#status === 'closed' || seq <= this.#seq) return;
    this.#seq = seq;
    this.#waiters.advance(seq);
  }

  // -------------------------------------------------------------------------
  // what backends implement

  /** Opens the backend and reports what it holds. */
  protected abstract _open(signal?: AbortSignal): Promise<OpenedState>;
  /** Closes the backend; called once queued writes and running reads are done. */
  protected abstract _close(): Promise<void>;
  /** Writes a plan atomically: all of it or none of it. */
  protected abstract _commit(plan: CommitPlan): Promise<void>;
  /** Removes tombstones whose `at` is before `before`, moves the horizon, returns how many. */
  protected abstract _pruneTombstones(before: number): Promise<number>;
  protected abstract _getUsers(ids: string[]): Promise<(User | undefined)[]>;
  /** Users in UTF-8 byte order of their IDs, after `after`, at most `limit`, without loading all. */
  protected abstract _scanUsers(options: { after: string | undefined; limit: number | undefined }): AsyncIterable<User>;
  protected abstract _countUsers(): Promise<number>;
  /** Whether the backend stores a summary beside each user: then every upsert it is given carries one. */
  protected get _keepsSummaries(): boolean {
    return false;
  }
  /**
   * Every user's summary in scan order, in pages. This default summarizes the whole records
   * as it scans them; a backend that keeps summaries beside its users reads those instead.
   */
  protected async *_scanUserSummaries(): AsyncIterable<readonly UserSummary[]> {
    let page: UserSummary[] = [];
    for await (const user of this._scanUsers({ after: undefined, limit: undefined })) {
      page.push(summarizeUser(user));
      if (page.length >= SUMMARY_PAGE) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }
  /** Feed entries with `seq` < entry seq ≤ `upTo`, ascending, at most `limit`. */
  protected abstract _changesSince(seq: number, upTo: number, limit: number | undefined): Promise<Change[]>;
  protected abstract _feedHorizon(): Promise<number>;
  protected abstract _cursor(deviceId: number): Promise<number>;
  protected abstract _getDevice(id: number): Promise<DeviceRecord | undefined>;
  /** Devices in ascending ID. */
  protected abstract _listDevices(): Promise<DeviceRecord[]>;
  protected abstract _getImport(hash: string): Promise<ImportRecord | undefined>;
  /** Imports by `startedAt`, then hash. */
  protected abstract _listImports(state: ImportRecord['state'] | undefined): Promise<ImportRecord[]>;
  /** Matching events in ascending ID (append order). The query is checked and has no unknown keys. */
  protected abstract _queryEvents(query: EventQuery): Promise<StoredEvent[]>;

  // -------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#status !== 'open') throw storeClosedError(this.#status);
  }

  #write<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(work);
    this.#writes = run.then(ignore, ignore);
    return run;
  }

  #read<T>(work: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    const run = work();
    this.#reads.add(run);
    const forget = (): void => {
      this.#reads.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  async *#scan(options: unknown): AsyncGenerator<User> {
    const { after, limit } = checkScanOptions(options);
    this.#assertOpen();
    if (limit === 0) return;
    yield* this.#guardScan(this._scanUsers({ after, limit }));
  }

  async *#scanSummaries(): AsyncGenerator<readonly UserSummary[]> {
    this.#assertOpen();
    yield* this.#guardScan(this._scanUserSummaries());
  }

  async *#guardScan<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    try {
      for await (const item of source) {
        yield item;
        // The consumer may have been away across a close.
        this.#assertOpen();
      }
    } catch (error) {
      // A backend iterator closed under the consumer says so in its own words.
      if (this.#status !== 'open' && !isRollcallError(error)) throw storeClosedError(this.#status, error);
      throw error;
    }
  }
}
