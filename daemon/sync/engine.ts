/**
 * The sync engine (ARCHITECTURE §4), as the daemon and the admin API see it: a facade that
 * builds the parts and forwards to them. Each part is one concern in its own file (see
 * README.md): the fleet of devices, the change feed, the scheduler, the batch sender (the
 * one write path to devices), shared calls with soft deadlines, device health, the
 * mass-removal guard, expected sets, reconcile, operator requests, and the device-event
 * follower. Parts get what they need through their constructors; none sets another's
 * callbacks.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Store, SyncModeInstance, TransportInstance } from '../plugins/api.js';
import type { DeviceConfig, SyncConfig } from '../config/schema.js';
import type { Metrics } from '../obs/metrics.js';
import { syncMetrics, type SyncMetrics } from './metrics.js';
import { FanoutTracker } from './fanout.js';
import { Wakeup } from './wakeup.js';
import { ChangeFeed } from './change-feed.js';
import { Fleet, pendingDevices, type DeviceStatus } from './fleet.js';
import type { PendingDevice } from '../plugins/api.js';
import { SharedCall } from './shared-call.js';
import { DeviceHealth } from './device-health.js';
import { RemovalGuard } from './removal-guard.js';
import { ExpectedSets } from './expected-sets.js';
import { BatchSender } from './batch-sender.js';
import { Reconcile, type CheckResult, type DevicePlanPreview } from './reconcile.js';
import { Scheduler } from './scheduler.js';
import { OperatorRequests, type UserPushResult } from './operator-requests.js';
import { DeviceEventFollower } from './device-events.js';
import type { CheckDepth, DeviceState } from './device-state.js';
import type { DeviceFilter } from './fleet.js';
import type { SyncContext } from './context.js';
import type { User } from '../model/user.js';
import type { LeftOff } from '../model/device-copy.js';
import { HeapRelease } from '../obs/heap-release.js';
import { ClusterMember, type ClusterSettings, type ClusterView } from '../cluster/member.js';
import { leasedTransport } from '../cluster/leased-transport.js';
import { clusterMetrics } from '../cluster/metrics.js';
import type { ImportHold } from './import-hold.js';

export type { DeviceStatus, CheckResult, DevicePlanPreview, UserPushResult };

export interface SyncEngineOptions {
  store: Store;
  transport: TransportInstance;
  mode: SyncModeInstance;
  config: SyncConfig;
  devices: readonly DeviceConfig[];
  logger: Logger;
  metrics: Metrics;
  /** Unix ms; Date.now by default. */
  now?: () => number;
  /** The device-event follower (on by default; tests of the push path alone turn it off). */
  deviceEvents?: false | { queueSize?: number };
  /** The gateway turned out, after start, to be one rollcall does not serve (FleetOptions). */
  onGatewayUnsupported?: (error: Error) => void;
  /** This instance and its leases (the `cluster` config); defaults fit a store one process opens. */
  cluster?: ClusterSettings;
  /** Feed batches wait while an import commits (import-hold.ts); none by default. */
  importHold?: ImportHold;
}

/** The cluster settings when none are given: the `cluster` config's defaults. */
export const DEFAULT_CLUSTER: Omit<ClusterSettings, 'instanceId' | 'host'> = { leaseTtlMs: 15_000, renewIntervalMs: 5_000 };

export class SyncEngine {
  readonly #controller = new AbortController();
  readonly #ctx: SyncContext;
  readonly #fleet: Fleet;
  readonly #expected: ExpectedSets;
  readonly #scheduler: Scheduler;
  readonly #heap: HeapRelease;
  readonly #requests: OperatorRequests;
  readonly #follower: DeviceEventFollower | undefined;
  readonly #member: ClusterMember;
  #following = false;
  #config: SyncConfig;
  #mode: SyncModeInstance;
  #metrics: SyncMetrics | undefined;
  #fanout: FanoutTracker | undefined;

  constructor(options: SyncEngineOptions) {
    this.#config = options.config;
    this.#mode = options.mode;
    // Every gateway call under way listens to this signal; there are legitimately many.
    setMaxListeners(0, this.#controller.signal);
    const engine = this;
    // The leases decide which devices the fleet serves; the fleet and the follower act on a
    // change of them: built first, its handlers reach the parts built below.
    let fleetRef: Fleet | undefined;
    const settings = options.cluster ?? { instanceId: 'local', host: hostname(), ...DEFAULT_CLUSTER };
    const member = (this.#member = new ClusterMember({
      store: options.store,
      settings,
      metrics: clusterMetrics(options.metrics, settings.instanceId, options.store.leases.shared),
      logger: options.logger.child({ component: 'cluster' }),
      handlers: {
        deviceIds: () => fleetRef?.ids ?? [],
        gained: async (ids) => {
          await fleetRef?.take(ids);
          if (engine.#following) for (const id of ids) if (fleetRef?.device(id)?.connected) void engine.#follower?.catchUp(id);
        },
        lost: (ids) => fleetRef?.dropped(ids),
        drain: (ids) => fleetRef?.drain(ids, engine.#controller.signal) ?? Promise.resolve(),
      },
    }));
    const ctx: SyncContext = (this.#ctx = {
      leases: member,
      store: options.store,
      // Every device call checks the lease right before it is sent (cluster/leased-transport.ts).
      transport: leasedTransport(options.transport, member),
      logger: options.logger,
      now: options.now ?? Date.now,
      signal: this.#controller.signal,
      get metrics() {
        return (engine.#metrics ??= syncMetrics(options.metrics, options.store));
      },
      get fanout() {
        return (engine.#fanout ??= new FanoutTracker((s) => engine.metrics.eventToFanout.observe(s)));
      },
      get config() {
        return engine.#config;
      },
      get mode() {
        return engine.#mode;
      },
    });
    const wakeup = new Wakeup();
    const feed = new ChangeFeed(ctx.store);
    const fleet = (fleetRef = this.#fleet = new Fleet({ ctx, devices: options.devices, wake: () => wakeup.wake(), leases: member, ...(options.onGatewayUnsupported ? { onGatewayUnsupported: options.onGatewayUnsupported } : {}) }));
    const health = new DeviceHealth({ ctx, fleet });
    const guard = new RemovalGuard({ ctx, fleet, feed });
    const expected = (this.#expected = new ExpectedSets({ ctx, fleet, feed }));
    const calls = new SharedCall({ signal: ctx.signal, logger: ctx.logger, onCut: () => ctx.metrics.cutCalls.inc() });
    const sender = new BatchSender({ ctx, fleet, feed, guard, health, calls });
    // The follower asks for repairs, which the operator requests make through the scheduler,
    // whose checks ask the follower to catch up first: the one cycle, closed late here.
    let requests: OperatorRequests | undefined;
    const repairs = { repairUser: (deviceId: number, userId: string) => requests?.repairUser(deviceId, userId) };
    const follower = (this.#follower =
      options.deviceEvents === false ? undefined : new DeviceEventFollower({ ctx, logger: options.logger.child({ component: 'device-events' }), fleet, repairs, queueSize: options.deviceEvents?.queueSize }));
    const reconcile = new Reconcile({ ctx, fleet, expected, guard, sender, health, deviceChanges: follower });
    // Checks and batches leave garbage that an idle daemon would keep (heap-release.ts).
    const heap = (this.#heap = new HeapRelease({ logger: ctx.logger }));
    const afterwards = <T>(work: Promise<T>): Promise<T> => work.finally(() => heap.afterBurst());
    const scheduler = (this.#scheduler = new Scheduler({
      ctx,
      fleet,
      expected,
      wakeup,
      ...(options.importHold ? { hold: options.importHold } : {}),
      work: { check: (d, depth, repair) => afterwards(reconcile.check(d, depth, repair)), feed: (g, release) => afterwards(sender.feed(g, release)) },
    }));
    requests = this.#requests = new OperatorRequests({ ctx, fleet, scheduler, reconcile, sender, guard });
    if (options.importHold) options.importHold.onRelease = () => wakeup.wake();
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.#controller.abort(signal.reason), { once: true });
    if (signal.aborted) this.#controller.abort(signal.reason);
    void this.metrics;
    // A stop can come while a step is under way: nothing starts after it.
    const stopped = this.#controller.signal;
    if (stopped.aborted) return;
    await this.#fleet.start();
    if (stopped.aborted) return;
    // The first share of the fleet is taken before any device is read or written.
    await this.#member.start();
    if (stopped.aborted) return;
    this.#following = true;
    await this.#follower?.start(stopped);
    if (stopped.aborted) {
      await this.#follower?.stop();
      return;
    }
    this.#scheduler.start();
  }

  /** Stops the follower, then waits for every task in flight (each call has a deadline). */
  async stop(): Promise<void> {
    this.#controller.abort(new Error('stopping'));
    await this.#follower?.stop();
    await this.#scheduler.stop();
    this.#heap.stop();
    // Work has stopped: the leases go back, and the other instances take the devices at once.
    await this.#member.stop();
  }

  /** This instance, its share and every lease as last read (`rollcall status`). */
  cluster(): ClusterView {
    return this.#member.view();
  }

  get metrics(): SyncMetrics {
    return this.#ctx.metrics;
  }

  get fanout(): FanoutTracker {
    return this.#ctx.fanout;
  }

  get config(): SyncConfig {
    return this.#config;
  }

  get mode(): SyncModeInstance {
    return this.#mode;
  }

  get follower(): DeviceEventFollower | undefined {
    return this.#follower;
  }

  device(id: number): DeviceState | undefined {
    return this.#fleet.device(id);
  }

  get devices(): DeviceState[] {
    return this.#fleet.devices;
  }

  /** A reload: sync settings apply at once; new devices are adopted, changed ones planned again. */
  async reconfigure(config: SyncConfig, devices: readonly DeviceConfig[]): Promise<void> {
    this.#config = config;
    await this.#fleet.reconfigure(devices);
  }

  /** Swaps the sync mode (a reload); every device is planned again by a check. */
  setMode(mode: SyncModeInstance): void {
    this.#mode = mode;
    this.#expected.clear();
    for (const device of this.#fleet.devices) device.due('headers');
    this.#scheduler.wake();
  }

  refreshConnections(): Promise<void> {
    return this.#fleet.refreshConnections();
  }

  setConnected(deviceId: number, connected: boolean): void {
    this.#fleet.setConnected(deviceId, connected);
  }

  /** Something changed outside the feed: look again. */
  wake(): void {
    this.#scheduler.wake();
  }

  requestCheck(deviceId: number, depth: CheckDepth): void {
    this.#fleet.requestCheck(deviceId, depth);
  }

  status(): DeviceStatus[] {
    return this.#fleet.status();
  }

  /** Device-to-server devices waiting for the gateway's accept filter (undefined: the gateway cannot say now). */
  pendingDevices(deadlineMs = 3000): Promise<PendingDevice[] | undefined> {
    return pendingDevices(this.#ctx, deadlineMs);
  }

  sync(filter: DeviceFilter & { full?: boolean } = {}): Promise<number[]> {
    return this.#requests.sync(filter);
  }

  verify(filter: DeviceFilter & { deep?: boolean; repair?: boolean } = {}): Promise<CheckResult[]> {
    return this.#requests.verify(filter);
  }

  plan(filter: { deviceId?: number } = {}): Promise<DevicePlanPreview[]> {
    return this.#requests.plan(filter);
  }

  syncUser(userId: string): Promise<UserPushResult> {
    return this.#requests.syncUser(userId);
  }

  repairUser(deviceId: number, userId: string): void {
    this.#requests.repairUser(deviceId, userId);
  }

  /**
   * Where reading one device's event log starts (`rollcall devices events-from`): an event
   * ID, or its newest event. Resolves with the device's status then; undefined for a device
   * the engine does not serve. Rejects when device events are not followed.
   */
  async setEventStart(deviceId: number, start: number | 'latest'): Promise<DeviceStatus | undefined> {
    if (!this.#follower) throw new Error('device events are not followed by this engine');
    const record = await this.#follower.startEventsFrom(deviceId, start);
    return record ? this.#fleet.status().find((d) => d.id === deviceId) : undefined;
  }

  confirmRemovals(deviceId?: number): Promise<number[]> {
    return this.#requests.confirmRemovals(deviceId);
  }

  /**
   * What each device that should hold `user` leaves off of it (its copy, daemon/model/device-copy.ts),
   * by device ID order; devices whose copy is the whole user are not listed. From each device's
   * profile on this connection, else its last stored one.
   */
  leftOff(user: User): UserLeftOff[] {
    return this.#fleet.devices
      .filter((device) => this.#mode.targets(user, device.record))
      .map((device) => ({ deviceId: device.id, leftOff: this.#fleet.copyOf(device.id, user).leftOff }))
      .filter((entry) => entry.leftOff.length > 0)
      .sort((a, b) => a.deviceId - b.deviceId);
  }
}

/** What one device's copy of a user leaves off. */
export interface UserLeftOff {
  deviceId: number;
  leftOff: LeftOff[];
}
