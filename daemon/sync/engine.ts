/**
 * The sync engine (ARCHITECTURE §4): device workers that follow the change feed from
 * their durable cursors, and reconcile that makes a device equal to its expected state
 * without trusting any cursor.
 *
 * One scheduler loop decides what runs: devices at the same cursor are read together and,
 * when their plans are the same, share one EnrollMulti/DeleteMulti call. A shared call that
 * outlasts its soft deadline is cut and sent again in smaller calls, and each device goes on
 * as soon as its own outcome is booked, so a slow or hung device holds only itself; a device
 * that failed or was slow lately is served alone for a while. A cursor moves only after the
 * device acknowledged, in the same commit as the bookkeeping that goes with it.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type {
  Change,
  DeviceFailure,
  Mutation,
  MultiOutcome,
  NewEvent,
  Store,
  SyncModeInstance,
  TransportInstance,
} from '../plugins/api.js';
import type { User } from '../model/user.js';
import type { DeviceRecord } from '../model/device.js';
import type { DeviceConfig, SyncConfig } from '../config/schema.js';
import type { Metrics } from '../obs/metrics.js';
import { deviceProjectionHash } from '../model/projection.js';
import { DeviceState, TROUBLE_ALONE_MS, type CheckDepth } from './device-state.js';
import { cutBatch, groupByPlan, planDevice, removalNeedsConfirmation, type DevicePlan, type FeedItem } from './planner.js';
import { placement, PlacementFacts, type DeviceRules } from './placement.js';
import { shouldRestoreOnDevice } from '../merge/deletes.js';
import { contentDiff, differences, expectedOf, headerDiff, type ExpectedUser } from './reconcile-diff.js';
import { syncMetrics, type SyncMetrics } from './metrics.js';
import { FanoutTracker } from './fanout.js';
import { Wakeup } from './wakeup.js';
import { SoftDeadline, slowCallMs } from './soft-deadline.js';

/** gRPC codes (per device) that mean "this content is refused", not "the device is unwell". */
const CONTENT_REFUSED = new Set([3 /* INVALID_ARGUMENT */, 6 /* ALREADY_EXISTS */, 9 /* FAILED_PRECONDITION */, 11 /* OUT_OF_RANGE */]);
const NOT_FOUND = 5;
/** What a shared call resolves to when it was cut at its soft deadline (after `afterMs`). */
class Cut {
  constructor(readonly afterMs: number) {}
}
/** Expected sets kept for checks (see #sharedExpected), and how long an unused one is kept. */
const EXPECTED_SETS = 4;
const EXPECTED_SET_IDLE_MS = 60_000;
const RESOURCE_EXHAUSTED = 8;

export interface SyncEngineOptions {
  store: Store;
  transport: TransportInstance;
  mode: SyncModeInstance;
  /** Replaced by reconfigure() on reload. */
  config: SyncConfig;
  devices: readonly DeviceConfig[];
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
}

export interface DeviceStatus {
  id: number;
  name?: string;
  location?: string;
  source: DeviceRecord['source'];
  connected: boolean;
  cursor: number;
  pending: number;
  inSync: boolean;
  quarantined: boolean;
  failures: number;
  lastError?: string;
  lastCheck?: DeviceRecord['lastCheck'];
  heldRemoval?: DeviceRecord['heldRemoval'];
  userCount?: number;
}

export interface CheckResult {
  deviceId: number;
  method: CheckDepth;
  inSync: boolean;
  /** Differences found before any repair. */
  differences: number;
  enrolled: number;
  removed: number;
  /** Removals waiting for `rollcall confirm`. */
  held: number;
  /** Users left alone (rule breaks, refused, deleted at the device). */
  leftAlone: number;
  error?: string;
}

export interface DevicePlanPreview {
  deviceId: number;
  enroll: string[];
  remove: string[];
  skipped: { userId: string; reason: string }[];
}

/** A device refused an operation; carries the per-device failure for events and backoff. */
class DeviceRefusal extends Error {
  readonly failure: DeviceFailure;
  constructor(failure: DeviceFailure) {
    super(failureText(failure));
    this.failure = failure;
  }
}

function failureText(failure: DeviceFailure): string {
  return `${failure.codeName}: ${failure.message}`;
}

/** Into how many smaller calls a shared call cut at its soft deadline is split. */
const CUT_PARTS = 8;

/** `items` in at most `n` parts of near-equal size, in order. */
function parts<T>(items: readonly T[], n: number): T[][] {
  const size = Math.ceil(items.length / Math.min(n, items.length));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What devices placed alike should hold, as of `seq` (see #sharedExpected). */
interface ExpectedSet {
  seq: number;
  expected: ReadonlyMap<string, ExpectedUser>;
  leaveAlone: ReadonlySet<string>;
}

/** Hands a device of a task back before the task ends (see #launch). */
type Release = (device: DeviceState) => void;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class SyncEngine {
  readonly #o: SyncEngineOptions;
  readonly #devices = new Map<number, DeviceState>();
  readonly #wakeup = new Wakeup();
  readonly #tasks = new Set<Promise<void>>();
  readonly #softDeadline = new SoftDeadline();
  #metrics: SyncMetrics | undefined;
  #fanout: FanoutTracker | undefined;
  #controller = new AbortController();
  #loop: Promise<void> | undefined;
  #mode: SyncModeInstance;
  #nextCheck = 0;
  #nextDeepCheck = 0;
  #nextPrune = 0;
  /** Expected sets by placement, each as of some seq: see #sharedExpected. */
  readonly #expectedCache = new Map<string, { set: Promise<ExpectedSet>; usedAt: number }>();
  /** Cached pending-removal counts: `${device}:${cursor}:${head}` → count. */
  readonly #pendingRemovals = new Map<string, number>();

  constructor(options: SyncEngineOptions) {
    this.#o = options;
    this.#mode = options.mode;
    // Every gateway call under way listens to this signal; there are legitimately many.
    setMaxListeners(0, this.#controller.signal);
  }

  get #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  get metrics(): SyncMetrics {
    this.#metrics ??= syncMetrics(this.#o.metrics, this.#o.store);
    return this.#metrics;
  }

  get fanout(): FanoutTracker {
    this.#fanout ??= new FanoutTracker((s) => this.metrics.eventToFanout.observe(s));
    return this.#fanout;
  }

  device(id: number): DeviceState | undefined {
    return this.#devices.get(id);
  }

  get devices(): DeviceState[] {
    return [...this.#devices.values()];
  }

  get mode(): SyncModeInstance {
    return this.#mode;
  }

  // -------------------------------------------------------------------------
  // lifecycle

  async start(signal: AbortSignal): Promise<void> {
    const { store, config } = this.#o;
    signal.addEventListener('abort', () => this.#controller.abort(signal.reason), { once: true });
    this.metrics;
    const known = new Map((await store.listDevices()).map((d) => [d.id, d]));
    const mutations: Mutation[] = [];
    for (const configured of this.#o.devices) {
      const previous = known.get(configured.id);
      const record: DeviceRecord = {
        ...(previous ?? { lastEventId: 0 }),
        id: configured.id,
        source: 'config',
        address: configured.address,
        port: configured.port,
        useSSL: configured.useSSL,
        location: configured.location,
        accessGroups: configured.accessGroups,
      };
      known.set(record.id, record);
      mutations.push({ type: 'putDevice', device: record });
    }
    if (mutations.length > 0) await store.commit(mutations);
    for (const record of known.values()) await this.#adopt(record);

    const withAddress = this.#o.devices.filter((d) => d.address);
    if (withAddress.length > 0) {
      await this.#o.transport
        .connectDevices(withAddress.map((d) => ({ id: d.id, address: d.address!, port: d.port, useSSL: d.useSSL })))
        .catch((error: unknown) => this.#o.logger.warn({ err: error }, `could not ask the gateway to connect the configured devices: ${errorText(error)}`));
    }
    await this.refreshConnections();
    this.#nextCheck = config.reconcile.intervalMs > 0 ? this.#now + config.reconcile.intervalMs : Number.POSITIVE_INFINITY;
    this.#nextDeepCheck = config.reconcile.deepIntervalMs > 0 ? this.#now + config.reconcile.deepIntervalMs : Number.POSITIVE_INFINITY;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#controller.abort(new Error('stopping'));
    this.#wakeup.wake();
    await this.#loop;
    // Tasks in flight finish their call (each has a deadline) and commit what was acknowledged.
    await Promise.allSettled([...this.#tasks]);
  }

  get config(): SyncConfig {
    return this.#o.config;
  }

  /**
   * Applies a reloaded config: sync settings at once, and the device list (new devices
   * are adopted; a changed location or access groups plans that device again).
   */
  async reconfigure(config: SyncConfig, devices: readonly DeviceConfig[]): Promise<void> {
    this.#o.config = config;
    const mutations: Mutation[] = [];
    for (const configured of devices) {
      const state = this.#devices.get(configured.id);
      const fields = { source: 'config' as const, address: configured.address, port: configured.port, useSSL: configured.useSSL, location: configured.location, accessGroups: configured.accessGroups };
      if (state) {
        const groupsChanged = JSON.stringify(state.record.accessGroups ?? []) !== JSON.stringify(configured.accessGroups);
        mutations.push({ type: 'putDevice', device: state.update((r) => ({ ...r, ...fields })) });
        if (groupsChanged) this.#due(state, 'headers');
      } else {
        const record: DeviceRecord = { id: configured.id, lastEventId: 0, ...fields };
        mutations.push({ type: 'putDevice', device: record });
        await this.#adopt(record);
      }
    }
    if (mutations.length > 0) await this.#o.store.commit(mutations);
    this.#o.devices = devices;
    await this.refreshConnections();
    this.#wakeup.wake();
  }

  /** Swaps the sync mode (a reload); every device is planned again by a check. */
  setMode(mode: SyncModeInstance): void {
    this.#mode = mode;
    this.#expectedCache.clear();
    for (const device of this.#devices.values()) this.#due(device, 'headers');
    this.#wakeup.wake();
  }

  async #adopt(record: DeviceRecord): Promise<DeviceState> {
    const existing = this.#devices.get(record.id);
    if (existing) {
      existing.record = record;
      return existing;
    }
    const state = new DeviceState(record, await this.#o.store.cursor(record.id));
    state.allowedUpTo = state.cursor;
    state.inSync = false;
    this.#devices.set(record.id, state);
    this.metrics.connected.set({ device: String(record.id) }, 0);
    this.metrics.inSync.set({ device: String(record.id) }, 0);
    this.metrics.quarantined.set({ device: String(record.id) }, 0);
    this.metrics.heldRemovals.set({ device: String(record.id) }, 0);
    return state;
  }

  /** Reads which devices the gateway has connected, and adds discovered ones. */
  async refreshConnections(): Promise<void> {
    let listed;
    try {
      listed = await this.#o.transport.listDevices();
    } catch (error) {
      this.#o.logger.warn({ err: error }, `could not list the gateway's devices: ${errorText(error)}`);
      return;
    }
    for (const gatewayDevice of listed) {
      let state = this.#devices.get(gatewayDevice.id);
      if (!state) {
        if (!this.#o.config.discoverDevices) continue;
        const record: DeviceRecord = { id: gatewayDevice.id, source: 'discovered', address: gatewayDevice.address, port: gatewayDevice.port, type: gatewayDevice.type, lastEventId: 0 };
        await this.#o.store.commit([{ type: 'putDevice', device: record }]);
        state = await this.#adopt(record);
        this.#o.logger.info({ device: record.id }, `found device ${record.id} on the gateway`);
      }
      this.setConnected(gatewayDevice.id, gatewayDevice.connected);
    }
  }

  /** Connection state from the gateway (status stream or device list). */
  setConnected(deviceId: number, connected: boolean): void {
    const state = this.#devices.get(deviceId);
    if (!state || state.connected === connected) return;
    state.connected = connected;
    this.metrics.connected.set({ device: String(deviceId) }, connected ? 1 : 0);
    if (connected) {
      state.profile = undefined;
      if (this.#o.config.reconcile.onConnect) this.#due(state, 'headers');
      // A device that comes back gets a fresh start at retrying.
      state.retryAt = 0;
    } else {
      state.inSync = false;
      this.metrics.inSync.set({ device: String(deviceId) }, 0);
      this.fanout.forget(deviceId);
    }
    this.#wakeup.wake();
  }

  #due(state: DeviceState, depth: CheckDepth): void {
    if (state.checkDue !== 'deep') state.checkDue = depth;
  }

  /** Something changed outside the feed (a merge committed, an operator asked): look again. */
  wake(): void {
    this.#wakeup.wake();
  }

  // -------------------------------------------------------------------------
  // the scheduler

  async #run(): Promise<void> {
    const signal = this.#controller.signal;
    const { store } = this.#o;
    let watched = -1;
    let seqWaiter: Promise<unknown> | undefined;
    while (!signal.aborted) {
      const scheduledAt = this.#now;
      try {
        this.#schedule(scheduledAt);
      } catch (error) {
        this.#o.logger.error({ err: error }, `sync scheduler: ${errorText(error)}`);
      }
      // Sleep until a new seq, a wake-up, or the next retry or check time.
      const head = store.currentSeq();
      if (head !== watched || !seqWaiter) {
        watched = head;
        seqWaiter = store.waitForSeq(head, signal).then(
          () => this.#wakeup.wake(),
          () => undefined,
        );
      }
      await this.#wakeup.wait(this.#sleepMs(scheduledAt), signal);
    }
  }

  /**
   * How long the loop may sleep: until the next check time or the earliest retry that was
   * not due when the scheduler last looked (`scheduledAt`). Measured from that same look: a
   * retry falling due between the look and now must not wait for the next wake-up.
   */
  #sleepMs(scheduledAt: number): number {
    let until = Math.min(this.#nextCheck, this.#nextDeepCheck);
    for (const device of this.#devices.values()) {
      if (device.retryAt > scheduledAt) until = Math.min(until, device.retryAt);
    }
    return Math.max(5, Math.min(60_000, until - this.#now));
  }

  #target(device: DeviceState): number {
    const head = this.#o.store.currentSeq();
    return this.#mode.autoPush ? head : Math.min(head, device.allowedUpTo);
  }

  #schedule(now: number): void {
    if (now >= this.#nextCheck) {
      for (const d of this.#devices.values()) this.#due(d, 'headers');
      this.#nextCheck = now + this.#o.config.reconcile.intervalMs;
    }
    if (now >= this.#nextDeepCheck) {
      for (const d of this.#devices.values()) this.#due(d, 'deep');
      this.#nextDeepCheck = now + this.#o.config.reconcile.deepIntervalMs;
    }
    this.#dropIdleExpected(now);
    if (now >= this.#nextPrune) {
      this.#nextPrune = now + 3_600_000;
      const before = Date.now() - this.#o.config.tombstoneRetentionDays * 86_400_000;
      this.#o.store.pruneTombstones(before).then(
        (n) => n > 0 && this.#o.logger.info({ pruned: n }, `pruned ${n} deletes older than ${this.#o.config.tombstoneRetentionDays} days from the change feed`),
        (error: unknown) => this.#o.logger.warn({ err: error }, `pruning the change feed failed: ${errorText(error)}`),
      );
    }
    const head = this.#o.store.currentSeq();
    for (const d of this.#devices.values()) this.metrics.pending.set({ device: String(d.id) }, Math.max(0, head - d.cursor));

    const free = (): boolean => this.#tasks.size < this.#o.config.concurrency;
    // Checks first: a device due for a check is not fed until it was checked.
    for (const device of this.#devices.values()) {
      if (!free()) return;
      if (device.checkDue && device.ready(now)) {
        const depth = device.checkDue;
        device.checkDue = undefined;
        // Manual mode (BioStar "Not Used"): checks report, repairs wait for an operator.
        this.#launch([device], () => this.#check(device, depth, this.#mode.autoPush).then(() => undefined));
      }
    }
    // Feed: devices behind their target, grouped by cursor (and target: in manual mode an
    // operator may have let different devices go to different seqs).
    const byCursor = new Map<string, DeviceState[]>();
    for (const device of this.#devices.values()) {
      if (!device.ready(now) || device.checkDue || device.cursor >= this.#target(device)) continue;
      if (device.alone || device.aloneUntil > now) {
        if (!free()) return;
        this.#launch([device], (release) => this.#feed([device], release));
        continue;
      }
      const key = `${device.cursor}:${this.#target(device)}`;
      const group = byCursor.get(key);
      if (group) group.push(device);
      else byCursor.set(key, [device]);
    }
    for (const group of byCursor.values()) {
      if (!free()) return;
      this.#launch(group, (release) => this.#feed(group, release));
    }
  }

  /**
   * Runs `work` as a task that holds `devices` (busy) until it ends. `work` may hand a device
   * back earlier with `release`, once nothing it does still concerns that device: a group's
   * healthy devices go on while the task still waits for a hung one.
   */
  #launch(devices: DeviceState[], work: (release: Release) => Promise<void>): void {
    const held = new Set(devices);
    for (const d of held) d.busy = true;
    const release: Release = (device) => {
      if (!held.delete(device)) return;
      device.busy = false;
      this.#wakeup.wake();
    };
    const task = work(release)
      .catch((error: unknown) => this.#o.logger.error({ err: error, devices: devices.map((d) => d.id) }, `sync task failed: ${errorText(error)}`))
      .finally(() => {
        for (const d of held) d.busy = false;
        this.#tasks.delete(task);
        this.#wakeup.wake();
      });
    this.#tasks.add(task);
  }

  // -------------------------------------------------------------------------
  // following the feed

  #rules(device: DeviceState): DeviceRules {
    return { alphanumericIds: device.profile?.alphanumericIdEnabled ?? device.record.useAlphanumericID ?? false };
  }

  async #loadProfile(device: DeviceState): Promise<void> {
    if (device.profile) return;
    try {
      device.profile = await this.#o.transport.deviceProfile(device.id, { signal: this.#controller.signal });
      const { type, templateFormat, alphanumericIdEnabled } = device.profile;
      if (type !== device.record.type || templateFormat !== device.record.templateFormat || alphanumericIdEnabled !== device.record.useAlphanumericID) {
        const record = device.update((r) => ({ ...r, type, templateFormat, useAlphanumericID: alphanumericIdEnabled }));
        await this.#o.store.commit([{ type: 'putDevice', device: record }]);
      }
    } catch (error) {
      // Without a profile the stored one (or numeric IDs) is assumed; the call below will tell.
      this.#o.logger.debug({ device: device.id, err: error }, 'device profile unavailable');
    }
  }

  async #readFeed(cursor: number, limit: number, upTo: number): Promise<FeedItem[]> {
    const changes = (await this.#o.store.changesSince(cursor, { limit })).filter((c) => c.seq <= upTo);
    const upserts = changes.filter((c) => c.op === 'upsert').map((c) => c.userId);
    const users = upserts.length > 0 ? await this.#o.store.getUsers(upserts) : [];
    const byId = new Map<string, User>();
    users.forEach((u) => u && byId.set(u.id, u));
    return changes.map((change) => ({ change, user: change.op === 'upsert' ? byId.get(change.userId) : undefined }));
  }

  async #feed(group: DeviceState[], release: Release): Promise<void> {
    const { config, store, transport } = this.#o;
    const cursor = group[0]!.cursor;
    if (await this.#needsFullCheck(group)) return;
    await Promise.all(group.map((d) => this.#loadProfile(d)));
    const upTo = this.#target(group[0]!);
    // A device that said it is full is offered one user at a time until one goes in, not a
    // whole batch to refuse again (it is served alone: see DeviceState.full).
    const limit = group.length === 1 && group[0]!.full ? 1 : config.batch.maxUsers;
    const all = await this.#readFeed(cursor, limit, upTo);
    if (all.length === 0) {
      // Nothing pending up to the target (coalesced away): the cursor catches up.
      await this.#acknowledge(group.map((d) => ({ device: d, upToSeq: upTo, changes: [], extra: [] })));
      return;
    }
    const items = all.slice(0, cutBatch(all, config.batch, (u) => transport.encodedSize(u)));
    const facts = new PlacementFacts();
    const planned = group.map((device) => ({ device, plan: planDevice(items, device.record, this.#mode, this.#rules(device), config.deviceDeletes, facts) }));

    const go: typeof planned = [];
    for (const entry of planned) {
      if (entry.plan.remove.length > 0 && (await this.#holdRemovals(entry.device, entry.plan))) continue;
      go.push(entry);
    }
    const changes = items.map((i) => i.change);
    await Promise.all(groupByPlan(go).map((same) => this.#send(same, changes, release)));
  }

  /** A device whose cursor fell behind the feed horizon may have missed pruned deletes. */
  async #needsFullCheck(group: DeviceState[]): Promise<boolean> {
    const horizon = await this.#o.store.feedHorizon();
    const behind = group.filter((d) => d.cursor < horizon - 1 && d.cursor > 0);
    for (const d of behind) {
      this.#o.logger.info({ device: d.id, cursor: d.cursor, horizon }, `device ${d.id} was away longer than the feed keeps deletes: full check`);
      this.#due(d, 'headers');
    }
    return behind.length > 0;
  }

  /**
   * Sends one plan to every device of `same` (their plans are identical), books the outcome,
   * and releases each device once its outcome is booked.
   */
  async #send(same: { device: DeviceState; plan: DevicePlan }[], changes: Change[], release: Release): Promise<void> {
    try {
      const cut = await this.#sendShared(same, changes);
      // Cut at its soft deadline: the same plan again at once (an enroll overwrites, a delete
      // of an absent user counts as done) in up to CUT_PARTS smaller calls, each released when
      // it is done; a part cut again is split again, down to single devices, so the device at
      // fault ends alone and the others finish in the first round or the next.
      if (cut) await Promise.all(parts(same, CUT_PARTS).map((part) => this.#send(part, changes, release)));
    } finally {
      for (const entry of same) release(entry.device);
    }
  }

  /** One shared send of `same`'s plan; returns true when it was cut at its soft deadline (nothing booked). */
  async #sendShared(same: { device: DeviceState; plan: DevicePlan }[], changes: Change[]): Promise<boolean> {
    const plan = same[0]!.plan;
    const devices = same.map((e) => e.device);
    const ids = devices.map((d) => d.id);
    let outcome: MultiOutcome = { ok: ids, failed: new Map() };
    const started = performance.now();
    try {
      if (plan.enroll.length > 0) {
        const enrolled = await this.#call(devices, plan.enroll.length, (signal) => this.#o.transport.enrollUsers(ids, plan.enroll, { signal }));
        if (enrolled instanceof Cut) return this.#cut(devices, 'EnrollMulti', enrolled);
        outcome = enrolled;
        this.#countOps('enroll', plan.enroll.length, outcome);
      }
      if (plan.remove.length > 0 && outcome.ok.length > 0) {
        const from = devices.filter((d) => outcome.ok.includes(d.id));
        const removed = await this.#call(from, plan.remove.length, (signal) => this.#o.transport.deleteUsers(outcome.ok, plan.remove, { signal }));
        if (removed instanceof Cut) return this.#cut(devices, 'DeleteMulti', removed);
        // A user that is not on the device is as good as deleted.
        for (const [id, failure] of removed.failed) if (failure.code === NOT_FOUND) removed.failed.delete(id), removed.ok.push(id);
        this.#countOps('delete', plan.remove.length, removed);
        outcome = { ok: removed.ok, failed: new Map([...outcome.failed, ...removed.failed]) };
      }
    } catch (error) {
      // The call failed as a whole: nothing says which device is to blame.
      await this.#callFailed(devices, error);
      return false;
    }
    if (devices.length === 1) this.#timedAlone(devices[0]!, performance.now() - started, plan.enroll.length + plan.remove.length);
    const acked = same.filter((e) => outcome.ok.includes(e.device.id));
    await this.#acknowledge(acked.map((e) => ({ device: e.device, upToSeq: plan.upToSeq, changes, extra: this.#skipEvents(e.device, plan) })));
    for (const entry of same) {
      const failure = outcome.failed.get(entry.device.id);
      if (failure) await this.#deviceFailed(entry.device, entry.plan, failure, changes);
    }
    return false;
  }

  /**
   * Runs one gateway call for `devices`. A call for one device has only its hard deadline;
   * a shared call also has a soft one (see soft-deadline.ts): when it outlasts that, it is
   * cancelled and resolves to CUT, and nothing it did is counted on.
   */
  async #call<T>(devices: DeviceState[], users: number, call: (signal: AbortSignal) => Promise<T>): Promise<T | Cut> {
    if (devices.length === 1) return call(this.#controller.signal);
    const units = users * devices.length;
    const budget = this.#softDeadline.budgetMs(units);
    const started = performance.now();
    if (budget === undefined) {
      const result = await call(this.#controller.signal);
      this.#softDeadline.record(units, performance.now() - started);
      return result;
    }
    const cut = new AbortController();
    const pending = call(AbortSignal.any([this.#controller.signal, cut.signal]));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<Cut>((resolve) => {
      timer = setTimeout(() => resolve(new Cut(budget)), budget);
    });
    try {
      const result = await Promise.race([pending, expired]);
      this.#softDeadline.record(units, result instanceof Cut ? budget : performance.now() - started);
      if (result instanceof Cut) {
        // Its end (CANCELLED, or a reply that lost the race) is of no interest any more.
        pending.catch(() => undefined);
        cut.abort(new Error(`soft deadline of ${Math.round(budget)} ms`));
      }
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A shared call was cut at its soft deadline; its devices are served again in smaller calls
   * (see #send). Nothing is acknowledged for the cut call. The device that held it ends alone,
   * where it fails or is slow, and is then kept alone for a while (TROUBLE_ALONE_MS).
   */
  #cut(devices: DeviceState[], call: string, cut: Cut): true {
    this.metrics.cutCalls.inc();
    this.#o.logger.debug({ devices: devices.map((d) => d.id), afterMs: Math.round(cut.afterMs) }, `a shared ${call} outlasted its soft deadline: sending it again in smaller calls`);
    return true;
  }

  /** The event-log entry for a device's refusal, in BioStar's words where it has them. */
  #failureEvent(device: DeviceState, failure: DeviceFailure, users: number): NewEvent {
    if (failure.code === RESOURCE_EXHAUSTED) {
      return {
        kind: 'sync.capacity',
        message: `Sync Error (Exceeded max user count) on device ${device.id}: ${failure.message}`,
        deviceId: device.id,
        detail: { code: failure.codeName, reason: failure.message, users },
      };
    }
    return {
      kind: 'sync.enroll.failed',
      message: `User enrollment failed (Device ${device.id}): ${failureText(failure)}`,
      deviceId: device.id,
      detail: { code: failure.codeName, reason: failure.message, users },
    };
  }

  /**
   * A call to one device alone succeeded: one that was slow (its call took longer than its
   * size explains) is kept alone for a while, so that it cannot hold shared calls (each would
   * be cut at its soft deadline first); a device that answered in time may share calls again.
   */
  #timedAlone(device: DeviceState, ms: number, users: number): void {
    const slow = ms > slowCallMs(users);
    device.alone = false;
    if (!slow) return;
    if (device.aloneUntil <= this.#now) this.#o.logger.info({ device: device.id, ms: Math.round(ms) }, `device ${device.id} is slow; serving it alone for a minute`);
    device.aloneUntil = this.#now + TROUBLE_ALONE_MS;
  }

  #countOps(op: 'enroll' | 'delete', users: number, outcome: MultiOutcome): void {
    if (outcome.ok.length > 0) this.metrics.ops.inc({ op, result: 'ok' }, users * outcome.ok.length);
    if (outcome.failed.size > 0) this.metrics.ops.inc({ op, result: 'failed' }, users * outcome.failed.size);
  }

  #skipEvents(device: DeviceState, plan: DevicePlan): NewEvent[] {
    return plan.skipped
      .filter((s) => s.why === 'rule')
      .map((s) => ({
        kind: 'sync.enroll.failed',
        message: `User enrollment failed (Device ${device.id}): ${s.reason}`,
        userId: s.userId,
        deviceId: device.id,
        detail: { reason: s.reason },
      }));
  }

  /** Moves cursors of devices that acknowledged, with their bookkeeping, in one commit. */
  async #acknowledge(acks: { device: DeviceState; upToSeq: number; changes: Change[]; extra: NewEvent[]; change?: (record: DeviceRecord) => DeviceRecord }[]): Promise<void> {
    if (acks.length === 0) return;
    const mutations: Mutation[] = [];
    for (const ack of acks) {
      if (ack.upToSeq > ack.device.cursor) mutations.push({ type: 'setCursor', deviceId: ack.device.id, seq: ack.upToSeq });
      if (ack.change) mutations.push({ type: 'putDevice', device: ack.device.update(ack.change) });
      for (const event of ack.extra) mutations.push({ type: 'appendEvent', event });
    }
    if (mutations.length > 0) await this.#o.store.commit(mutations);
    const now = Date.now();
    for (const ack of acks) {
      const device = ack.device;
      if (ack.upToSeq > device.cursor) device.cursor = ack.upToSeq;
      if (!this.#mode.autoPush) device.allowedUpTo = Math.max(device.allowedUpTo, device.cursor);
      const wasQuarantined = device.quarantined;
      device.succeeded();
      if (wasQuarantined) {
        this.metrics.quarantined.set({ device: String(device.id) }, 0);
        this.#o.logger.info({ device: device.id }, `device ${device.id} recovered from quarantine`);
      }
      for (const change of ack.changes) this.metrics.latency.observe(Math.max(0, (now - change.at) / 1000));
      this.fanout.acknowledged(device.id, device.cursor);
      if (device.cursor < this.#o.store.currentSeq()) this.#setInSync(device, false);
      else if (device.record.lastCheck?.inSync) this.#setInSync(device, true);
    }
  }

  #setInSync(device: DeviceState, inSync: boolean): void {
    device.inSync = inSync;
    this.metrics.inSync.set({ device: String(device.id) }, inSync ? 1 : 0);
  }

  async #callFailed(devices: DeviceState[], error: unknown): Promise<void> {
    if (this.#controller.signal.aborted) return;
    if (devices.length > 1) {
      // Serve each alone next time, so the one at fault no longer holds the others.
      for (const d of devices) d.alone = true;
      this.#o.logger.warn({ devices: devices.map((d) => d.id), err: error }, `a shared call failed as a whole (${errorText(error)}); serving those devices one by one`);
      return;
    }
    await this.#markFailed(devices[0]!, errorText(error));
  }

  async #markFailed(device: DeviceState, reason: string): Promise<void> {
    const { config } = this.#o;
    const entering = device.failed(reason, this.#now, config.backoff, config.quarantine);
    this.#setInSync(device, false);
    this.#o.logger.warn({ device: device.id, failures: device.failures, retryInMs: device.retryAt - this.#now }, `device ${device.id}: ${reason}`);
    if (entering) {
      this.metrics.quarantined.set({ device: String(device.id) }, 1);
      await this.#o.store
        .commit([{ type: 'appendEvent', event: { kind: 'device.quarantined', message: `Device ${device.id} quarantined after ${device.failures} failures: ${reason}`, deviceId: device.id, detail: { reason } } }])
        .catch(() => undefined);
    }
  }

  /**
   * One device refused the batch. When the refusal is about content (a rule, a template
   * format), find the users it refuses by sending them one at a time, remember those, and
   * let the rest through; otherwise back off.
   */
  async #deviceFailed(device: DeviceState, plan: DevicePlan, failure: DeviceFailure, changes: Change[]): Promise<void> {
    await this.#o.store.commit([{ type: 'appendEvent', event: this.#failureEvent(device, failure, plan.enroll.length) }]).catch(() => undefined);
    if (failure.code === RESOURCE_EXHAUSTED) device.full = true;
    if (!CONTENT_REFUSED.has(failure.code) || plan.enroll.length === 0) {
      await this.#markFailed(device, failureText(failure));
      return;
    }
    const signal = this.#controller.signal;
    let refused: Record<string, { hash: string; reason: string }>;
    try {
      refused = await this.#enrollOne(device, plan.enroll, true);
    } catch (error) {
      await this.#markFailed(device, errorText(error));
      return;
    }
    if (plan.remove.length > 0) {
      try {
        const removed = await this.#o.transport.deleteUsers([device.id], plan.remove, { signal });
        const f = removed.failed.get(device.id);
        if (f && f.code !== NOT_FOUND) {
          await this.#markFailed(device, failureText(f));
          return;
        }
      } catch (error) {
        await this.#markFailed(device, errorText(error));
        return;
      }
    }
    const events: NewEvent[] = Object.entries(refused).map(([userId, r]) => ({
      kind: 'sync.enroll.refused',
      message: `User enrollment failed (Device ${device.id}): ${r.reason}`,
      userId,
      deviceId: device.id,
      detail: { reason: r.reason },
    }));
    await this.#acknowledge([
      { device, upToSeq: plan.upToSeq, changes, extra: [...events, ...this.#skipEvents(device, plan)], change: (r) => ({ ...r, rejectedUsers: { ...r.rejectedUsers, ...refused } }) },
    ]);
  }

  /**
   * Enrolls `users` on one device. When the device refuses the batch for its content,
   * each user is sent alone to find those it refuses; they are returned (with the hash of
   * the refused version) and the rest are enrolled. Any other failure throws.
   */
  async #enrollOne(device: DeviceState, users: readonly User[], alreadyRefusedAsBatch = false): Promise<Record<string, { hash: string; reason: string }>> {
    const signal = this.#controller.signal;
    const refused: Record<string, { hash: string; reason: string }> = {};
    if (!alreadyRefusedAsBatch) {
      const outcome = await this.#o.transport.enrollUsers([device.id], users, { signal });
      this.#countOps('enroll', users.length, outcome);
      const failure = outcome.failed.get(device.id);
      if (!failure) return refused;
      if (!CONTENT_REFUSED.has(failure.code) || users.length === 1) {
        if (CONTENT_REFUSED.has(failure.code)) return { [users[0]!.id]: { hash: deviceProjectionHash(users[0]!), reason: failureText(failure) } };
        throw new DeviceRefusal(failure);
      }
    }
    for (const user of users) {
      const one = await this.#o.transport.enrollUsers([device.id], [user], { signal });
      this.#countOps('enroll', 1, one);
      const failure = one.failed.get(device.id);
      if (!failure) continue;
      if (!CONTENT_REFUSED.has(failure.code)) throw new DeviceRefusal(failure);
      refused[user.id] = { hash: deviceProjectionHash(user), reason: failureText(failure) };
    }
    return refused;
  }

  // -------------------------------------------------------------------------
  // the mass-removal guard

  async #pendingRemovalCount(device: DeviceState): Promise<number> {
    const head = this.#o.store.currentSeq();
    const key = `${device.id}:${device.cursor}:${head}:${device.record.removalConfirmedUpTo ?? 0}`;
    const cached = this.#pendingRemovals.get(key);
    if (cached !== undefined) return cached;
    let count = 0;
    let from = Math.max(device.cursor, device.record.removalConfirmedUpTo ?? 0);
    for (;;) {
      const items = await this.#readFeed(from, 2000, head);
      if (items.length === 0) break;
      const plan = planDevice(items, device.record, this.#mode, this.#rules(device), this.#o.config.deviceDeletes);
      count += plan.remove.length;
      from = plan.upToSeq;
    }
    if (this.#pendingRemovals.size > 1000) this.#pendingRemovals.clear();
    this.#pendingRemovals.set(key, count);
    return count;
  }

  /** Holds a plan that would remove too many of a device's users. Returns true when held. */
  async #holdRemovals(device: DeviceState, plan: DevicePlan): Promise<boolean> {
    if (plan.upToSeq <= (device.record.removalConfirmedUpTo ?? 0)) return false;
    const removals = await this.#pendingRemovalCount(device);
    const guard = this.#o.config.massRemoval;
    if (removals <= guard.minimum) return false;
    // What the device holds now (the last check's count is stale after fed batches).
    const holding = await this.#countOnDevice(device);
    if (!removalNeedsConfirmation(removals, holding, guard)) return false;
    await this.#hold(device, removals, holding);
    return true;
  }

  async #countOnDevice(device: DeviceState): Promise<number> {
    try {
      return (await this.#o.transport.listUsers(device.id, { signal: this.#controller.signal })).length;
    } catch {
      // Unknown: the last check's count, or hold (0 makes any removal past the minimum wait).
      return device.record.userCount ?? 0;
    }
  }

  async #hold(device: DeviceState, removals: number, holding: number): Promise<void> {
    const upToSeq = this.#o.store.currentSeq();
    const record = device.update((r) => ({ ...r, heldRemoval: { at: Date.now(), removals, holding, upToSeq } }));
    const share = Math.round(this.#o.config.massRemoval.share * 100);
    await this.#o.store.commit([
      { type: 'putDevice', device: record },
      {
        type: 'appendEvent',
        event: {
          kind: 'sync.removal.held',
          message: `Removal of ${removals} of ${holding} users from device ${device.id} held (more than ${share}%); confirm with \`rollcall confirm --device ${device.id}\``,
          deviceId: device.id,
          detail: { removals, holding },
        },
      },
    ]);
    this.metrics.heldRemovals.set({ device: String(device.id) }, removals);
    this.#o.logger.warn({ device: device.id, removals, holding }, `held the removal of ${removals} of ${holding} users from device ${device.id}; waiting for confirmation`);
  }

  /** An operator confirmed held removals (of one device, or all). Returns the devices released. */
  async confirmRemovals(deviceId?: number): Promise<number[]> {
    const released: number[] = [];
    for (const device of this.#devices.values()) {
      if (deviceId !== undefined && device.id !== deviceId) continue;
      const held = device.record.heldRemoval;
      if (!held) continue;
      const confirmedUpTo = Math.max(held.upToSeq, this.#o.store.currentSeq());
      const record = device.update(({ heldRemoval: _, ...rest }) => ({ ...rest, removalConfirmedUpTo: confirmedUpTo }));
      await this.#o.store.commit([
        { type: 'putDevice', device: record },
        { type: 'appendEvent', event: { kind: 'sync.removal.confirmed', message: `Removal of ${held.removals} users from device ${device.id} confirmed by an operator`, deviceId: device.id, detail: { removals: held.removals } } },
      ]);
      this.metrics.heldRemovals.set({ device: String(device.id) }, 0);
      if (device.checkDue === undefined && held.upToSeq <= device.cursor) this.#due(device, 'headers');
      released.push(device.id);
    }
    this.#wakeup.wake();
    return released;
  }

  // -------------------------------------------------------------------------
  // reconcile

  /**
   * What devices placed alike should hold: expected users (counts and hashes only) and users
   * to leave alone for a rule, shared by every device with the same placement key and ID
   * rules, so a check of a hundred devices reads and hashes the users once. The set is built
   * by one scan of the users and afterwards brought forward from the change feed (only the
   * users changed since are read and placed again), so that checks that follow commits, or a
   * device that keeps reconnecting, do not scan the whole database each time. A set is never
   * mutated: bringing it forward makes a new one. At most EXPECTED_SETS are kept, and the
   * scheduler drops those unused for a minute (#dropIdleExpected).
   */
  #sharedExpected(device: DeviceState): Promise<ExpectedSet> {
    const rules = this.#rules(device);
    const placementKey = this.#mode.placementKey?.(device.record) ?? `device:${device.id}`;
    const key = `${placementKey}|${rules.alphanumericIds}`;
    // Without the device's own overlays: they are applied per device in #expected.
    const { rejectedUsers: _r, deletedAtDevice: _d, ...record } = device.record;
    const now = this.#now;
    const cached = this.#expectedCache.get(key);
    const seq = this.#o.store.currentSeq();
    const set = cached ? cached.set.then((known) => (known.seq >= seq ? known : this.#bringForward(known, record, rules))) : this.#scanExpected(record, rules);
    this.#expectedCache.delete(key);
    this.#expectedCache.set(key, { set, usedAt: now });
    if (this.#expectedCache.size > EXPECTED_SETS) this.#expectedCache.delete(this.#expectedCache.keys().next().value!);
    set.catch(() => {
      if (this.#expectedCache.get(key)?.set === set) this.#expectedCache.delete(key);
    });
    return set;
  }

  /** Forgets expected sets no check used for EXPECTED_SET_IDLE_MS (an idle daemon holds none). */
  #dropIdleExpected(now: number): void {
    for (const [key, entry] of this.#expectedCache) if (now - entry.usedAt > EXPECTED_SET_IDLE_MS) this.#expectedCache.delete(key);
  }

  async #scanExpected(record: DeviceRecord, rules: DeviceRules): Promise<ExpectedSet> {
    const seq = this.#o.store.currentSeq();
    const expected = new Map<string, ExpectedUser>();
    const leaveAlone = new Set<string>();
    for await (const user of this.#o.store.scanUsers()) this.#placeExpected(user, record, rules, expected, leaveAlone);
    return { seq, expected, leaveAlone };
  }

  /** `known` with the users changed since its seq placed again (a new set); a scan if the feed no longer reaches back that far. */
  async #bringForward(known: ExpectedSet, record: DeviceRecord, rules: DeviceRules): Promise<ExpectedSet> {
    const { store } = this.#o;
    if (known.seq + 1 < (await store.feedHorizon())) return this.#scanExpected(record, rules);
    const seq = store.currentSeq();
    const expected = new Map(known.expected);
    const leaveAlone = new Set(known.leaveAlone);
    for (let from = known.seq; from < seq; ) {
      const changes = (await store.changesSince(from, { limit: 2000 })).filter((c) => c.seq <= seq);
      if (changes.length === 0) break;
      const users = await store.getUsers(changes.map((c) => c.userId));
      for (const [i, change] of changes.entries()) {
        expected.delete(change.userId);
        leaveAlone.delete(change.userId);
        const user = users[i];
        if (user) this.#placeExpected(user, record, rules, expected, leaveAlone);
      }
      from = changes.at(-1)!.seq;
    }
    return { seq, expected, leaveAlone };
  }

  #placeExpected(user: User, record: DeviceRecord, rules: DeviceRules, expected: Map<string, ExpectedUser>, leaveAlone: Set<string>): void {
    const where = placement(user, record, this.#mode, rules, 'restore');
    if (where.place) expected.set(user.id, expectedOf(user, where.hash));
    else if (where.why !== 'not-targeted') leaveAlone.add(user.id);
  }

  /** What `device` should hold: the shared set, plus the users this device refused or deleted itself. */
  async #expected(device: DeviceState): Promise<{ expected: ReadonlyMap<string, ExpectedUser>; leaveAlone: Set<string> }> {
    const shared = await this.#sharedExpected(device);
    const leaveAlone = new Set(shared.leaveAlone);
    for (const [id, refused] of Object.entries(device.record.rejectedUsers ?? {})) {
      if (shared.expected.get(id)?.hash === refused.hash) leaveAlone.add(id);
    }
    for (const [id, deletedAs] of Object.entries(device.record.deletedAtDevice ?? {})) {
      const wanted = shared.expected.get(id);
      if (wanted && !shouldRestoreOnDevice(this.#o.config.deviceDeletes, wanted.hash !== deletedAs)) leaveAlone.add(id);
    }
    return { expected: shared.expected, leaveAlone };
  }

  /**
   * Checks a device against its expected state and repairs it with the fewest calls.
   * `headers` compares IDs and credential counts (GetList); `deep` also compares the
   * content of every user (Get in pages). The device is in sync only if a check after
   * the repair finds nothing.
   */
  async #check(device: DeviceState, method: CheckDepth, repair = true): Promise<CheckResult> {
    const { store, transport, config, logger } = this.#o;
    const signal = this.#controller.signal;
    const result: CheckResult = { deviceId: device.id, method, inSync: false, differences: 0, enrolled: 0, removed: 0, held: 0, leftAlone: 0 };
    try {
      await this.#loadProfile(device);
      if (this.#mode.acceptsDeviceChanges) await this.beforeCheck?.(device.id);
      const seqBefore = store.currentSeq();
      const { expected, leaveAlone } = await this.#expected(device);
      result.leftAlone = leaveAlone.size;
      const headers = await transport.listUsers(device.id, { signal });
      const diff = headerDiff(expected, headers, leaveAlone);
      const changed: string[] = [];
      if (method === 'deep') {
        for (let i = 0; i < diff.matched.length; i += config.reconcile.pageSize) {
          const page = diff.matched.slice(i, i + config.reconcile.pageSize);
          const onDevice = await transport.getUsers(device.id, page, { signal });
          changed.push(...contentDiff(expected, onDevice.map((u) => ({ id: u.id, hash: deviceProjectionHash(u) }))));
        }
      }
      result.differences = differences(diff, changed);
      if (!repair || result.differences === 0) {
        await this.#recordCheck(device, method, result.differences === 0, result.differences, headers.length, repair ? seqBefore : undefined);
        result.inSync = result.differences === 0;
        return result;
      }

      // Users on the device that the database does not know: with device updates merged,
      // they are enrollments whose events were lost, so they are merged, not removed.
      let extra = diff.extra;
      if (this.#mode.acceptsDeviceChanges && extra.length > 0 && this.onUnknownDeviceUsers) {
        await this.onUnknownDeviceUsers(device.id, extra);
        extra = [];
      }
      let removeNow = extra;
      const confirmed = (device.record.removalConfirmedUpTo ?? -1) >= seqBefore;
      if (!confirmed && removalNeedsConfirmation(extra.length, headers.length, config.massRemoval)) {
        await this.#hold(device, extra.length, headers.length);
        result.held = extra.length;
        removeNow = [];
      }
      const toEnroll = [...diff.missing, ...diff.mismatched, ...changed];
      const refused: Record<string, { hash: string; reason: string }> = {};
      for (let i = 0; i < toEnroll.length; ) {
        const users = (await store.getUsers(toEnroll.slice(i, i + config.batch.maxUsers))).filter((u): u is User => u !== undefined);
        const items = users.map((user) => ({ change: { seq: 0, userId: user.id, op: 'upsert' as const, at: 0, origin: { kind: 'server' as const } }, user }));
        const n = Math.max(1, cutBatch(items, config.batch, (u) => transport.encodedSize(u)));
        const batch = users.slice(0, n);
        if (batch.length > 0) {
          const refusedNow = await this.#enrollOne(device, batch);
          Object.assign(refused, refusedNow);
          result.enrolled += batch.length - Object.keys(refusedNow).length;
        }
        i += Math.min(n, config.batch.maxUsers);
      }
      if (Object.keys(refused).length > 0) {
        for (const id of Object.keys(refused)) leaveAlone.add(id);
        const record = device.update((r) => ({ ...r, rejectedUsers: { ...r.rejectedUsers, ...refused } }));
        await store.commit([
          { type: 'putDevice', device: record },
          ...Object.entries(refused).map(([userId, r]): Mutation => ({
            type: 'appendEvent',
            event: { kind: 'sync.enroll.refused', message: `User enrollment failed (Device ${device.id}): ${r.reason}`, userId, deviceId: device.id, detail: { reason: r.reason } },
          })),
        ]);
      }
      for (let i = 0; i < removeNow.length; i += config.batch.maxUsers) {
        const ids = removeNow.slice(i, i + config.batch.maxUsers);
        const outcome = await transport.deleteUsers([device.id], ids, { signal });
        this.#countOps('delete', ids.length, outcome);
        const failure = outcome.failed.get(device.id);
        if (failure && failure.code !== NOT_FOUND) throw new DeviceRefusal(failure);
        result.removed += ids.length;
      }
      // Verify: in sync only if a fresh look finds nothing.
      const afterHeaders = await transport.listUsers(device.id, { signal });
      const after = headerDiff(expected, afterHeaders, leaveAlone);
      result.inSync = differences(after) === 0 && result.held === 0;
      await this.#recordCheck(device, method, result.inSync, result.differences, afterHeaders.length, seqBefore, result);
      if (result.differences > 0) logger.info({ device: device.id, ...result }, `device ${device.id}: ${method} check repaired ${result.enrolled + result.removed} users`);
      return result;
    } catch (error) {
      result.error = errorText(error);
      if (!signal.aborted) {
        if (error instanceof DeviceRefusal) {
          await store.commit([{ type: 'appendEvent', event: this.#failureEvent(device, error.failure, 0) }]).catch(() => undefined);
        }
        if (repair) this.#due(device, method);
        await this.#markFailed(device, `check failed: ${result.error}`);
      }
      return result;
    }
  }

  /** Set by the device-event follower: merges users found on a device that the database lacks. */
  onUnknownDeviceUsers: ((deviceId: number, userIds: string[]) => Promise<void>) | undefined;
  /**
   * Set by the device-event follower: reads what the device logged before it is checked,
   * so that edits made at the device are merged before a check could overwrite them.
   */
  beforeCheck: ((deviceId: number) => Promise<void>) | undefined;

  /** Asks for a check of one device at the next opportunity. */
  requestCheck(deviceId: number, depth: CheckDepth): void {
    const device = this.#devices.get(deviceId);
    if (!device) return;
    this.#due(device, depth);
    this.#wakeup.wake();
  }

  async #recordCheck(device: DeviceState, method: CheckDepth, inSync: boolean, found: number, userCount: number, seqBefore: number | undefined, repaired?: CheckResult): Promise<void> {
    const record = device.update((r) => ({ ...r, lastCheck: { at: Date.now(), method, inSync, differences: found }, userCount }));
    const mutations: Mutation[] = [{ type: 'putDevice', device: record }];
    if (seqBefore !== undefined && seqBefore > device.cursor && (inSync || repaired)) mutations.push({ type: 'setCursor', deviceId: device.id, seq: seqBefore });
    mutations.push({
      type: 'appendEvent',
      event: {
        kind: inSync ? 'sync.check.ok' : 'sync.check.differences',
        message: inSync
          ? `Device ${device.id} checked (${method}): in sync`
          : `Device ${device.id} checked (${method}): ${found} difference(s)${repaired ? `, ${repaired.enrolled} enrolled, ${repaired.removed} removed` : ''}`,
        deviceId: device.id,
        detail: { method, differences: found, ...(repaired ? { enrolled: repaired.enrolled, removed: repaired.removed, held: repaired.held } : {}) },
      },
    });
    await this.#o.store.commit(mutations);
    if (seqBefore !== undefined && seqBefore > device.cursor && (inSync || repaired)) device.cursor = seqBefore;
    device.succeeded();
    this.metrics.quarantined.set({ device: String(device.id) }, 0);
    this.#setInSync(device, inSync && device.cursor >= this.#o.store.currentSeq());
  }

  // -------------------------------------------------------------------------
  // what operators ask for (the admin API calls these)

  #select(filter: { deviceId?: number; location?: string }): DeviceState[] {
    return this.devices.filter((d) => (filter.deviceId === undefined || d.id === filter.deviceId) && (filter.location === undefined || d.record.location === filter.location));
  }

  /** Lets pending changes through (manual mode) and, with `full`, checks and repairs the devices. */
  async sync(filter: { deviceId?: number; location?: string; full?: boolean } = {}): Promise<number[]> {
    const head = this.#o.store.currentSeq();
    const devices = this.#select(filter);
    for (const d of devices) {
      d.allowedUpTo = Math.max(d.allowedUpTo, head);
      d.retryAt = 0;
    }
    this.#wakeup.wake();
    if (filter.full) await this.verify({ ...(filter.deviceId !== undefined ? { deviceId: filter.deviceId } : {}), ...(filter.location !== undefined ? { location: filter.location } : {}), repair: true });
    return devices.map((d) => d.id);
  }

  /**
   * Puts one user on one device back to what the database says (a device-side edit or
   * delete that the sync mode does not accept): enroll the server's version, or delete a
   * user the device should not hold. Nothing else on the device is touched.
   */
  async repairUser(deviceId: number, userId: string): Promise<void> {
    const device = this.#devices.get(deviceId);
    if (!device?.connected) return;
    const user = await this.#o.store.getUser(userId);
    const where = user ? placement(user, device.record, this.#mode, this.#rules(device), this.#o.config.deviceDeletes) : undefined;
    const signal = this.#controller.signal;
    try {
      if (user && where?.place) {
        const outcome = await this.#o.transport.enrollUsers([deviceId], [user], { signal });
        this.#countOps('enroll', 1, outcome);
      } else if (!where || (!where.place && where.why === 'not-targeted')) {
        const outcome = await this.#o.transport.deleteUsers([deviceId], [userId], { signal });
        this.#countOps('delete', 1, outcome);
      }
    } catch (error) {
      this.#o.logger.warn({ device: deviceId, userId, err: error }, `could not restore user ${userId} on device ${deviceId}: ${errorText(error)}`);
      this.requestCheck(deviceId, 'headers');
    }
  }

  /** Pushes one user now to every device that should hold it (and removes it from the others). */
  async syncUser(userId: string): Promise<{ enrolled: number[]; removed: number[]; failed: Record<number, string> }> {
    const user = await this.#o.store.getUser(userId);
    const enrollOn: number[] = [];
    const removeFrom: number[] = [];
    for (const d of this.#devices.values()) {
      if (!d.connected) continue;
      if (!user) {
        removeFrom.push(d.id);
        continue;
      }
      const where = placement(user, d.record, this.#mode, this.#rules(d), this.#o.config.deviceDeletes);
      if (where.place) enrollOn.push(d.id);
      else if (where.why === 'not-targeted') removeFrom.push(d.id);
    }
    const failed: Record<number, string> = {};
    const signal = this.#controller.signal;
    if (user && enrollOn.length > 0) {
      const outcome = await this.#o.transport.enrollUsers(enrollOn, [user], { signal });
      for (const [id, f] of outcome.failed) failed[id] = failureText(f);
    }
    if (removeFrom.length > 0) {
      const outcome = await this.#o.transport.deleteUsers(removeFrom, [userId], { signal });
      for (const [id, f] of outcome.failed) if (f.code !== NOT_FOUND) failed[id] = failureText(f);
    }
    return { enrolled: enrollOn.filter((id) => !(id in failed)), removed: removeFrom.filter((id) => !(id in failed)), failed };
  }

  /** Checks devices now (waits for them), optionally without repairing. */
  async verify(filter: { deviceId?: number; location?: string; deep?: boolean; repair?: boolean } = {}): Promise<CheckResult[]> {
    const method: CheckDepth = filter.deep ? 'deep' : 'headers';
    const devices = this.#select(filter);
    const results: CheckResult[] = [];
    await Promise.all(
      devices.map(async (device) => {
        while (device.busy) await new Promise((r) => setTimeout(r, 20));
        if (!device.connected) {
          results.push({ deviceId: device.id, method, inSync: false, differences: 0, enrolled: 0, removed: 0, held: 0, leftAlone: 0, error: 'not connected' });
          return;
        }
        device.busy = true;
        try {
          results.push(await this.#check(device, method, filter.repair ?? false));
        } finally {
          device.busy = false;
          this.#wakeup.wake();
        }
      }),
    );
    return results.sort((a, b) => a.deviceId - b.deviceId);
  }

  /** What a sync would change on each device, without doing it (from a headers check). */
  async plan(filter: { deviceId?: number } = {}): Promise<DevicePlanPreview[]> {
    const out: DevicePlanPreview[] = [];
    for (const device of this.#select(filter)) {
      if (!device.connected) continue;
      const { expected, leaveAlone } = await this.#expected(device);
      const headers = await this.#o.transport.listUsers(device.id, { signal: this.#controller.signal });
      const diff = headerDiff(expected, headers, leaveAlone);
      out.push({ deviceId: device.id, enroll: [...diff.missing, ...diff.mismatched], remove: diff.extra, skipped: [...leaveAlone].map((userId) => ({ userId, reason: device.record.rejectedUsers?.[userId]?.reason ?? 'left alone' })) });
    }
    return out;
  }

  status(): DeviceStatus[] {
    const head = this.#o.store.currentSeq();
    return this.devices
      .map((d) => ({
        id: d.id,
        name: this.#o.devices.find((c) => c.id === d.id)?.name,
        location: d.record.location,
        source: d.record.source,
        connected: d.connected,
        cursor: d.cursor,
        pending: Math.max(0, head - d.cursor),
        inSync: d.inSync,
        quarantined: d.quarantined,
        failures: d.failures,
        lastError: d.lastError,
        lastCheck: d.record.lastCheck,
        heldRemoval: d.record.heldRemoval,
        userCount: d.record.userCount,
      }))
      .sort((a, b) => a.id - b.id);
  }
}
