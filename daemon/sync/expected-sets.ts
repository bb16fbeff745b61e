/**
 * What devices should hold, for checks: expected users (counts and hashes of each device's
 * copy, device-copy.ts) and users to leave alone for a rule. A set is shared by every device
 * with the same placement key, ID rules and device shape, so a check of a hundred devices reads and hashes the users once. It is
 * built by one scan of the user summaries (summary-placement.ts; whole users only where a
 * summary cannot tell, or by a scan of the users when the sync mode cannot target from
 * summaries), and afterwards brought forward from the change feed (only
 * the users changed since are read and placed again), so that checks that follow commits,
 * or a device that keeps reconnecting, do not scan the whole database each time. A set is
 * never mutated: bringing it forward makes a new one. At most EXPECTED_SETS are kept, and
 * those unused for EXPECTED_SET_IDLE_MS are dropped (`dropIdle`, from the scheduler).
 */
import type { User } from '../model/user.js';
import type { LeftOff } from '../model/device-copy.js';
import type { DeviceRecord } from '../model/device.js';
import { shouldRestoreOnDevice } from '../merge/deletes.js';
import { copyFor, placement, type DeviceRules } from './placement.js';
import { SummaryPlacer } from './summary-placement.js';
import { expectedOf, type ExpectedUser } from './reconcile-diff.js';
import type { ChangeFeed } from './change-feed.js';
import type { DeviceState } from './device-state.js';
import type { Fleet } from './fleet.js';
import type { SyncContext } from './context.js';

export const EXPECTED_SETS = 4;
/** Whole users read per call, where summaries cannot place them or hashes are needed. */
const READ_PAGE = 1000;
export const EXPECTED_SET_IDLE_MS = 60_000;

/** What devices placed alike should hold, as of `seq`. */
export interface ExpectedSet {
  seq: number;
  expected: ReadonlyMap<string, ExpectedUser>;
  leaveAlone: ReadonlySet<string>;
}

/** What one device should hold: its placement's set with the device's own overlays. */
export interface DeviceExpectation {
  expected: ReadonlyMap<string, ExpectedUser>;
  leaveAlone: Set<string>;
}

export interface ExpectedSetsOptions {
  ctx: SyncContext;
  fleet: Fleet;
  feed: ChangeFeed;
}

export class ExpectedSets {
  readonly #ctx: SyncContext;
  readonly #fleet: Fleet;
  readonly #feed: ChangeFeed;
  readonly #cache = new Map<string, { set: Promise<ExpectedSet>; usedAt: number }>();
  /**
   * Left-off lists by content, so that the many users with the same (a visual-face device's
   * IR faces, a sensorless device's fingers) share one array instead of one each. Bounded by
   * the distinct lists, which are few (kinds × reasons × counts up to the per-user maxima).
   */
  readonly #leftOffLists = new Map<string, readonly LeftOff[]>();

  constructor(options: ExpectedSetsOptions) {
    this.#ctx = options.ctx;
    this.#fleet = options.fleet;
    this.#feed = options.feed;
  }

  get size(): number {
    return this.#cache.size;
  }

  /** What `device` should hold: the shared set, plus the users this device refused or deleted itself. */
  async of(device: DeviceState): Promise<DeviceExpectation> {
    const shared = await this.shared(device);
    const leaveAlone = new Set(shared.leaveAlone);
    // A refusal for an unknown cause is offered again at each check (DeviceRecord.rejectedUsers).
    const refusals = Object.entries(device.record.rejectedUsers ?? {}).filter(([, refused]) => !refused.unknown);
    const deletions = Object.entries(device.record.deletedAtDevice ?? {});
    const hashes = await this.hashes(device, shared.expected, [...refusals, ...deletions].map(([id]) => id));
    for (const [id, refused] of refusals) if (hashes.get(id) === refused.hash) leaveAlone.add(id);
    for (const [id, deletedAs] of deletions) {
      if (shared.expected.has(id) && !shouldRestoreOnDevice(this.#ctx.config.deviceDeletes, hashes.get(id) !== deletedAs)) leaveAlone.add(id);
    }
    return { expected: shared.expected, leaveAlone };
  }

  /**
   * The copy hashes of those of `ids` that `expected` (a set of `device`'s) holds: the set's
   * own, else worked out from the stored users (a set made from summaries has none).
   */
  async hashes(device: DeviceState, expected: ReadonlyMap<string, ExpectedUser>, ids: readonly string[]): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    const unknown: string[] = [];
    for (const id of ids) {
      const want = expected.get(id);
      if (want?.hash !== undefined) hashes.set(id, want.hash);
      else if (want) unknown.push(id);
    }
    if (unknown.length === 0) return hashes;
    const rules = this.#fleet.rules(device);
    for (let i = 0; i < unknown.length; i += READ_PAGE) {
      for (const user of await this.#ctx.store.getUsers(unknown.slice(i, i + READ_PAGE))) if (user) hashes.set(user.id, copyFor(user, rules).hash);
    }
    return hashes;
  }

  /** The set shared by the devices placed like `device`, as of the feed's head. */
  shared(device: DeviceState): Promise<ExpectedSet> {
    const rules = this.#fleet.rules(device);
    const placementKey = this.#ctx.mode.placementKey?.(device.record) ?? `device:${device.id}`;
    // Devices of another shape get other copies of the users (device-copy.ts): another set.
    const key = `${placementKey}|${rules.alphanumericIds}|${rules.shape ?? ''}`;
    // Without the device's own overlays: they are applied per device in `of`.
    const { rejectedUsers: _r, deletedAtDevice: _d, ...record } = device.record;
    const cached = this.#cache.get(key);
    const seq = this.#feed.head;
    const set = cached ? cached.set.then((known) => (known.seq >= seq ? known : this.#bringForward(known, record, rules))) : this.#scan(record, rules);
    this.#cache.delete(key);
    this.#cache.set(key, { set, usedAt: this.#ctx.now() });
    if (this.#cache.size > EXPECTED_SETS) this.#cache.delete(this.#cache.keys().next().value!);
    set.catch(() => {
      if (this.#cache.get(key)?.set === set) this.#cache.delete(key);
    });
    return set;
  }

  /** Forgets sets no check used for EXPECTED_SET_IDLE_MS (an idle daemon holds none). */
  dropIdle(now: number): void {
    for (const [key, entry] of this.#cache) if (now - entry.usedAt > EXPECTED_SET_IDLE_MS) this.#cache.delete(key);
  }

  /** Forgets every set (the sync mode changed: placements may differ). */
  clear(): void {
    this.#cache.clear();
  }

  async #scan(record: DeviceRecord, rules: DeviceRules): Promise<ExpectedSet> {
    const seq = this.#feed.head;
    const expected = new Map<string, ExpectedUser>();
    const leaveAlone = new Set<string>();
    const { store, mode } = this.#ctx;
    if (!SummaryPlacer.usable(mode, rules)) {
      for await (const user of store.scanUsers()) this.#place(user, record, rules, expected, leaveAlone);
      return { seq, expected, leaveAlone };
    }
    const placer = new SummaryPlacer(mode, record, rules);
    const toRead: string[] = [];
    for await (const page of store.scanUserSummaries()) {
      for (const summary of page) {
        const where = placer.place(summary);
        if (where.place === 'read') toRead.push(summary.id);
        else if (where.place) expected.set(summary.id, where.expected);
        else if (where.why !== 'not-targeted') leaveAlone.add(summary.id);
      }
    }
    for (let i = 0; i < toRead.length; i += READ_PAGE) {
      for (const user of await store.getUsers(toRead.slice(i, i + READ_PAGE))) if (user) this.#place(user, record, rules, expected, leaveAlone);
    }
    return { seq, expected, leaveAlone };
  }

  /** `known` with the users changed since its seq placed again (a new set); a scan if the feed no longer reaches back that far. */
  async #bringForward(known: ExpectedSet, record: DeviceRecord, rules: DeviceRules): Promise<ExpectedSet> {
    if (!(await this.#feed.reachesBack(known.seq))) return this.#scan(record, rules);
    const seq = this.#feed.head;
    const expected = new Map(known.expected);
    const leaveAlone = new Set(known.leaveAlone);
    for await (const page of this.#feed.pages(known.seq, seq)) {
      for (const { change, user } of page) {
        expected.delete(change.userId);
        leaveAlone.delete(change.userId);
        if (user) this.#place(user, record, rules, expected, leaveAlone);
      }
    }
    return { seq, expected, leaveAlone };
  }

  #shared(leftOff: readonly LeftOff[]): readonly LeftOff[] {
    if (leftOff.length === 0) return leftOff;
    const key = JSON.stringify(leftOff);
    let list = this.#leftOffLists.get(key);
    if (!list) this.#leftOffLists.set(key, (list = leftOff));
    return list;
  }

  #place(user: User, record: DeviceRecord, rules: DeviceRules, expected: Map<string, ExpectedUser>, leaveAlone: Set<string>): void {
    const where = placement(user, record, this.#ctx.mode, rules, 'restore');
    if (where.place) expected.set(user.id, expectedOf(where.copy, where.hash, this.#shared(where.leftOff)));
    else if (where.why !== 'not-targeted') leaveAlone.add(user.id);
  }
}
