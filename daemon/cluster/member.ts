/**
 * This instance as a member of the fleet's cluster: it heartbeats its instance row, renews
 * the leases it holds, and every `renewIntervalMs` balances its share (share.ts): gives back
 * devices above its share (their work stopped first, then the lease released) and takes
 * free or expired ones below it. On a store one process opens every lease is granted at
 * once and never expires (daemon/store/solo-leases.ts): the same code, nothing to share.
 *
 * A lease counts as held here only until `sent + ttl − renewInterval / 2`, measured on this
 * process's monotonic clock from when the renew was sent: the store's expiry is at least
 * `sent + ttl`, so an instance that was paused (SIGSTOP, a VM freeze) or cut off stops serving
 * its devices by itself, half a renew interval before another instance can take them (time
 * for a call checked just before to reach the device). A lease renewed on time never gets
 * there: it is renewed with at least `ttl − renewInterval` ≥ `renewInterval` left. Every
 * device call is checked against it right before it is sent (leased-transport.ts). The store
 * checks the fence of every device commit inside the commit as well (`commit`), and a refused
 * one drops the device.
 */
import type { Logger } from 'pino';
import { isRollcallError } from '../errors.js';
import type { CommitResult, DeviceLeases, Fence, InstanceRow, LeaseRow, Mutation, Store } from '../plugins/api.js';
import { lostDeviceIds } from '../store/lease-errors.js';
import { planShare } from './share.js';
import type { ClusterMetrics } from './metrics.js';

export interface ClusterSettings {
  instanceId: string;
  /** The host name, shown beside the instance. */
  host: string;
  leaseTtlMs: number;
  renewIntervalMs: number;
}

/** What the member asks of the devices' side (the fleet), given through its constructor. */
export interface LeaseHandlers {
  /** Every device of the fleet. */
  deviceIds(): number[];
  /** These leases were taken: read their state from the store afresh and serve them. */
  gained(deviceIds: number[]): Promise<void>;
  /** These leases are gone (expired, taken, refused by a fence): their state in memory is stale. */
  lost(deviceIds: number[]): void;
  /** These are given back: wait until no work runs for them (they are no longer served). */
  drain(deviceIds: number[]): Promise<void>;
}

export interface ClusterMemberOptions {
  store: Store;
  settings: ClusterSettings;
  logger: Logger;
  handlers: LeaseHandlers;
  /** Monotonic ms; performance.now by default. */
  clock?: () => number;
  metrics?: ClusterMetrics;
}

interface Held {
  epoch: number;
  /** Monotonic ms until which the lease is surely still ours. */
  until: number;
}

export interface ClusterView {
  instanceId: string;
  shared: boolean;
  /** The last balance: the share of this instance and how many instances were live. */
  target: number;
  liveInstances: number;
  instances: InstanceRow[];
  leases: LeaseRow[];
}

export class ClusterMember {
  readonly #o: ClusterMemberOptions;
  readonly #clock: () => number;
  readonly #held = new Map<number, Held>();
  /** Held, but being given back: no new work starts for them, their commits still go through. */
  readonly #leaving = new Set<number>();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #stopped = false;
  #first = true;
  #view: ClusterView;

  constructor(options: ClusterMemberOptions) {
    this.#o = options;
    this.#clock = options.clock ?? (() => performance.now());
    this.#view = { instanceId: options.settings.instanceId, shared: options.store.leases.shared, target: 0, liveInstances: 0, instances: [], leases: [] };
  }

  get instanceId(): string {
    return this.#o.settings.instanceId;
  }

  get #leases(): DeviceLeases {
    return this.#o.store.leases;
  }

  /** Monotonic ms before the store's expiry at which a lease stops counting as held here. */
  get #margin(): number {
    return this.#o.settings.renewIntervalMs / 2;
  }

  /** Whether this instance may call the device and start work for it now. */
  holds(deviceId: number): boolean {
    const held = this.#held.get(deviceId);
    return held !== undefined && !this.#leaving.has(deviceId) && this.#clock() < held.until;
  }

  /** The devices held now (holds() true), ascending. */
  held(): number[] {
    return [...this.#held.keys()].filter((id) => this.holds(id)).sort((a, b) => a - b);
  }

  /** The owner of a device as last read (this instance for the ones it holds); undefined: nobody. */
  ownerOf(deviceId: number): string | undefined {
    if (this.holds(deviceId)) return this.instanceId;
    const row = this.#view.leases.find((l) => l.deviceId === deviceId);
    return row?.live && row.owner !== this.instanceId ? row.owner : undefined;
  }

  /** What `rollcall status` shows: the last balance and the last read of every lease and instance. */
  view(): ClusterView {
    return this.#view;
  }

  /** The fences of a commit about these devices; a device not held gets epoch 0, which no lease has. */
  fences(deviceIds: readonly number[]): Fence[] {
    return [...new Set(deviceIds)].map((deviceId) => ({ deviceId, owner: this.instanceId, epoch: this.#held.get(deviceId)?.epoch ?? 0 }));
  }

  /**
   * Commits `mutations` fenced by the leases of `deviceIds`: the store refuses it inside the
   * commit when one is no longer held, and the device is then dropped at once.
   */
  async commit(deviceIds: readonly number[], mutations: Mutation[]): Promise<CommitResult> {
    try {
      return await this.#o.store.commit(mutations, { fences: this.fences(deviceIds) });
    } catch (error) {
      if (isRollcallError(error, 'ROLLCALL_ERR_LEASE_LOST')) {
        const lost = lostDeviceIds(error);
        this.#o.logger.warn({ devices: lost }, `lost the lease of device${lost.length === 1 ? '' : 's'} ${lost.join(', ')}: a commit was refused; not serving ${lost.length === 1 ? 'it' : 'them'} any more`);
        this.#drop(lost);
      }
      throw error;
    }
  }

  /** Joins: the first balance is done (leases taken) when this resolves; then balances on a timer. */
  async start(): Promise<void> {
    await this.balance();
    this.#schedule();
  }

  /** Stops balancing and gives every lease back (the engine's work has stopped by now). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick?.catch(() => undefined);
    this.#held.clear();
    try {
      await this.#leases.leave(this.instanceId);
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'could not give the device leases back; they expire by themselves');
    }
  }

  /** One round: heartbeat, renew, read, give back above the share, take below it. */
  balance(): Promise<void> {
    const run = (this.#tick ?? Promise.resolve()).then(() => this.#balance());
    this.#tick = run.catch(() => undefined);
    return run;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.balance()
        .catch((error: unknown) => this.#o.logger.warn({ err: error }, `cluster: balancing the device leases failed: ${(error as Error).message}`))
        .finally(() => this.#schedule());
    }, this.#o.settings.renewIntervalMs);
    this.#timer.unref?.();
  }

  async #balance(): Promise<void> {
    if (this.#stopped) return;
    const { instanceId, host, leaseTtlMs } = this.#o.settings;
    const sent = this.#clock();
    await this.#leases.heartbeat({ id: instanceId, host, ttlMs: leaseTtlMs, fresh: this.#first });
    this.#first = false;
    const held = [...this.#held].map(([deviceId, h]) => ({ deviceId, epoch: h.epoch }));
    const renewed = await this.#leases.renew(instanceId, held, leaseTtlMs);
    const kept = new Set(renewed.map((l) => l.deviceId));
    for (const lease of renewed) this.#held.set(lease.deviceId, { epoch: lease.epoch, until: sent + lease.ttlMs - this.#margin });
    const lost = held.map((h) => h.deviceId).filter((id) => !kept.has(id));
    if (lost.length > 0) {
      this.#o.logger.warn({ devices: lost }, `lost the lease of device${lost.length === 1 ? '' : 's'} ${lost.join(', ')} (expired or taken); not serving ${lost.length === 1 ? 'it' : 'them'} any more`);
      this.#drop(lost);
    }
    if (this.#stopped) return;

    const { leases, instances } = await this.#leases.list();
    const plan = planShare({ me: instanceId, devices: this.#o.handlers.deviceIds(), held: new Set(this.#held.keys()), leases, instances });
    this.#view = { instanceId, shared: this.#leases.shared, target: plan.target, liveInstances: plan.liveInstances, instances, leases };
    this.#o.metrics?.share.set(plan.target);
    this.#o.metrics?.liveInstances.set(plan.liveInstances);
    if (plan.release.length > 0) await this.#giveBack(plan.release);
    if (plan.acquire.length > 0 && !this.#stopped) {
      const asked = this.#clock();
      const taken = await this.#leases.acquire(instanceId, plan.acquire, leaseTtlMs);
      for (const lease of taken) this.#held.set(lease.deviceId, { epoch: lease.epoch, until: asked + lease.ttlMs - this.#margin });
      if (taken.length > 0) {
        const ids = taken.map((l) => l.deviceId);
        this.#o.metrics?.leaseChanges.inc({ change: 'taken' }, ids.length);
        for (const id of ids) this.#o.metrics?.served.set({ device: String(id) }, 1);
        this.#o.metrics?.held.set(this.#held.size);
        if (this.#leases.shared) this.#o.logger.info({ devices: ids, epochs: taken.map((l) => l.epoch) }, `took the lease of ${ids.length} device${ids.length === 1 ? '' : 's'}`);
        try {
          await this.#o.handlers.gained(ids);
        } catch (error) {
          // Not served on a state that could not be read afresh: given back, taken again later.
          this.#drop(ids, 'released');
          await this.#leases.release(instanceId, taken).catch(() => undefined);
          throw error;
        }
      }
    }
    // The view shows the leases as they are after this round's changes, not as read before.
    if (plan.release.length > 0 || plan.acquire.length > 0) {
      const after = await this.#leases.list();
      this.#view = { ...this.#view, instances: after.instances, leases: after.leases };
    }
  }

  /** Stops the work of these devices, then releases their leases; the other devices go on. */
  async #giveBack(deviceIds: number[]): Promise<void> {
    for (const id of deviceIds) this.#leaving.add(id);
    try {
      await this.#o.handlers.drain(deviceIds);
      const held = deviceIds.flatMap((deviceId) => {
        const h = this.#held.get(deviceId);
        return h ? [{ deviceId, epoch: h.epoch }] : [];
      });
      this.#drop(deviceIds, 'released');
      await this.#leases.release(this.instanceId, held);
      this.#o.logger.info({ devices: deviceIds }, `gave back the lease of ${deviceIds.length} device${deviceIds.length === 1 ? '' : 's'} (above this instance's share)`);
    } finally {
      for (const id of deviceIds) this.#leaving.delete(id);
    }
  }

  #drop(deviceIds: readonly number[], change: 'lost' | 'released' = 'lost'): void {
    const dropped = deviceIds.filter((id) => this.#held.delete(id));
    if (dropped.length === 0) return;
    this.#o.metrics?.leaseChanges.inc({ change }, dropped.length);
    for (const id of dropped) this.#o.metrics?.served.set({ device: String(id) }, 0);
    this.#o.metrics?.held.set(this.#held.size);
    this.#o.handlers.lost(dropped);
  }
}
