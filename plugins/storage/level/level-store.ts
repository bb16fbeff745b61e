/**
 * The store contract on LevelDB (classic-level through `level`). Every commit is one
 * atomic `batch()`: user records, feed entries, the user counter, cursors, devices, import
 * checkpoints and events land together or not at all. The key layout is in README.md.
 *
 * Over 400 lines because the store contract is one class of `_method` overrides (the
 * abstract-level pattern); what is not the contract is beside it: the directory checks
 * (store-directory.ts), the value seals (sealed-values.ts), the sublevels (tables.ts) and
 * the offline repair (repair.ts).
 */
import type { AbstractSublevel } from 'abstract-level';
import { Level } from 'level';
import type { Logger } from 'pino';
import { RollcallError } from '../../../daemon/errors.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';
import type { User } from '../../../daemon/model/user.js';
import { encodeSummary, type UserSummary } from '../../../daemon/model/user-summary.js';
import type { Change, EventQuery, ImportRecord, StoredEvent } from '../../../daemon/plugins/api.js';
import { AbstractStore, type AbstractStoreOptions, type OpenedState } from '../../../daemon/store/abstract-store.js';
import type { CommitPlan } from '../../../daemon/store/commit-plan.js';
import { eventMatches } from '../../../daemon/store/event-query.js';
import { compareIds } from '../../../daemon/store/id-order.js';
import { corruptRecordError, storeClosedError } from '../../../daemon/store/store-errors.js';
import {
  deviceIndexPrefix,
  eventIdOfIndexKey,
  indexRangeEnd,
  numberKey,
  parseNumberKey,
  timeIndexKey,
  userIndexPrefix,
} from './keys.js';
import { BrokenSealError, seal, unseal, type SealPolicy } from './sealed-values.js';
import { damagedError, prepareStoreDirectory, tightenFiles, writeMarker } from './store-directory.js';
import { rebuildSummaries, SummaryReader } from './summary-index.js';
import { defineTables, type Root, type Sublevel, type Tables } from './tables.js';

/**
 * The store format version (`!m!format`, and the `ROLLCALL-STORE` marker beside the files).
 * Bumped when the key layout changes; older formats are upgraded at open (README.md, Key
 * layout), a newer one is refused with ROLLCALL_ERR_STORE_VERSION, anything else is not
 * guessed at. test/plugins/storage/level-previous-release.test.ts opens stores that earlier
 * releases' code wrote (test/fixtures/store/).
 * 3: a summary beside every user (summary-index.ts). 2: every value sealed with its
 * checksum. A store of format 2 gets its summaries at open and becomes 3; one of format 1
 * (no seals, still read: see sealed-values.ts) gets them at every open, since a rollcall
 * before format 3 may have written users into it meanwhile, until repair makes it 3.
 */
export const storeFormat = 3;
const sealedFormat = 2;
const unsealedFormat = 1;

/** How many user summaries are read per step of a scan. */
const summaryPage = 1000;

/** How many index keys are resolved to events per read. */
const eventPage = 256;

export interface LevelStoreOptions extends AbstractStoreOptions {
  /** The LevelDB directory; created (0700) when missing. A database is created only in a directory with no LevelDB files. */
  location: string;
  logger: Logger;
  /** LevelDB block cache, bytes. */
  cacheSize?: number;
  /** LevelDB memtable size, bytes. */
  writeBufferSize?: number;
  /** fsync every commit (survives power loss, not only a killed process). */
  sync?: boolean;
}

// abstract-level types a batch across sublevels this loosely too.
type AnySublevel = AbstractSublevel<Root, any, any, any>;
type BatchOp =
  | { type: 'put'; sublevel: AnySublevel; key: string; value: unknown; valueEncoding?: 'utf8' }
  | { type: 'del'; sublevel: AnySublevel; key: string };

export class LevelStore extends AbstractStore {
  readonly #options: LevelStoreOptions;
  /** Unsealed values are read until the format says whether the store predates seals. */
  readonly #seals: SealPolicy = { legacy: true };
  #tables: Tables | undefined = undefined;
  #userCount = 0;
  #horizon = 0;

  constructor(options: LevelStoreOptions) {
    super(options);
    this.#options = options;
  }

  get location(): string {
    return this.#options.location;
  }

  protected override async _open(signal?: AbortSignal): Promise<OpenedState> {
    const { location, cacheSize, writeBufferSize } = this.#options;
    // A database is created only in a directory with no LevelDB in it: see store-directory.ts.
    const directory = await prepareStoreDirectory(location);
    const db: Root = new Level<string, string>(location, {
      createIfMissing: directory.fresh,
      keyEncoding: 'utf8',
      valueEncoding: 'utf8',
      ...(cacheSize === undefined ? {} : { cacheSize }),
      ...(writeBufferSize === undefined ? {} : { writeBufferSize }),
    });
    try {
      await db.open();
    } catch (error) {
      throw openError(location, error);
    }
    try {
      signal?.throwIfAborted();
      const tables = defineTables(db, this.#seals);
      const opened = await this.#readState(tables, directory);
      this.#tables = tables;
      await tightenFiles(location);
      this.#options.logger.info(
        { location, seq: opened.seq, users: this.#userCount, horizon: this.#horizon },
        'store opened',
      );
      return opened;
    } catch (error) {
      await db.close().catch(() => {});
      throw translate(error, location);
    }
  }

  protected override async _close(): Promise<void> {
    const tables = this.#tables;
    this.#tables = undefined;
    await tables?.db.close();
    // Files LevelDB made while open (new tables, logs) got the process umask.
    await tightenFiles(this.#options.location).catch(() => undefined);
    this.#options.logger.info({ location: this.#options.location }, 'store closed');
  }

  protected override async _commit(plan: CommitPlan): Promise<void> {
    const t = this.#t;
    const ops: BatchOp[] = [];
    const put = <V>(sublevel: Sublevel<V>, key: string, value: V): void => {
      ops.push({ type: 'put', sublevel, key, value });
    };
    const del = <V>(sublevel: Sublevel<V>, key: string): void => {
      ops.push({ type: 'del', sublevel, key });
    };

    // Written as the sealed JSON text their sublevel's encoding would make: an import's
    // commit names one origin for every user, so its JSON is made once, not per entry.
    const sealedText = (sublevel: AnySublevel, key: string, text: string): void => {
      ops.push({ type: 'put', sublevel, key, value: seal(text), valueEncoding: 'utf8' });
    };
    const originTexts = new Map<unknown, string>();
    const originPart = (origin: unknown): string => {
      let text = originTexts.get(origin);
      if (text === undefined) {
        const json = JSON.stringify(origin) as string | undefined;
        originTexts.set(origin, (text = json === undefined ? '' : `,"origin":${json}`));
      }
      return text;
    };

    const priors = plan.users.length === 0 ? [] : await this.#guard(t.userSeq.getMany(plan.users.map((c) => c.userId)));
    let delta = 0;
    plan.users.forEach((change, index) => {
      const prior = priors[index];
      if (prior) {
        // One feed entry per user: its older entry goes in the same batch.
        del(t.feed, numberKey(prior.seq));
        if (prior.op === 'delete') del(t.tombstones, numberKey(prior.seq));
      }
      const key = numberKey(change.seq);
      const id = JSON.stringify(change.userId);
      // FeedEntry and UserSeq (tables.ts).
      sealedText(t.feed, key, `{"userId":${id},"op":"${change.op}","at":${JSON.stringify(plan.at)}${originPart(change.origin)}}`);
      sealedText(t.userSeq, change.userId, `{"seq":${change.seq},"op":"${change.op}"}`);
      if (change.op === 'upsert') {
        put(t.users, change.userId, seal(change.record));
        put(t.summaries, change.userId, encodeSummary(change.summary!));
      } else {
        del(t.users, change.userId);
        del(t.summaries, change.userId);
        put(t.tombstones, key, { userId: change.userId, at: plan.at });
      }
      delta += (change.op === 'upsert' ? 1 : 0) - (prior?.op === 'upsert' ? 1 : 0);
    });
    for (const { deviceId, seq } of plan.cursors) {
      if (seq === null) del(t.cursors, numberKey(deviceId));
      else put(t.cursors, numberKey(deviceId), seq);
    }
    for (const { deviceId, device, ifAbsent } of plan.devices) {
      if (device === null) del(t.devices, numberKey(deviceId));
      // One process holds a LevelDB: what it reads here cannot change before the batch.
      else if (!ifAbsent || (await this.#guard(t.devices.get(numberKey(deviceId)))) === undefined) put(t.devices, numberKey(deviceId), device);
    }
    for (const record of plan.imports) put(t.imports, record.hash, record);
    for (const event of plan.events) {
      const key = numberKey(event.id);
      put(t.events, key, event);
      if (event.userId !== undefined) put(t.eventsByUser, userIndexPrefix(event.userId) + key, '');
      if (event.deviceId !== undefined) put(t.eventsByDevice, deviceIndexPrefix(event.deviceId) + key, '');
      put(t.eventsByTime, timeIndexKey(event.at, event.id), '');
    }
    if (plan.users.length > 0) put(t.meta, 'seq', plan.seq);
    if (delta !== 0) put(t.meta, 'users', this.#userCount + delta);

    await this.#guard(t.db.batch(ops, this.#options.sync ? { sync: true } : {}));
    this.#userCount += delta;
  }

  protected override async _pruneTombstones(before: number): Promise<number> {
    const t = this.#t;
    const ops: BatchOp[] = [];
    let highest = -1;
    let pruned = 0;
    // All tombstones are looked at: commit times follow the wall clock, which can step back.
    for await (const [key, tombstone] of this.#guardIterable(t.tombstones.iterator())) {
      if (tombstone.at >= before) continue;
      ops.push({ type: 'del', sublevel: t.tombstones, key });
      ops.push({ type: 'del', sublevel: t.feed, key });
      ops.push({ type: 'del', sublevel: t.userSeq, key: tombstone.userId });
      highest = Math.max(highest, parseNumberKey(key));
      pruned += 1;
    }
    if (pruned === 0) return 0;
    const horizon = Math.max(this.#horizon, highest + 1);
    ops.push({ type: 'put', sublevel: t.meta, key: 'horizon', value: horizon });
    await this.#guard(t.db.batch(ops, this.#options.sync ? { sync: true } : {}));
    this.#horizon = horizon;
    return pruned;
  }

  protected override async _getUsers(ids: string[]): Promise<(User | undefined)[]> {
    let records: (string | undefined)[];
    try {
      records = await this.#t.users.getMany(ids);
    } catch (error) {
      throw await this.#nameBrokenUser(ids, error);
    }
    return records.map((record, index) => (record === undefined ? undefined : this.#parseUser(record, ids[index]!)));
  }

  protected override async *_scanUsers(options: { after: string | undefined; limit: number | undefined }): AsyncGenerator<User> {
    const range = options.after === undefined ? {} : { gt: options.after };
    const iterator = this.#t.users.iterator({ ...range, limit: options.limit ?? -1 });
    let last = options.after;
    try {
      for await (const [id, record] of iterator) {
        const user = this.#parseUser(record, id);
        last = id;
        yield user;
      }
    } catch (error) {
      if (error instanceof RollcallError) throw error;
      // LevelDB could not read a block: the user after `last` is the first it could not give.
      const after = last === undefined ? 'at the start of the users' : `after user ${JSON.stringify(last)}`;
      throw translate(error, this.#options.location, `LevelDB could not read the users ${after}`, last === undefined ? {} : { afterUserId: last });
    }
  }

  protected override get _keepsSummaries(): boolean {
    return true;
  }

  protected override async *_scanUserSummaries(): AsyncGenerator<readonly UserSummary[]> {
    // Read as text, a page at a time, and unsealed by the reader (summary-index.ts).
    const iterator = this.#t.summaries.iterator<string, string>({ valueEncoding: 'utf8' });
    const reader = new SummaryReader();
    let last: string | undefined;
    try {
      for (;;) {
        const entries = await iterator.nextv(summaryPage);
        if (entries.length === 0) break;
        const page: UserSummary[] = [];
        for (const [id, text] of entries) {
          const summary = reader.read(id, text);
          if (!summary) throw brokenSummaryError(this.#options.location, id);
          page.push(summary);
          last = id;
        }
        yield page;
      }
    } catch (error) {
      if (error instanceof RollcallError) throw error;
      const after = last === undefined ? 'at the start of the user summaries' : `after the summary of user ${JSON.stringify(last)}`;
      throw translate(error, this.#options.location, `LevelDB could not read the user summaries ${after}`, last === undefined ? {} : { afterUserId: last });
    } finally {
      await iterator.close();
    }
  }

  protected override async _countUsers(): Promise<number> {
    return this.#userCount;
  }

  protected override async _changesSince(seq: number, upTo: number, limit: number | undefined): Promise<Change[]> {
    const entries = await this.#guard(
      this.#t.feed.iterator({ gt: numberKey(seq), lte: numberKey(upTo), limit: limit ?? -1 }).all(),
    );
    return entries.map(([key, entry]) => ({
      seq: parseNumberKey(key),
      userId: entry.userId,
      op: entry.op,
      at: entry.at,
      origin: entry.origin,
    }));
  }

  protected override async _feedHorizon(): Promise<number> {
    return this.#horizon;
  }

  protected override async _cursor(deviceId: number): Promise<number> {
    return (await this.#guard(this.#t.cursors.get(numberKey(deviceId)))) ?? 0;
  }

  protected override async _getDevice(id: number): Promise<DeviceRecord | undefined> {
    return this.#guard(this.#t.devices.get(numberKey(id)));
  }

  protected override async _listDevices(): Promise<DeviceRecord[]> {
    return this.#guard(this.#t.devices.values().all());
  }

  protected override async _getImport(hash: string): Promise<ImportRecord | undefined> {
    return this.#guard(this.#t.imports.get(hash));
  }

  protected override async _listImports(state: ImportRecord['state'] | undefined): Promise<ImportRecord[]> {
    const records = await this.#guard(this.#t.imports.values().all());
    return records
      .filter((record) => state === undefined || record.state === state)
      .sort((a, b) => a.startedAt - b.startedAt || compareIds(a.hash, b.hash));
  }

  /**
   * Picks one index to walk and filters the rest: a user's events, else a device's, else
   * a time window, else the log from `afterId`. Results are always in ID (append) order.
   */
  protected override async _queryEvents(query: EventQuery): Promise<StoredEvent[]> {
    const t = this.#t;
    const afterId = query.afterId ?? 0;
    if (query.userId !== undefined) {
      return this.#throughIndex(t.eventsByUser, userIndexPrefix(query.userId), afterId, query);
    }
    if (query.deviceId !== undefined) {
      return this.#throughIndex(t.eventsByDevice, deviceIndexPrefix(query.deviceId), afterId, query);
    }
    if (query.since !== undefined || query.until !== undefined) return this.#throughTimeIndex(query, afterId);
    const found: StoredEvent[] = [];
    for await (const event of this.#guardIterable(t.events.values({ gt: numberKey(afterId) }))) {
      if (!eventMatches(event, query)) continue;
      found.push(event);
      if (query.limit !== undefined && found.length >= query.limit) break;
    }
    return found;
  }

  // -------------------------------------------------------------------------

  async #guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw translate(error, this.#options.location);
    }
  }

  async *#guardIterable<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    try {
      yield* source;
    } catch (error) {
      throw translate(error, this.#options.location);
    }
  }

  get #t(): Tables {
    if (!this.#tables) throw storeClosedError('closed');
    return this.#tables;
  }

  async #readState(t: Tables, directory: { fresh: boolean; marked: boolean }): Promise<OpenedState> {
    const location = this.#options.location;
    const format = await t.meta.get('format');
    if (format === undefined) {
      // A new store, a directory that holds some other LevelDB, or a rollcall store whose
      // data LevelDB no longer has (the marker says one was created here).
      const [anyKey] = await t.db.keys({ limit: 1 }).all();
      if (anyKey !== undefined) {
        throw corruptRecordError(`${location} holds a LevelDB that is not a rollcall store`, undefined, { location });
      }
      if (directory.marked) throw damagedError(location, 'holds no rollcall data, though a rollcall store was created here (its marker is present)', { missing: 'data' });
      await t.meta.put('format', storeFormat);
      await writeMarker(location, storeFormat);
    } else if (typeof format === 'number' && Number.isInteger(format) && format > storeFormat) {
      // A downgrade: a newer rollcall upgraded this store. Nothing is changed.
      throw new RollcallError(
        'ROLLCALL_ERR_STORE_VERSION',
        `The store at ${location} has format ${format}, written by a newer rollcall; this one reads formats ${unsealedFormat} to ${storeFormat}. ` +
          'Nothing was changed. Install the newer rollcall again, or restore the copy of the state taken before the upgrade (systemd/README.md, Upgrade)',
        { detail: { location, format, known: storeFormat } },
      );
    } else if (format !== storeFormat && format !== sealedFormat && format !== unsealedFormat) {
      throw corruptRecordError(`The store at ${location} has format ${format}; this rollcall reads ${unsealedFormat} to ${storeFormat}`, undefined, {
        location,
        format,
      });
    } else if (format !== storeFormat) {
      const logger = this.#options.logger;
      logger.info({ location, format }, 'store: building the user summaries (a store made before format 3)');
      const summarized = await rebuildSummaries(t.db, format === unsealedFormat);
      logger.info({ location, users: summarized }, 'store: user summaries built');
      if (format === sealedFormat) await t.meta.put('format', storeFormat);
      await writeMarker(location, format === sealedFormat ? storeFormat : format);
    } else if (!directory.marked) {
      // A store made before markers: it gets one now.
      await writeMarker(location, format);
    }
    this.#seals.legacy = format === unsealedFormat;
    const [seq, horizon, users] = await t.meta.getMany(['seq', 'horizon', 'users']);
    const [lastEventKey] = await t.events.keys({ reverse: true, limit: 1 }).all();
    this.#horizon = horizon ?? 0;
    this.#userCount = users ?? 0;
    return { seq: seq ?? 0, lastEventId: lastEventKey === undefined ? 0 : parseNumberKey(lastEventKey) };
  }

  /** A user record unsealed and parsed; a broken one is an error that names the user, never the data. */
  #parseUser(record: string, id: string): User {
    let user: User;
    try {
      user = JSON.parse(unseal(record, this.#seals.legacy)) as User;
    } catch (error) {
      const reason = error instanceof BrokenSealError ? error.message : 'the value is not JSON';
      throw brokenUserError(this.#options.location, id, reason);
    }
    if (user === null || typeof user !== 'object' || user.id !== id) {
      throw brokenUserError(this.#options.location, id, 'the record belongs to another key');
    }
    return user;
  }

  /** LevelDB failed a multi-get: the users are read one by one to name the first it cannot read. */
  async #nameBrokenUser(ids: string[], error: unknown): Promise<unknown> {
    for (const id of ids) {
      try {
        await this.#t.users.get(id);
      } catch {
        return translate(error, this.#options.location, `LevelDB could not read the record of user ${JSON.stringify(id)}`, { userId: id });
      }
    }
    return translate(error, this.#options.location);
  }

  async #throughIndex(index: Sublevel<string>, prefix: string, afterId: number, query: EventQuery): Promise<StoredEvent[]> {
    const keys = index.keys({ gt: prefix + numberKey(afterId), lt: prefix + indexRangeEnd });
    const found: StoredEvent[] = [];
    try {
      while (query.limit === undefined || found.length < query.limit) {
        const page = await this.#guard(keys.nextv(eventPage));
        if (page.length === 0) break;
        await this.#resolve(page.map(eventIdOfIndexKey), query, found);
      }
    } finally {
      await keys.close();
    }
    return found;
  }

  /**
   * The time index is ordered by `at`, which callers may set, so it need not follow ID
   * order: the IDs in the window are gathered (keys only) and sorted before the events
   * are read. The cost is the window, not the log.
   */
  async #throughTimeIndex(query: EventQuery, afterId: number): Promise<StoredEvent[]> {
    const since = Math.max(0, Math.ceil(query.since ?? 0));
    const until = query.until === undefined ? undefined : Math.ceil(query.until);
    if (until !== undefined && until <= since) return [];
    const upper = until === undefined || until > Number.MAX_SAFE_INTEGER ? indexRangeEnd : numberKey(until);
    const ids: number[] = [];
    for await (const key of this.#guardIterable(this.#t.eventsByTime.keys({ gte: numberKey(since), lt: upper }))) {
      const id = eventIdOfIndexKey(key);
      if (id > afterId) ids.push(id);
    }
    ids.sort((a, b) => a - b);
    const found: StoredEvent[] = [];
    for (let start = 0; start < ids.length; start += eventPage) {
      if (query.limit !== undefined && found.length >= query.limit) break;
      await this.#resolve(ids.slice(start, start + eventPage), query, found);
    }
    return found;
  }

  /** Reads events by ID and appends those that match, up to the query's limit. */
  async #resolve(ids: number[], query: EventQuery, found: StoredEvent[]): Promise<void> {
    const events = await this.#guard(this.#t.events.getMany(ids.map(numberKey)));
    for (const event of events) {
      if (query.limit !== undefined && found.length >= query.limit) return;
      if (event !== undefined && eventMatches(event, query)) found.push(event);
    }
  }
}

function brokenSummaryError(location: string, id: string): RollcallError {
  return corruptRecordError(
    `The stored summary of user ${JSON.stringify(id)} is corrupt; it is not served. Stop rollcall and run \`rollcall store repair\` (it builds the summaries again)`,
    undefined,
    { location, userId: id, reason: 'summary' },
  );
}

function brokenUserError(location: string, id: string, reason: string): RollcallError {
  return corruptRecordError(
    `The stored record of user ${JSON.stringify(id)} is corrupt (${reason}); it is not served. Stop rollcall and run \`rollcall store repair\``,
    undefined,
    { location, userId: id, reason },
  );
}

/** Why LevelDB would not open the directory, with the store's code. */
function openError(location: string, error: unknown): RollcallError {
  const cause = (error as { cause?: { code?: unknown; message?: string } }).cause;
  const reason = cause?.message ?? (error as Error).message;
  // A damaged manifest, a table file the manifest lists gone, an unreadable file.
  if (cause?.code === 'LEVEL_CORRUPTION' || cause?.code === 'LEVEL_IO_ERROR') {
    return damagedError(location, `could not be opened: ${reason}`, { reason }, error);
  }
  // Most often LEVEL_LOCKED: another process has this store open.
  return new RollcallError('ROLLCALL_ERR_STORE_CLOSED', `The LevelDB store at ${location} could not be opened: ${reason}`, {
    cause: error,
    detail: { location },
  });
}

/**
 * LevelDB's own error codes become the store's. A value that cannot be decoded loses its
 * cause: JSON parse errors quote the text, and stored text is never put in an error.
 */
function translate(error: unknown, location?: string, what?: string, detail: Record<string, unknown> = {}): unknown {
  if (error instanceof RollcallError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const where = location === undefined ? {} : { location };
  if (code === 'LEVEL_DECODE_ERROR') return corruptRecordError(`${what ?? 'A stored record could not be read'}: its checksum or encoding is broken`, undefined, { ...where, ...detail });
  if (code === 'LEVEL_CORRUPTION') return corruptRecordError(`${what ?? 'LevelDB reports corruption'}: ${(error as Error).message}`, error, { ...where, ...detail });
  if (code === 'LEVEL_IO_ERROR' && location !== undefined) {
    return damagedError(location, `has a file LevelDB cannot read (${(error as Error).message})${what ? `; ${what}` : ''}`, detail, error);
  }
  if (code === 'LEVEL_DATABASE_NOT_OPEN' || code === 'LEVEL_ITERATOR_NOT_OPEN') return storeClosedError('closed', error);
  return error;
}
