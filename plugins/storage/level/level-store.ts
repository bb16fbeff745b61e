/**
 * The store contract on LevelDB (classic-level through `level`). Every commit is one
 * atomic `batch()`: user records, feed entries, the user counter, cursors, devices, import
 * checkpoints and events land together or not at all. The key layout is in README.md.
 */
import type { AbstractSublevel } from 'abstract-level';
import { Level } from 'level';
import type { Logger } from 'pino';
import { RollcallError } from '../../../daemon/errors.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';
import type { Origin, User } from '../../../daemon/model/user.js';
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

/** Bumped when the key layout changes; a store of another format is refused, not guessed at. */
const storeFormat = 1;

/** How many index keys are resolved to events per read. */
const eventPage = 256;

export interface LevelStoreOptions extends AbstractStoreOptions {
  /** The LevelDB directory; created when missing. */
  location: string;
  logger: Logger;
  /** LevelDB block cache, bytes. */
  cacheSize?: number;
  /** LevelDB memtable size, bytes. */
  writeBufferSize?: number;
  /** fsync every commit (survives power loss, not only a killed process). */
  sync?: boolean;
}

interface FeedEntry {
  userId: string;
  op: Change['op'];
  at: number;
  origin: Origin;
}

interface UserSeq {
  seq: number;
  op: Change['op'];
}

interface Tombstone {
  userId: string;
  at: number;
}

type Root = Level<string, string>;
type Sublevel<V> = AbstractSublevel<Root, string | Buffer | Uint8Array, string, V>;

interface Tables {
  db: Root;
  meta: Sublevel<number>;
  /** User records as JSON text (written as given, parsed on read). */
  users: Sublevel<string>;
  userSeq: Sublevel<UserSeq>;
  feed: Sublevel<FeedEntry>;
  tombstones: Sublevel<Tombstone>;
  cursors: Sublevel<number>;
  devices: Sublevel<DeviceRecord>;
  imports: Sublevel<ImportRecord>;
  events: Sublevel<StoredEvent>;
  eventsByUser: Sublevel<string>;
  eventsByDevice: Sublevel<string>;
  eventsByTime: Sublevel<string>;
}

// abstract-level types a batch across sublevels this loosely too.
type AnySublevel = AbstractSublevel<Root, any, any, any>;
type BatchOp =
  | { type: 'put'; sublevel: AnySublevel; key: string; value: unknown }
  | { type: 'del'; sublevel: AnySublevel; key: string };

export class LevelStore extends AbstractStore {
  readonly #options: LevelStoreOptions;
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
    const db: Root = new Level<string, string>(location, {
      createIfMissing: true,
      keyEncoding: 'utf8',
      valueEncoding: 'utf8',
      ...(cacheSize === undefined ? {} : { cacheSize }),
      ...(writeBufferSize === undefined ? {} : { writeBufferSize }),
    });
    try {
      await db.open();
    } catch (error) {
      // Most often LEVEL_LOCKED: another process has this store open.
      const cause = (error as { cause?: { code?: unknown; message?: string } }).cause;
      const reason = cause?.message ?? (error as Error).message;
      const code = cause?.code === 'LEVEL_CORRUPTION' ? 'ROLLCALL_ERR_STORE_CORRUPT' : 'ROLLCALL_ERR_STORE_CLOSED';
      throw new RollcallError(code, `The LevelDB store at ${location} could not be opened: ${reason}`, {
        cause: error,
        detail: { location },
      });
    }
    try {
      signal?.throwIfAborted();
      const tables = defineTables(db);
      const opened = await this.#readState(tables);
      this.#tables = tables;
      this.#options.logger.info(
        { location, seq: opened.seq, users: this.#userCount, horizon: this.#horizon },
        'store opened',
      );
      return opened;
    } catch (error) {
      await db.close().catch(() => {});
      throw translate(error);
    }
  }

  protected override async _close(): Promise<void> {
    const tables = this.#tables;
    this.#tables = undefined;
    await tables?.db.close();
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

    const priors = plan.users.length === 0 ? [] : await guard(t.userSeq.getMany(plan.users.map((c) => c.userId)));
    let delta = 0;
    plan.users.forEach((change, index) => {
      const prior = priors[index];
      if (prior) {
        // One feed entry per user: its older entry goes in the same batch.
        del(t.feed, numberKey(prior.seq));
        if (prior.op === 'delete') del(t.tombstones, numberKey(prior.seq));
      }
      const key = numberKey(change.seq);
      put(t.feed, key, { userId: change.userId, op: change.op, at: plan.at, origin: change.origin });
      put(t.userSeq, change.userId, { seq: change.seq, op: change.op });
      if (change.op === 'upsert') {
        put(t.users, change.userId, change.record);
      } else {
        del(t.users, change.userId);
        put(t.tombstones, key, { userId: change.userId, at: plan.at });
      }
      delta += (change.op === 'upsert' ? 1 : 0) - (prior?.op === 'upsert' ? 1 : 0);
    });
    for (const { deviceId, seq } of plan.cursors) {
      if (seq === null) del(t.cursors, numberKey(deviceId));
      else put(t.cursors, numberKey(deviceId), seq);
    }
    for (const { deviceId, device } of plan.devices) {
      if (device === null) del(t.devices, numberKey(deviceId));
      else put(t.devices, numberKey(deviceId), device);
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

    await guard(t.db.batch(ops, this.#options.sync ? { sync: true } : {}));
    this.#userCount += delta;
  }

  protected override async _pruneTombstones(before: number): Promise<number> {
    const t = this.#t;
    const ops: BatchOp[] = [];
    let highest = -1;
    let pruned = 0;
    // All tombstones are looked at: commit times follow the wall clock, which can step back.
    for await (const [key, tombstone] of guardIterable(t.tombstones.iterator())) {
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
    await guard(t.db.batch(ops, this.#options.sync ? { sync: true } : {}));
    this.#horizon = horizon;
    return pruned;
  }

  protected override async _getUsers(ids: string[]): Promise<(User | undefined)[]> {
    const records = await guard(this.#t.users.getMany(ids));
    return records.map((record, index) => (record === undefined ? undefined : parseUser(record, ids[index]!)));
  }

  protected override async *_scanUsers(options: { after: string | undefined; limit: number | undefined }): AsyncGenerator<User> {
    const range = options.after === undefined ? {} : { gt: options.after };
    const iterator = this.#t.users.iterator({ ...range, limit: options.limit ?? -1 });
    for await (const [id, record] of guardIterable(iterator)) yield parseUser(record, id);
  }

  protected override async _countUsers(): Promise<number> {
    return this.#userCount;
  }

  protected override async _changesSince(seq: number, upTo: number, limit: number | undefined): Promise<Change[]> {
    const entries = await guard(
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
    return (await guard(this.#t.cursors.get(numberKey(deviceId)))) ?? 0;
  }

  protected override async _getDevice(id: number): Promise<DeviceRecord | undefined> {
    return guard(this.#t.devices.get(numberKey(id)));
  }

  protected override async _listDevices(): Promise<DeviceRecord[]> {
    return guard(this.#t.devices.values().all());
  }

  protected override async _getImport(hash: string): Promise<ImportRecord | undefined> {
    return guard(this.#t.imports.get(hash));
  }

  protected override async _listImports(state: ImportRecord['state'] | undefined): Promise<ImportRecord[]> {
    const records = await guard(this.#t.imports.values().all());
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
    for await (const event of guardIterable(t.events.values({ gt: numberKey(afterId) }))) {
      if (!eventMatches(event, query)) continue;
      found.push(event);
      if (query.limit !== undefined && found.length >= query.limit) break;
    }
    return found;
  }

  // -------------------------------------------------------------------------

  get #t(): Tables {
    if (!this.#tables) throw storeClosedError('closed');
    return this.#tables;
  }

  async #readState(t: Tables): Promise<OpenedState> {
    const format = await t.meta.get('format');
    if (format === undefined) {
      // A new store, or a directory that holds some other LevelDB.
      const [anyKey] = await t.db.keys({ limit: 1 }).all();
      if (anyKey !== undefined) {
        throw corruptRecordError(`${this.#options.location} holds a LevelDB that is not a rollcall store`, undefined, {
          location: this.#options.location,
        });
      }
      await t.meta.put('format', storeFormat);
    } else if (format !== storeFormat) {
      throw corruptRecordError(`The store at ${this.#options.location} has format ${format}; this rollcall reads ${storeFormat}`, undefined, {
        location: this.#options.location,
        format,
      });
    }
    const [seq, horizon, users] = await t.meta.getMany(['seq', 'horizon', 'users']);
    const [lastEventKey] = await t.events.keys({ reverse: true, limit: 1 }).all();
    this.#horizon = horizon ?? 0;
    this.#userCount = users ?? 0;
    return { seq: seq ?? 0, lastEventId: lastEventKey === undefined ? 0 : parseNumberKey(lastEventKey) };
  }

  async #throughIndex(index: Sublevel<string>, prefix: string, afterId: number, query: EventQuery): Promise<StoredEvent[]> {
    const keys = index.keys({ gt: prefix + numberKey(afterId), lt: prefix + indexRangeEnd });
    const found: StoredEvent[] = [];
    try {
      while (query.limit === undefined || found.length < query.limit) {
        const page = await guard(keys.nextv(eventPage));
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
    for await (const key of guardIterable(this.#t.eventsByTime.keys({ gte: numberKey(since), lt: upper }))) {
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
    const events = await guard(this.#t.events.getMany(ids.map(numberKey)));
    for (const event of events) {
      if (query.limit !== undefined && found.length >= query.limit) return;
      if (event !== undefined && eventMatches(event, query)) found.push(event);
    }
  }
}

function defineTables(db: Root): Tables {
  const json = { valueEncoding: 'json' } as const;
  return {
    db,
    meta: db.sublevel<string, number>('m', json),
    users: db.sublevel<string, string>('u', { valueEncoding: 'utf8' }),
    userSeq: db.sublevel<string, UserSeq>('us', json),
    feed: db.sublevel<string, FeedEntry>('f', json),
    tombstones: db.sublevel<string, Tombstone>('t', json),
    cursors: db.sublevel<string, number>('c', json),
    devices: db.sublevel<string, DeviceRecord>('d', json),
    imports: db.sublevel<string, ImportRecord>('i', json),
    events: db.sublevel<string, StoredEvent>('e', json),
    eventsByUser: db.sublevel<string, string>('eu', { valueEncoding: 'utf8' }),
    eventsByDevice: db.sublevel<string, string>('ed', { valueEncoding: 'utf8' }),
    eventsByTime: db.sublevel<string, string>('et', { valueEncoding: 'utf8' }),
  };
}

function parseUser(record: string, id: string): User {
  try {
    return JSON.parse(record) as User;
  } catch (error) {
    throw corruptRecordError(`The stored record of a user could not be read`, error, { userId: id });
  }
}

/** LevelDB's own error codes become the store's. */
function translate(error: unknown): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'LEVEL_DECODE_ERROR') return corruptRecordError('A stored record could not be read', error);
  if (code === 'LEVEL_CORRUPTION') return corruptRecordError('LevelDB reports corruption', error);
  if (code === 'LEVEL_DATABASE_NOT_OPEN' || code === 'LEVEL_ITERATOR_NOT_OPEN') return storeClosedError('closed', error);
  return error;
}

async function guard<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw translate(error);
  }
}

async function* guardIterable<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (error) {
    throw translate(error);
  }
}
