/**
 * The store contract held in memory, for tests and --dry-run. It keeps the same orders and
 * the same JSON semantics as the LevelDB backend (values are copied as JSON on the way in
 * by AbstractStore, and cloned on the way out), so callers cannot reach its state.
 * Stopping keeps the data: starting the same instance again finds it all.
 */
import type { DeviceRecord } from '../../../daemon/model/device.js';
import type { Origin, User } from '../../../daemon/model/user.js';
import type { Change, EventQuery, ImportRecord, StoredEvent } from '../../../daemon/plugins/api.js';
import { AbstractStore, type AbstractStoreOptions, type OpenedState } from '../../../daemon/store/abstract-store.js';
import type { CommitPlan } from '../../../daemon/store/commit-plan.js';
import { eventMatches } from '../../../daemon/store/event-query.js';
import { compareIds, indexAfter } from '../../../daemon/store/id-order.js';

interface FeedEntry {
  userId: string;
  op: Change['op'];
  at: number;
  origin: Origin;
}

export class MemoryStore extends AbstractStore {
  /** User records as JSON text, by ID. */
  readonly #users = new Map<string, string>();
  /**
   * User IDs in byte order, for scans, brought up to date only when a scan needs it: a
   * commit just notes IDs it added, so a big import does not re-sort on every commit.
   * It may still hold deleted IDs (scans skip them); #listed mirrors it as a set.
   */
  #ids: string[] = [];
  readonly #listed = new Set<string>();
  #added: string[] = [];
  #deletedSinceOrdered = 0;
  readonly #feed = new Map<number, FeedEntry>();
  /** The keys of #feed, ascending, plus removed ones (skipped on read) until compacted. */
  #feedSeqs: number[] = [];
  #feedRemoved = 0;
  /** Each user's one feed entry. */
  readonly #userSeq = new Map<string, { seq: number; op: Change['op'] }>();
  /** Feed entries that are deletes, by seq, for pruning. */
  readonly #tombstones = new Map<number, { userId: string; at: number }>();
  #horizon = 0;
  #seq = 0;
  #lastEventId = 0;
  readonly #cursors = new Map<number, number>();
  readonly #devices = new Map<number, DeviceRecord>();
  readonly #imports = new Map<string, ImportRecord>();
  /** Ascending ID. */
  readonly #events: StoredEvent[] = [];

  constructor(options: AbstractStoreOptions = {}) {
    super(options);
  }

  protected override async _open(): Promise<OpenedState> {
    return { seq: this.#seq, lastEventId: this.#lastEventId };
  }

  protected override async _close(): Promise<void> {}

  protected override async _commit(plan: CommitPlan): Promise<void> {
    // Nothing below can throw: the plan was checked and copied, so this is all-or-nothing.
    for (const change of plan.users) {
      const prior = this.#userSeq.get(change.userId);
      if (prior) {
        this.#feed.delete(prior.seq);
        this.#tombstones.delete(prior.seq);
        this.#feedRemoved += 1;
      }
      this.#feed.set(change.seq, { userId: change.userId, op: change.op, at: plan.at, origin: change.origin });
      this.#feedSeqs.push(change.seq);
      this.#userSeq.set(change.userId, { seq: change.seq, op: change.op });
      if (change.op === 'upsert') {
        if (!this.#listed.has(change.userId)) {
          this.#listed.add(change.userId);
          this.#added.push(change.userId);
        }
        this.#users.set(change.userId, change.record);
      } else {
        if (this.#users.delete(change.userId)) this.#deletedSinceOrdered += 1;
        this.#tombstones.set(change.seq, { userId: change.userId, at: plan.at });
      }
    }
    for (const { deviceId, seq } of plan.cursors) {
      if (seq === null) this.#cursors.delete(deviceId);
      else this.#cursors.set(deviceId, seq);
    }
    for (const { deviceId, device, ifAbsent } of plan.devices) {
      if (device === null) this.#devices.delete(deviceId);
      else if (!ifAbsent || !this.#devices.has(deviceId)) this.#devices.set(deviceId, device);
    }
    for (const record of plan.imports) this.#imports.set(record.hash, record);
    for (const event of plan.events) this.#events.push(event);
    this.#compactFeed();
    this.#seq = plan.seq;
    this.#lastEventId = plan.lastEventId;
  }

  protected override async _pruneTombstones(before: number): Promise<number> {
    const pruned = new Set<number>();
    for (const [seq, tombstone] of this.#tombstones) {
      if (tombstone.at >= before) continue;
      pruned.add(seq);
      this.#tombstones.delete(seq);
      this.#feed.delete(seq);
      this.#userSeq.delete(tombstone.userId);
    }
    if (pruned.size > 0) {
      this.#feedRemoved += pruned.size;
      this.#compactFeed();
      let highest = 0;
      for (const seq of pruned) highest = Math.max(highest, seq);
      this.#horizon = Math.max(this.#horizon, highest + 1);
    }
    return pruned.size;
  }

  /** Drops removed seqs from #feedSeqs once they are half of it (amortised O(1) per removal). */
  #compactFeed(): void {
    if (this.#feedRemoved * 2 <= this.#feedSeqs.length) return;
    this.#feedSeqs = this.#feedSeqs.filter((seq) => this.#feed.has(seq));
    this.#feedRemoved = 0;
  }

  protected override async _getUsers(ids: string[]): Promise<(User | undefined)[]> {
    return ids.map((id) => {
      const record = this.#users.get(id);
      return record === undefined ? undefined : (JSON.parse(record) as User);
    });
  }

  protected override async *_scanUsers(options: { after: string | undefined; limit: number | undefined }): AsyncGenerator<User> {
    let last = options.after;
    let count = 0;
    while (options.limit === undefined || count < options.limit) {
      // Found again after each yield: commits may have changed the order in between.
      const ids = this.#orderedIds();
      const id = ids[last === undefined ? 0 : indexAfter(ids, last)];
      if (id === undefined) return;
      last = id;
      const record = this.#users.get(id);
      if (record === undefined) continue;
      count += 1;
      yield JSON.parse(record) as User;
    }
  }

  /** Merges the IDs added since the last scan (sorted once) into the ordered list. */
  #orderedIds(): readonly string[] {
    if (this.#added.length === 0 && this.#deletedSinceOrdered <= this.#ids.length / 2) return this.#ids;
    const added = this.#added.sort(compareIds);
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    while (i < this.#ids.length || j < added.length) {
      const id = j >= added.length || (i < this.#ids.length && compareIds(this.#ids[i]!, added[j]!) < 0) ? this.#ids[i++]! : added[j++]!;
      if (this.#users.has(id)) merged.push(id);
      else this.#listed.delete(id);
    }
    this.#ids = merged;
    this.#added = [];
    this.#deletedSinceOrdered = 0;
    return merged;
  }

  protected override async _countUsers(): Promise<number> {
    return this.#users.size;
  }

  protected override async _changesSince(seq: number, upTo: number, limit: number | undefined): Promise<Change[]> {
    const changes: Change[] = [];
    for (let i = firstAbove(this.#feedSeqs, seq, asNumber); i < this.#feedSeqs.length; i++) {
      const entrySeq = this.#feedSeqs[i]!;
      if (entrySeq > upTo || (limit !== undefined && changes.length >= limit)) break;
      const entry = this.#feed.get(entrySeq);
      if (entry === undefined) continue;
      changes.push({ seq: entrySeq, ...structuredClone(entry) });
    }
    return changes;
  }

  protected override async _feedHorizon(): Promise<number> {
    return this.#horizon;
  }

  protected override async _cursor(deviceId: number): Promise<number> {
    return this.#cursors.get(deviceId) ?? 0;
  }

  protected override async _getDevice(id: number): Promise<DeviceRecord | undefined> {
    const device = this.#devices.get(id);
    return device && structuredClone(device);
  }

  protected override async _listDevices(): Promise<DeviceRecord[]> {
    return [...this.#devices.keys()].sort((a, b) => a - b).map((id) => structuredClone(this.#devices.get(id)!));
  }

  protected override async _getImport(hash: string): Promise<ImportRecord | undefined> {
    const record = this.#imports.get(hash);
    return record && structuredClone(record);
  }

  protected override async _listImports(state: ImportRecord['state'] | undefined): Promise<ImportRecord[]> {
    return [...this.#imports.values()]
      .filter((record) => state === undefined || record.state === state)
      .sort((a, b) => a.startedAt - b.startedAt || compareIds(a.hash, b.hash))
      .map((record) => structuredClone(record));
  }

  protected override async _queryEvents(query: EventQuery): Promise<StoredEvent[]> {
    const found: StoredEvent[] = [];
    for (let i = firstAbove(this.#events, query.afterId ?? 0, (event) => event.id); i < this.#events.length; i++) {
      if (query.limit !== undefined && found.length >= query.limit) break;
      const event = this.#events[i]!;
      if (eventMatches(event, query)) found.push(structuredClone(event));
    }
    return found;
  }
}

/** The index of the first element of `sorted` (ascending by `key`) whose key is greater than `value`. */
function firstAbove<T>(sorted: readonly T[], value: number, key: (item: T) => number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (key(sorted[mid]!) <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function asNumber(value: number): number {
  return value;
}
