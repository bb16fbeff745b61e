/**
 * The mass-removal guard: a plan that would remove more than `sync.massRemoval.share` of a
 * device's users (and more than `minimum`) waits for an operator's `rollcall confirm`. The
 * count covers everything pending for the device, not one batch, so a site cannot be
 * emptied one batch at a time; and it is compared with what the device holds now.
 */
import type { DeviceState } from './device-state.js';
import type { ChangeFeed } from './change-feed.js';
import type { Fleet } from './fleet.js';
import { planDevice, removalNeedsConfirmation, type DevicePlan } from './planner.js';
import { removalConfirmedEvent, removalHeldEvent } from './sync-events.js';
import type { SyncContext } from './context.js';

/** Cached counts are dropped past this many (each key is a device, cursor and head). */
const COUNT_CACHE = 1000;

export interface RemovalGuardOptions {
  ctx: SyncContext;
  fleet: Fleet;
  feed: ChangeFeed;
}

export class RemovalGuard {
  readonly #ctx: SyncContext;
  readonly #fleet: Fleet;
  readonly #feed: ChangeFeed;
  /** Pending-removal counts by `${device}:${cursor}:${head}:${confirmedUpTo}`. */
  readonly #counts = new Map<string, number>();

  constructor(options: RemovalGuardOptions) {
    this.#ctx = options.ctx;
    this.#fleet = options.fleet;
    this.#feed = options.feed;
  }

  /** How many removals are pending for `device` between its cursor (or its last confirmation) and the head. */
  async pendingRemovals(device: DeviceState): Promise<number> {
    const head = this.#feed.head;
    const confirmed = device.record.removalConfirmedUpTo ?? 0;
    const key = `${device.id}:${device.cursor}:${head}:${confirmed}`;
    const cached = this.#counts.get(key);
    if (cached !== undefined) return cached;
    let count = 0;
    for await (const page of this.#feed.pages(Math.max(device.cursor, confirmed), head)) {
      count += planDevice(page, device.record, this.#ctx.mode, this.#fleet.rules(device), this.#ctx.config.deviceDeletes).remove.length;
    }
    if (this.#counts.size > COUNT_CACHE) this.#counts.clear();
    this.#counts.set(key, count);
    return count;
  }

  /** Holds a plan that would remove too many of a device's users. Returns true when held. */
  async holdsBack(device: DeviceState, plan: DevicePlan): Promise<boolean> {
    if (plan.upToSeq <= (device.record.removalConfirmedUpTo ?? 0)) return false;
    const removals = await this.pendingRemovals(device);
    const guard = this.#ctx.config.massRemoval;
    if (removals <= guard.minimum) return false;
    // What the device holds now (the last check's count is stale after fed batches).
    const holding = await this.#countOnDevice(device);
    if (!removalNeedsConfirmation(removals, holding, guard)) return false;
    await this.hold(device, removals, holding);
    return true;
  }

  async #countOnDevice(device: DeviceState): Promise<number> {
    try {
      return (await this.#ctx.transport.listUsers(device.id, { signal: this.#ctx.signal })).length;
    } catch {
      // Unknown: the last check's count, or hold (0 makes any removal past the minimum wait).
      return device.record.userCount ?? 0;
    }
  }

  /** Records a held removal of `removals` of the `holding` users on `device`. */
  async hold(device: DeviceState, removals: number, holding: number): Promise<void> {
    const { store, metrics, logger, config } = this.#ctx;
    const upToSeq = store.currentSeq();
    const record = device.update((r) => ({ ...r, heldRemoval: { at: this.#ctx.now(), removals, holding, upToSeq } }));
    await this.#ctx.leases.commit([device.id], [
      { type: 'putDevice', device: record },
      { type: 'appendEvent', event: removalHeldEvent(device.id, removals, holding, config.massRemoval.share) },
    ]);
    metrics.heldRemovals.set({ device: String(device.id) }, removals);
    logger.warn({ device: device.id, removals, holding }, `held the removal of ${removals} of ${holding} users from device ${device.id}; waiting for confirmation`);
  }

  /** An operator confirmed held removals (of one device, or all). Returns the devices released. */
  async confirm(deviceId?: number): Promise<number[]> {
    const { store, metrics } = this.#ctx;
    const released: number[] = [];
    for (const device of this.#fleet.select(deviceId === undefined ? {} : { deviceId })) {
      const held = device.record.heldRemoval;
      if (!held) continue;
      const confirmedUpTo = Math.max(held.upToSeq, store.currentSeq());
      const record = device.update(({ heldRemoval: _, ...rest }) => ({ ...rest, removalConfirmedUpTo: confirmedUpTo }));
      await this.#ctx.leases.commit([device.id], [
        { type: 'putDevice', device: record },
        { type: 'appendEvent', event: removalConfirmedEvent(device.id, held.removals) },
      ]);
      metrics.heldRemovals.set({ device: String(device.id) }, 0);
      if (device.checkDue === undefined && held.upToSeq <= device.cursor) device.due('headers');
      released.push(device.id);
    }
    return released;
  }
}
