/**
 * The fleet: every device the engine serves (configured, or discovered on the gateway),
 * each as one DeviceState; their connection state as the gateway reports it; their
 * per-device gauges; what each device's feed target is; and the status operators read.
 * The fleet is the one owner of the devices' records in memory: others change a record
 * through it (`update`), so a change made meanwhile builds on the last one.
 *
 * Only devices whose lease this instance holds are served (`device`, `devices`): the leases
 * themselves are daemon/cluster/member.ts; taking one reads the device's state afresh (`take`),
 * losing one stops its work (`dropped`, `drain`).
 *
 * Over 400 lines (about 490): adoption, connection state, profiles, rules and the lease
 * hand-over all read and write the same map of DeviceStates; what could stand alone already
 * does (user-count.ts, device-state.ts, placement.ts, the gauges in metrics.ts, the leases in
 * daemon/cluster/).
 */
import type { DeviceRecord } from '../model/device.js';
import { acceptsConnection, type DeviceConfig } from '../config/schema.js';
import { isRollcallError } from '../errors.js';
import type { LinkState, PendingDevice } from '../plugins/api.js';
import { DeviceState, type CheckDepth } from './device-state.js';
import { copyFor, type DeviceRules, type PlacedCopy } from './placement.js';
import { holdsShapeId, withLeftOffRestored, type CopySite, type DeviceHolds } from '../model/device-copy.js';
import { deviceProjectionHash } from '../model/projection.js';
import type { User } from '../model/user.js';
import { UserCounts } from './user-count.js';
import { errorText, type SyncContext } from './context.js';
import { templateFormatNumber } from '../model/template-format.js';

export interface DeviceStatus {
  id: number;
  name?: string;
  location?: string;
  source: DeviceRecord['source'];
  connected: boolean;
  /** The connection as the gateway reports it; 'absent' when the gateway does not list the device. */
  connection?: LinkState | 'absent';
  /** How the device and the gateway connect, as configured: dial, accept, or none asked of the gateway. */
  connectionMode?: 'dial' | 'accept' | 'gateway';
  cursor: number;
  pending: number;
  inSync: boolean;
  quarantined: boolean;
  failures: number;
  lastError?: string;
  lastCheck?: DeviceRecord['lastCheck'];
  heldRemoval?: DeviceRecord['heldRemoval'];
  userCount?: number;
  /** The last event of the device's own log read (DeviceRecord.lastEventId). */
  lastEventId: number;
  eventBaseline?: DeviceRecord['eventBaseline'];
  /** The instance whose lease the device is under (undefined: nobody's now). */
  heldBy?: string;
}

/** Which devices an operator's request is about. */
export interface DeviceFilter {
  deviceId?: number;
  location?: string;
}

export interface FleetOptions {
  ctx: SyncContext;
  /** The devices of the config (replaced on reload). */
  devices: readonly DeviceConfig[];
  /** Wakes the scheduler: a device's state changed. */
  wake: () => void;
  /**
   * The gateway turned out, after start, to be one rollcall does not serve (a master gateway
   * that was unreachable at start): the daemon stops with the error. At start it is thrown.
   */
  onGatewayUnsupported?: (error: Error) => void;
  /**
   * Which devices this instance holds the lease of (daemon/cluster/member.ts): only those are
   * served (`device`, `devices`, `select`, `update`), so no work starts for another's device.
   * Without it (tests of single parts) every device is served.
   */
  leases?: { holds(deviceId: number): boolean; ownerOf(deviceId: number): string | undefined };
}

export class Fleet {
  readonly #ctx: SyncContext;
  readonly #wake: () => void;
  readonly #devices = new Map<number, DeviceState>();
  readonly #userCounts: UserCounts;
  #configured: readonly DeviceConfig[];

  constructor(options: FleetOptions) {
    this.#ctx = options.ctx;
    this.#wake = options.wake;
    this.#configured = options.devices;
    this.#userCounts = new UserCounts(options.ctx);
    this.#onGatewayUnsupported = options.onGatewayUnsupported;
    this.#leases = options.leases;
  }

  readonly #leases: FleetOptions['leases'];

  readonly #onGatewayUnsupported: ((error: Error) => void) | undefined;
  #started = false;

  /** A device this instance serves (holds the lease of). */
  device(id: number): DeviceState | undefined {
    return this.#leases && !this.#leases.holds(id) ? undefined : this.#devices.get(id);
  }

  /** The devices this instance serves. */
  get devices(): DeviceState[] {
    const all = [...this.#devices.values()];
    return this.#leases ? all.filter((d) => this.#leases!.holds(d.id)) : all;
  }

  /** Every device of the fleet, served here or not. */
  get ids(): number[] {
    return [...this.#devices.keys()];
  }

  /**
   * Devices whose lease this instance just took: what another instance wrote of them while it
   * held them (cursor, record, event position) is read again, and each is checked first.
   */
  async take(ids: readonly number[]): Promise<void> {
    for (const id of ids) {
      const state = this.#devices.get(id);
      if (!state) continue;
      const [record, cursor] = await Promise.all([this.#ctx.store.getDevice(id), this.#ctx.store.cursor(id)]);
      if (record) state.record = record;
      state.cursor = cursor;
      state.allowedUpTo = Math.max(state.allowedUpTo, cursor);
      state.profile = undefined;
      state.succeeded();
      state.due('headers');
    }
    this.#wake();
  }

  /** Devices whose lease is gone: nothing here speaks for them any more. */
  dropped(ids: readonly number[]): void {
    for (const id of ids) {
      const state = this.#devices.get(id);
      if (!state) continue;
      this.setInSync(state, false);
      this.#ctx.fanout.forget(id);
      // The owner reports these now; this instance's series must not add to its figures.
      for (const gauge of [this.#ctx.metrics.pending, this.#ctx.metrics.quarantined, this.#ctx.metrics.heldRemovals]) gauge.set({ device: String(id) }, 0);
    }
    this.#wake();
  }

  /** Resolves once no task runs for these devices (they are no longer served, so none starts). */
  async drain(ids: readonly number[], signal: AbortSignal): Promise<void> {
    const busy = (): boolean => ids.some((id) => this.#devices.get(id)?.busy);
    while (busy() && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  select(filter: DeviceFilter): DeviceState[] {
    return this.devices.filter((d) => (filter.deviceId === undefined || d.id === filter.deviceId) && (filter.location === undefined || d.record.location === filter.location));
  }

  /** Adopts the stored and the configured devices and asks the gateway to connect the configured ones. */
  async start(): Promise<void> {
    const { store, transport, logger } = this.#ctx;
    const known = new Map((await store.listDevices()).map((d) => [d.id, d]));
    // Only what the config changes: another instance may own a device and write its record.
    const records = this.#configured
      .map((configured) => configuredRecord(configured, known.get(configured.id)))
      .filter((record) => JSON.stringify(record) !== JSON.stringify(known.get(record.id)));
    if (records.length > 0) await store.commit(records.map((device) => ({ type: 'putDevice' as const, device })));
    for (const record of records) known.set(record.id, record);
    for (const record of known.values()) await this.#adopt(record);

    await this.#askGateway(this.#configured.filter(dials), this.#configured.filter(acceptsConnection), []);
    await this.refreshConnections();
    this.#started = true;
  }

  /**
   * Asks the gateway to dial these devices (AddAsyncConnection), to let these in (their IDs
   * merged into the accept filter, whose other entries stay), and to forget these removed
   * ones: their async connection is deleted if rollcall asked for it (they were configured
   * with an address), and their ID leaves the filter only if rollcall added it there.
   */
  async #askGateway(dial: readonly DeviceConfig[], accept: readonly DeviceConfig[], removed: readonly DeviceConfig[]): Promise<void> {
    const { transport, logger, signal } = this.#ctx;
    const warn = (what: string) => (error: unknown) => void logger.warn({ err: error }, `could not ask the gateway to ${what}: ${errorText(error)}`);
    if (dial.length > 0) {
      await transport.connectDevices(dial.map((d) => ({ id: d.id, address: d.address!, port: d.port, useSSL: d.useSSL })), { signal }).catch(warn(`connect devices ${dial.map((d) => d.id).join(', ')}`));
    }
    const forget = removed.filter(dials).map((d) => d.id);
    if (forget.length > 0 && transport.forgetDevices) await transport.forgetDevices(forget, { signal }).catch(warn(`stop connecting devices ${forget.join(', ')}`));
    const unaccept = removed.filter((d) => this.#devices.get(d.id)?.record.acceptFilterAdded).map((d) => d.id);
    const records: DeviceRecord[] = [];
    if (unaccept.length > 0 && transport.unacceptDevices) {
      const done = await transport.unacceptDevices(unaccept, { signal }).then(() => true, warn(`take devices ${unaccept.join(', ')} out of the accept filter`));
      if (done) for (const id of unaccept) records.push(this.#devices.get(id)!.update(({ acceptFilterAdded: _, ...r }) => r));
    }
    if (accept.length > 0) {
      if (!transport.acceptDevices) {
        logger.warn(`the ${'transport'} cannot let devices in (accept mode): devices ${accept.map((d) => d.id).join(', ')} wait`);
      } else {
        const added = await transport.acceptDevices(accept.map((d) => d.id), { signal }).catch((error: unknown) => (warn(`let devices ${accept.map((d) => d.id).join(', ')} in (accept filter)`)(error), []));
        if (added.length > 0) logger.info({ devices: added }, `added devices ${added.join(', ')} to the gateway's accept filter`);
        for (const id of added) {
          const record = this.#devices.get(id)?.update((r) => ({ ...r, acceptFilterAdded: true }));
          if (record) records.push(record);
        }
      }
    }
    if (records.length > 0) await this.#ctx.store.commit(records.map((device) => ({ type: 'putDevice' as const, device })));
  }

  /** A reloaded device list: new devices are adopted; changed access groups plan that device again. */
  async reconfigure(devices: readonly DeviceConfig[]): Promise<void> {
    const records: DeviceRecord[] = [];
    for (const configured of devices) {
      const state = this.#devices.get(configured.id);
      if (state) {
        const groupsChanged = JSON.stringify(state.record.accessGroups ?? []) !== JSON.stringify(configured.accessGroups);
        records.push(state.update((r) => configuredRecord(configured, r)));
        if (groupsChanged) state.due('headers');
      } else {
        const record = configuredRecord(configured, undefined);
        records.push(record);
        await this.#adopt(record);
      }
    }
    if (records.length > 0) await this.#ctx.store.commit(records.map((device) => ({ type: 'putDevice' as const, device })));
    const previous = new Map(this.#configured.map((d) => [d.id, d]));
    const current = new Set(devices.map((d) => d.id));
    // New devices, and devices whose address changed, are dialled; accept-mode IDs are merged again (a no-op when there).
    const dial = devices.filter((d) => dials(d) && !sameDial(previous.get(d.id), d));
    const removed = this.#configured.filter((d) => !current.has(d.id) || (acceptsConnection(d) && !acceptsConnection(devices.find((n) => n.id === d.id)!)));
    this.#configured = devices;
    await this.#askGateway(dial, devices.filter(acceptsConnection), removed);
    await this.refreshConnections();
    this.#wake();
  }

  async #adopt(record: DeviceRecord): Promise<DeviceState> {
    const existing = this.#devices.get(record.id);
    if (existing) {
      existing.record = record;
      return existing;
    }
    const state = new DeviceState(record, await this.#ctx.store.cursor(record.id));
    state.allowedUpTo = state.cursor;
    this.#devices.set(record.id, state);
    const { metrics } = this.#ctx;
    const device = String(record.id);
    for (const gauge of [metrics.connected, metrics.inSync, metrics.quarantined, metrics.heldRemovals]) gauge.set({ device }, 0);
    return state;
  }

  /** Reads which devices the gateway has connected, and adds discovered ones. */
  async refreshConnections(): Promise<void> {
    const { transport, store, logger, config } = this.#ctx;
    let listed;
    try {
      listed = await transport.listDevices();
    } catch (error) {
      // A master gateway at the address: the daemon refuses to start (gateway-kind.ts in the
      // gsdk transport), or, found once a gateway unreachable at start answers, stops.
      if (isRollcallError(error, 'ROLLCALL_ERR_GATEWAY_UNSUPPORTED')) {
        if (!this.#started || !this.#onGatewayUnsupported) throw error;
        this.#onGatewayUnsupported(error);
        return;
      }
      logger.warn({ err: error }, `could not list the gateway's devices: ${errorText(error)}`);
      return;
    }
    const listedIds = new Set(listed.map((d) => d.id));
    for (const state of this.#devices.values()) if (!listedIds.has(state.id)) state.link = undefined;
    for (const gatewayDevice of listed) {
      if (!this.#devices.has(gatewayDevice.id)) {
        if (!config.discoverDevices) continue;
        // Another instance sharing the store may have found it first, and own it: its record stays.
        const stored = await store.getDevice(gatewayDevice.id);
        const record: DeviceRecord = stored ?? { id: gatewayDevice.id, source: 'discovered', address: gatewayDevice.address, port: gatewayDevice.port, type: gatewayDevice.type, lastEventId: 0 };
        let kept = record;
        if (!stored) {
          // Written only if still absent: an instance that recorded it meanwhile keeps its record.
          await store.commit([{ type: 'putDevice', device: record, ifAbsent: true }]);
          kept = (await store.getDevice(gatewayDevice.id)) ?? record;
        }
        await this.#adopt(kept);
        logger.info({ device: kept.id }, `found device ${kept.id} on the gateway`);
      }
      this.setConnected(gatewayDevice.id, gatewayDevice.connected, gatewayDevice.state);
    }
  }

  /** Connection state from the gateway (status stream or device list), and its link state in words when known. */
  setConnected(deviceId: number, connected: boolean, link?: LinkState): void {
    const state = this.#devices.get(deviceId);
    if (state) state.link = link ?? (connected ? state.link : 'disconnected');
    if (!state || state.connected === connected) return;
    state.connected = connected;
    this.#ctx.metrics.connected.set({ device: String(deviceId) }, connected ? 1 : 0);
    if (connected) {
      state.profile = undefined;
      if (this.#ctx.config.reconcile.onConnect) state.due('headers');
      // A device that comes back gets a fresh start at retrying.
      state.retryAt = 0;
    } else {
      this.setInSync(state, false);
      this.#ctx.fanout.forget(deviceId);
    }
    this.#wake();
  }

  setInSync(device: DeviceState, inSync: boolean): void {
    device.inSync = inSync;
    this.#ctx.metrics.inSync.set({ device: String(device.id) }, inSync ? 1 : 0);
  }

  /** Asks for a check of one device at the next opportunity. */
  requestCheck(deviceId: number, depth: CheckDepth): void {
    const device = this.#devices.get(deviceId);
    if (!device) return;
    device.due(depth);
    this.#wake();
  }

  /**
   * Changes a device's record in memory (see DeviceState.update) and returns it for the
   * caller's commit; undefined for a device the fleet does not serve.
   */
  update(deviceId: number, change: (record: DeviceRecord) => DeviceRecord): DeviceRecord | undefined {
    return this.device(deviceId)?.update(change);
  }

  /** How far the feed goes for this device now: the head, or in manual mode what an operator allowed. */
  target(device: DeviceState): number {
    const head = this.#ctx.store.currentSeq();
    return this.#ctx.mode.autoPush ? head : Math.min(head, device.allowedUpTo);
  }

  /**
   * What the engine must respect when it sends this device users: its ID rules, and what it
   * holds per user (its copy of each user, daemon/model/device-copy.ts) with the gateway's PIN
   * hash scheme. From the profile read on this connection, else the last one stored.
   */
  rules(device: DeviceState): DeviceRules {
    const holds = this.holds(device);
    const site: CopySite = {};
    const scheme = this.#ctx.transport.knownPinHashScheme;
    if (scheme !== undefined) site.pinHashScheme = scheme;
    site.templateFormat = templateFormatNumber(this.#ctx.config.templateFormat);
    return {
      alphanumericIds: device.profile?.alphanumericIdEnabled ?? device.record.useAlphanumericID ?? false,
      holds,
      site,
      shape: holdsShapeId(holds, site),
    };
  }

  /** The copy of `user` that device `deviceId` gets (placement.ts copyFor), with its hash; the user itself for a device not served. */
  copyOf(deviceId: number, user: User): PlacedCopy {
    const device = this.#devices.get(deviceId);
    return device ? copyFor(user, this.rules(device)) : { copy: user, leftOff: [], hash: deviceProjectionHash(user) };
  }

  /**
   * `deviceUser`, read back from device `deviceId`, with what its copy of `stored` left off put
   * back (device-copy.ts withLeftOffRestored): a merge must not take "the device has no faces"
   * for "the user has none" when the device never got them.
   */
  withLeftOffRestored(deviceId: number, deviceUser: User, stored: User | undefined): User {
    const device = this.#devices.get(deviceId);
    if (!device) return deviceUser;
    const { holds, site } = this.rules(device);
    return withLeftOffRestored(deviceUser, stored, holds ?? {}, site);
  }

  /** What the device holds per user: the profile's holds with its template format; {} when nothing is known. */
  holds(device: DeviceState): DeviceHolds {
    if (!device.profile) return device.record.holds ?? {};
    const holds = { ...device.profile.holds };
    if (device.profile.templateFormat !== undefined) holds.templateFormat = device.profile.templateFormat;
    return holds;
  }

  /**
   * Reads what the device is (type, template format, ID rules, what it holds) once per
   * connection, and the gateway's PIN hash scheme while it is not known (the copies depend on
   * it; a gateway that does not answer is asked again at most once a minute).
   */
  async loadProfile(device: DeviceState): Promise<void> {
    await this.#learnPinHashScheme();
    if (device.profile) return;
    try {
      device.profile = await this.#ctx.transport.deviceProfile(device.id, { signal: this.#ctx.signal });
      const { type, templateFormat, alphanumericIdEnabled } = device.profile;
      const holds = this.holds(device);
      const holdsChanged = JSON.stringify(holds) !== JSON.stringify(device.record.holds ?? {});
      if (type !== device.record.type || templateFormat !== device.record.templateFormat || alphanumericIdEnabled !== device.record.useAlphanumericID || holdsChanged) {
        const record = device.update((r) => ({ ...r, type, templateFormat, useAlphanumericID: alphanumericIdEnabled, holds }));
        await this.#ctx.leases.commit([device.id], [{ type: 'putDevice', device: record }]);
      }
    } catch (error) {
      // Without a profile the stored one (or numeric IDs) is assumed; the call below will tell.
      this.#ctx.logger.debug({ device: device.id, err: error }, 'device profile unavailable');
    }
  }

  #schemeAskedAt = -Infinity;

  async #learnPinHashScheme(): Promise<void> {
    const { transport } = this.#ctx;
    if (transport.knownPinHashScheme !== undefined || this.#ctx.now() - this.#schemeAskedAt < 60_000) return;
    this.#schemeAskedAt = this.#ctx.now();
    try {
      await transport.pinHashScheme({ signal: this.#ctx.signal });
    } catch (error) {
      this.#ctx.logger.debug({ err: error }, `the gateway's PIN hash scheme is not known: ${errorText(error)}`);
    }
  }

  /** Refreshes the user counts of devices that acknowledged a batch (user-count.ts). */
  countUsers(devices: readonly DeviceState[]): Promise<void> {
    return this.#userCounts.refresh(devices);
  }

  /** Sets the per-device pending gauge from the feed's head. */
  gaugePending(): void {
    const head = this.#ctx.store.currentSeq();
    for (const d of this.devices) this.#ctx.metrics.pending.set({ device: String(d.id) }, Math.max(0, head - d.cursor));
  }

  status(): DeviceStatus[] {
    const head = this.#ctx.store.currentSeq();
    return [...this.#devices.values()]
      .map((d) => ({
        id: d.id,
        name: this.#configured.find((c) => c.id === d.id)?.name,
        location: d.record.location,
        source: d.record.source,
        connected: d.connected,
        connection: d.link ?? (d.connected ? ('tcp-connected' as const) : ('absent' as const)),
        connectionMode: connectionModeOf(this.#configured.find((c) => c.id === d.id)),
        cursor: d.cursor,
        pending: Math.max(0, head - d.cursor),
        inSync: d.inSync,
        quarantined: d.quarantined,
        failures: d.failures,
        lastError: d.lastError,
        lastCheck: d.record.lastCheck,
        heldRemoval: d.record.heldRemoval,
        userCount: d.record.userCount,
        lastEventId: d.record.lastEventId,
        eventBaseline: d.record.eventBaseline,
        heldBy: this.#leases ? this.#leases.ownerOf(d.id) : undefined,
      }))
      .sort((a, b) => a.id - b.id);
  }
}

/** Device-to-server devices waiting for the accept filter, or undefined when the gateway cannot say. */
export async function pendingDevices(ctx: Pick<SyncContext, 'transport' | 'logger'>, deadlineMs: number): Promise<PendingDevice[] | undefined> {
  if (!ctx.transport.pendingDevices) return undefined;
  try {
    return await ctx.transport.pendingDevices({ deadlineMs });
  } catch (error) {
    ctx.logger.debug({ err: error }, `the gateway's pending list could not be read: ${errorText(error)}`);
    return undefined;
  }
}

/** Whether rollcall asks the gateway to dial this device. */
function dials(device: DeviceConfig): boolean {
  return device.address !== undefined && !acceptsConnection(device);
}

function sameDial(a: DeviceConfig | undefined, b: DeviceConfig): boolean {
  return a !== undefined && dials(a) && a.address === b.address && a.port === b.port && a.useSSL === b.useSSL;
}

function connectionModeOf(device: DeviceConfig | undefined): DeviceStatus['connectionMode'] {
  if (device === undefined) return 'gateway';
  if (acceptsConnection(device)) return 'accept';
  return dials(device) ? 'dial' : 'gateway';
}

/** A configured device's record: the config's fields over what the store knew of it. */
function configuredRecord(configured: DeviceConfig, previous: DeviceRecord | undefined): DeviceRecord {
  return {
    ...(previous ?? { lastEventId: 0 }),
    id: configured.id,
    source: 'config',
    address: configured.address,
    port: configured.port,
    useSSL: configured.useSSL,
    location: configured.location,
    accessGroups: configured.accessGroups,
  };
}
