/**
 * What operators (through the admin API) and the device-event follower ask of the engine:
 * let changes through, check devices now, preview a sync, push one user, put one user back
 * on one device, confirm held removals. Work that talks to devices runs under the
 * scheduler (`runExclusive`), so it never races a task for the same device and `stop()`
 * waits for it; pushes go through the batch sender like every other push.
 */
import type { CheckDepth } from './device-state.js';
import type { DeviceFilter, Fleet } from './fleet.js';
import type { Scheduler } from './scheduler.js';
import type { BatchSender } from './batch-sender.js';
import type { RemovalGuard } from './removal-guard.js';
import { notConnected, type CheckResult, type DevicePlanPreview, type Reconcile } from './reconcile.js';
import { errorText, type SyncContext } from './context.js';

export interface UserPushResult {
  enrolled: number[];
  removed: number[];
  failed: Record<number, string>;
}

export interface OperatorRequestsOptions {
  ctx: SyncContext;
  fleet: Fleet;
  scheduler: Scheduler;
  reconcile: Reconcile;
  sender: BatchSender;
  guard: RemovalGuard;
}

export class OperatorRequests {
  readonly #o: OperatorRequestsOptions;

  constructor(options: OperatorRequestsOptions) {
    this.#o = options;
  }

  /** Lets pending changes through (manual mode) and, with `full`, checks and repairs the devices. */
  async sync(filter: DeviceFilter & { full?: boolean } = {}): Promise<number[]> {
    const head = this.#o.ctx.store.currentSeq();
    const devices = this.#o.fleet.select(filter);
    for (const d of devices) {
      d.allowedUpTo = Math.max(d.allowedUpTo, head);
      d.retryAt = 0;
    }
    this.#o.scheduler.wake();
    if (filter.full) await this.verify({ ...selector(filter), repair: true });
    return devices.map((d) => d.id);
  }

  /** Checks devices now (waits for them), optionally without repairing. */
  async verify(filter: DeviceFilter & { deep?: boolean; repair?: boolean } = {}): Promise<CheckResult[]> {
    const method: CheckDepth = filter.deep ? 'deep' : 'headers';
    const results = await Promise.all(
      this.#o.fleet.select(filter).map((device) =>
        this.#o.scheduler.runExclusive([device], () => (device.connected ? this.#o.reconcile.check(device, method, filter.repair ?? false) : Promise.resolve(notConnected(device.id, method)))),
      ),
    );
    return results.sort((a, b) => a.deviceId - b.deviceId);
  }

  /** What a sync would change on each connected device, without doing it. */
  async plan(filter: { deviceId?: number } = {}): Promise<DevicePlanPreview[]> {
    const out: DevicePlanPreview[] = [];
    for (const device of this.#o.fleet.select(filter)) {
      if (device.connected) out.push(await this.#o.reconcile.preview(device));
    }
    return out;
  }

  /** Pushes one user now to every connected device that should hold it, and removes it from the others. */
  async syncUser(userId: string): Promise<UserPushResult> {
    const devices = this.#o.fleet.devices.filter((d) => d.connected);
    const { planned, failed } = await this.#o.scheduler.runExclusive(devices, async () => this.#o.sender.pushNow(devices, userId, await this.#o.ctx.store.getUser(userId)));
    const done = (op: 'enroll' | 'remove'): number[] => planned.filter((p) => p.plan[op].length > 0 && !failed.has(p.device.id)).map((p) => p.device.id);
    return { enrolled: done('enroll'), removed: done('remove'), failed: Object.fromEntries(failed) };
  }

  /**
   * Puts one user on one device back to what the database says (a device-side edit or
   * delete that the sync mode does not accept), once the device is free: the server's
   * version, or no user where the device should not hold one. Nothing else on the device is
   * touched. Returns at once; a failure asks for a check of the device.
   */
  repairUser(deviceId: number, userId: string): void {
    const device = this.#o.fleet.device(deviceId);
    if (!device?.connected) return;
    const { ctx, scheduler, sender, fleet } = this.#o;
    void scheduler
      .runExclusive([device], async () => {
        if (!device.connected) return;
        const { failed } = await sender.pushNow([device], userId, await ctx.store.getUser(userId));
        const failure = failed.get(deviceId);
        if (failure !== undefined) throw new Error(failure);
      })
      .catch((error: unknown) => {
        ctx.logger.warn({ device: deviceId, userId, err: error }, `could not restore user ${userId} on device ${deviceId}: ${errorText(error)}`);
        fleet.requestCheck(deviceId, 'headers');
      });
  }

  /** An operator confirmed held removals (of one device, or all). Returns the devices released. */
  async confirmRemovals(deviceId?: number): Promise<number[]> {
    const released = await this.#o.guard.confirm(deviceId);
    this.#o.scheduler.wake();
    return released;
  }
}

function selector(filter: DeviceFilter): DeviceFilter {
  return { ...(filter.deviceId !== undefined ? { deviceId: filter.deviceId } : {}), ...(filter.location !== undefined ? { location: filter.location } : {}) };
}
