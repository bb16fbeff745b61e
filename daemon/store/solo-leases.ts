/**
 * Leases on a store only one process opens (LevelDB holds a lock on its directory; memory
 * lives in the process): there is nobody to share the fleet with, so every lease is
 * granted at once, never expires, and keeps epoch 1. Fences are still checked, against
 * what this process was granted, so a device worker that runs without its lease is a bug
 * that fails the same way on every store.
 */
import type { DeviceLeases, Fence, HeldLease, InstanceRow, LeaseRow } from '../plugins/lease-api.js';
import { leaseLostError } from './lease-errors.js';

const EPOCH = 1;

export class SoloLeases implements DeviceLeases {
  readonly shared = false;
  readonly #owners = new Map<number, string>();
  readonly #instances = new Map<string, InstanceRow>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  async heartbeat(instance: { id: string; host: string; ttlMs: number }): Promise<void> {
    const at = this.#now();
    const known = this.#instances.get(instance.id);
    this.#instances.set(instance.id, { id: instance.id, host: instance.host, startedAt: known?.startedAt ?? at, seenAt: at, live: true });
  }

  async acquire(owner: string, deviceIds: readonly number[]): Promise<HeldLease[]> {
    const taken: HeldLease[] = [];
    for (const deviceId of deviceIds) {
      const current = this.#owners.get(deviceId);
      if (current !== undefined && current !== owner) continue;
      this.#owners.set(deviceId, owner);
      taken.push({ deviceId, epoch: EPOCH, ttlMs: Infinity });
    }
    return taken;
  }

  async renew(owner: string, held: readonly { deviceId: number; epoch: number }[]): Promise<HeldLease[]> {
    return held.filter((h) => h.epoch === EPOCH && this.#owners.get(h.deviceId) === owner).map((h) => ({ deviceId: h.deviceId, epoch: EPOCH, ttlMs: Infinity }));
  }

  async release(owner: string, held: readonly { deviceId: number; epoch: number }[]): Promise<void> {
    for (const h of held) if (this.#owners.get(h.deviceId) === owner) this.#owners.delete(h.deviceId);
  }

  async leave(owner: string): Promise<void> {
    for (const [deviceId, current] of this.#owners) if (current === owner) this.#owners.delete(deviceId);
    this.#instances.delete(owner);
  }

  async list(): Promise<{ leases: LeaseRow[]; instances: InstanceRow[] }> {
    const leases = [...this.#owners].map(([deviceId, owner]) => ({ deviceId, owner, epoch: EPOCH, live: true, ttlMs: Infinity })).sort((a, b) => a.deviceId - b.deviceId);
    return { leases, instances: [...this.#instances.values()] };
  }

  /** Throws ROLLCALL_ERR_LEASE_LOST unless every fence is a lease this process holds. */
  check(fences: readonly Fence[]): void {
    const broken = fences.filter((f) => f.epoch !== EPOCH || this.#owners.get(f.deviceId) !== f.owner);
    if (broken.length > 0) throw leaseLostError(broken);
  }
}
