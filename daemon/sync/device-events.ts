/**
 * What happens at the devices (ARCHITECTURE §4, device-side events): the gateway's
 * status stream drives connection state; the realtime event stream, plus GetLog catch-up
 * from each device's persisted last event ID after any (re)connect, brings users enrolled
 * or edited at a device, which are read back, merged and committed with the device as
 * origin, then fanned out by the feed like any change. Events caused by our own pushes
 * (subCode 1) are acknowledgements, not changes. Deletes at a device never delete from
 * the database.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { DeviceEvent, DeviceStream, Mutation } from '../plugins/api.js';
import type { DeviceRecord } from '../model/device.js';
import { deviceProjectionHash } from '../model/projection.js';
import { mergeDeviceUser } from '../merge/merge.js';
import { deviceDeleteEvent, mergeEvents, saveFailedEvent } from '../merge/events.js';
import type { Fleet } from './fleet.js';
import type { DeviceChanges } from './reconcile.js';
import { nextDelay } from './backoff.js';
import { allDeletedAtDeviceEvent, deviceChangeIgnoredEvent } from './sync-events.js';
import { errorText, type SyncContext } from './context.js';

export const USER_EVENT = {
  ENROLL_SUCCESS: 0x2000,
  UPDATE_SUCCESS: 0x2200,
  DELETE_SUCCESS: 0x2400,
  DELETE_ALL_SUCCESS: 0x2600,
  UPDATE_PARTIAL_SUCCESS: 0x2900,
} as const;

const WATCHED_CODES = Object.values(USER_EVENT);
/** Sub-code of user events made at the device itself (1 = through the gateway). */
const BY_DEVICE = 2;
const CATCH_UP_PAGE = 16384;

/** What the follower asks of the engine: to put one user on one device back as the database has it. */
export interface UserRepairs {
  repairUser(deviceId: number, userId: string): void;
}

export interface DeviceEventFollowerOptions {
  ctx: SyncContext;
  logger: Logger;
  /** The devices: their records (last event ID), connection state, checks. */
  fleet: Fleet;
  repairs: UserRepairs;
  queueSize?: number;
}

export function isLocalChange(event: DeviceEvent): boolean {
  return event.changedOnDevice || event.subCode === BY_DEVICE;
}

export class DeviceEventFollower implements DeviceChanges {
  readonly #o: DeviceEventFollowerOptions;
  readonly #controller = new AbortController();
  #statusLoop: Promise<void> | undefined;
  #eventLoop: Promise<void> | undefined;
  #status: DeviceStream<unknown> | undefined;
  #events: DeviceStream<DeviceEvent> | undefined;
  /** Events are handled one at a time, in arrival order, so two edits of one user never race. */
  #queue: Promise<void> = Promise.resolve();
  /** Devices whose catch-up is under way: their realtime events are left to it. */
  readonly #catchingUp = new Map<number, Promise<void>>();
  /** Devices whose catch-up must read once more before it ends. */
  readonly #again = new Set<number>();
  /**
   * Devices whose event could not be handled (the user could not be read back): their
   * later events are not taken until a catch-up reads again from the unhandled one, so
   * that no device-side edit is skipped.
   */
  readonly #stalled = new Set<number>();
  /** Devices whose last event ID moved in memory but is not written yet. */
  readonly #dirty = new Set<number>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(options: DeviceEventFollowerOptions) {
    this.#o = options;
    setMaxListeners(0, this.#controller.signal);
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.#controller.abort(signal.reason), { once: true });
    this.#statusLoop = this.#followStatus();
    this.#eventLoop = this.#followEvents();
    for (const device of this.#o.fleet.devices) if (device.connected) this.catchUp(device.id);
  }

  async stop(): Promise<void> {
    this.#controller.abort(new Error('stopping'));
    this.#status?.cancel();
    this.#events?.cancel();
    await Promise.allSettled([this.#statusLoop, this.#eventLoop, this.#queue, ...this.#catchingUp.values()]);
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.#flush();
  }

  get #signal(): AbortSignal {
    return this.#controller.signal;
  }

  async #pause(attempt: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, nextDelay(attempt, { baseMs: 500, maxMs: 30_000 }));
      this.#signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }

  /** Connection state from SubscribeStatus; the stream is opened again whenever it ends. */
  async #followStatus(): Promise<void> {
    let attempt = 0;
    while (!this.#signal.aborted) {
      const stream = this.#o.ctx.transport.subscribeStatus({ queueSize: 256 });
      this.#status = stream;
      try {
        // What changed while no stream was open.
        await this.#o.fleet.refreshConnections();
        for await (const change of stream) {
          attempt = 0;
          const was = this.#o.fleet.device(change.deviceId)?.connected ?? false;
          if (!this.#o.fleet.device(change.deviceId)) await this.#o.fleet.refreshConnections();
          this.#o.fleet.setConnected(change.deviceId, change.connected, change.state);
          if (change.connected && !was) this.catchUp(change.deviceId);
        }
      } catch (error) {
        if (!this.#signal.aborted) this.#o.logger.warn({ err: error }, `device status stream ended: ${errorText(error)}`);
      }
      if (this.#signal.aborted) return;
      await this.#pause(attempt++);
    }
  }

  /** The realtime log; after it ends, every connected device catches up from GetLog. */
  /**
   * The realtime log, all event codes: per-device event IDs are consecutive, so a gap
   * shows that the gateway dropped events (its queue was full) and that device catches up
   * from GetLog. While a device catches up, its realtime events are left to the catch-up.
   */
  async #followEvents(): Promise<void> {
    let attempt = 0;
    while (!this.#signal.aborted) {
      const stream = this.#o.ctx.transport.subscribeEvents({ queueSize: this.#o.queueSize ?? 1024 });
      this.#events = stream;
      const lastSeen = new Map<number, number>();
      try {
        if (attempt > 0) for (const device of this.#o.fleet.devices) if (device.connected) void this.catchUp(device.id);
        for await (const event of stream) {
          attempt = 0;
          const device = this.#o.fleet.device(event.deviceId);
          if (!device) continue;
          const last = lastSeen.get(event.deviceId) ?? device.record.lastEventId;
          lastSeen.set(event.deviceId, Math.max(last, event.id));
          if (this.#catchingUp.has(event.deviceId) || event.id > last + 1) {
            void this.catchUp(event.deviceId);
            continue;
          }
          const received = performance.now();
          void this.#enqueue(() => this.#handle(event, received));
        }
      } catch (error) {
        if (!this.#signal.aborted) this.#o.logger.warn({ err: error }, `device event stream ended: ${errorText(error)}`);
      }
      if (this.#signal.aborted) return;
      await this.#pause(attempt++);
      attempt = Math.max(attempt, 1);
    }
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(work).catch((error: unknown) => this.#o.logger.error({ err: error }, `device event handling failed: ${errorText(error)}`));
    return this.#queue;
  }

  /**
   * Reads what a device logged since its persisted last event ID (events are dropped by
   * the realtime stream when its queue is full, and missed while disconnected), then
   * turns monitoring on.
   */
  catchUp(deviceId: number): Promise<void> {
    const running = this.#catchingUp.get(deviceId);
    if (running) {
      // Events may have arrived after its last read: it reads once more when done.
      this.#again.add(deviceId);
      return running;
    }
    const work = (async () => {
      try {
        await this.#o.ctx.transport.enableMonitoring([deviceId], { signal: this.#signal });
        for (;;) {
          this.#again.delete(deviceId);
          const device = this.#o.fleet.device(deviceId);
          if (!device) return;
          const from = device.record.lastEventId + 1;
          const events = await this.#o.ctx.transport.readEvents(deviceId, from, CATCH_UP_PAGE, { signal: this.#signal });
          const mine = events.filter((e) => WATCHED_CODES.includes(e.eventCode as (typeof WATCHED_CODES)[number]));
          await this.#enqueue(async () => {
            for (const event of mine) await this.#handle(event, performance.now());
            // Past events of other kinds too, unless one could not be handled.
            const last = events[events.length - 1];
            if (last && !this.#stalled.has(deviceId)) await this.#advance(deviceId, last.id);
          });
          if (this.#stalled.has(deviceId)) return;
          if (events.length < CATCH_UP_PAGE && !this.#again.has(deviceId)) return;
        }
      } catch (error) {
        if (!this.#signal.aborted) this.#o.logger.warn({ device: deviceId, err: error }, `event catch-up of device ${deviceId} failed: ${errorText(error)}`);
      } finally {
        this.#catchingUp.delete(deviceId);
      }
    })();
    this.#catchingUp.set(deviceId, work);
    return work;
  }

  /**
   * Moves a device's last event ID. With bookkeeping to commit, it is committed at once;
   * an acknowledgement alone (the device logging our own push) is only noted and written
   * within a second: re-reading a few acknowledgements after a crash is harmless, a commit
   * per acknowledgement is not.
   */
  async #advance(deviceId: number, eventId: number, extra: Mutation[] = [], change?: (record: DeviceRecord) => DeviceRecord): Promise<void> {
    const record = this.#o.fleet.update(deviceId, (r) => {
      const changed = change ? change(r) : r;
      return eventId > changed.lastEventId ? { ...changed, lastEventId: eventId } : changed;
    });
    if (!record) return;
    if (extra.length === 0 && !change) {
      this.#dirty.add(deviceId);
      this.#flushSoon();
      return;
    }
    this.#dirty.delete(deviceId);
    await this.#o.ctx.store.commit([{ type: 'putDevice', device: record }, ...extra]);
  }

  #flushSoon(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#flush();
    }, 1000);
  }

  async #flush(): Promise<void> {
    const mutations: Mutation[] = [];
    for (const id of this.#dirty) {
      const device = this.#o.fleet.device(id);
      if (device) mutations.push({ type: 'putDevice', device: device.record });
    }
    this.#dirty.clear();
    if (mutations.length > 0) {
      await this.#o.ctx.store.commit(mutations).catch((error: unknown) => this.#o.logger.warn({ err: error }, `could not save device event positions: ${errorText(error)}`));
    }
  }

  async #handle(event: DeviceEvent, receivedAt: number): Promise<void> {
    const device = this.#o.fleet.device(event.deviceId);
    if (!device || event.id <= device.record.lastEventId || this.#stalled.has(event.deviceId)) return;
    const local = isLocalChange(event);
    const userId = event.userId && event.userId !== '4294967295' ? event.userId : undefined;
    if (!local || !userId) {
      if (local && event.eventCode === USER_EVENT.DELETE_ALL_SUCCESS) {
        this.#o.logger.warn({ device: event.deviceId }, `all users were deleted at device ${event.deviceId}; checking it`);
        await this.#advance(event.deviceId, event.id, [
          { type: 'appendEvent', event: allDeletedAtDeviceEvent(event.deviceId, this.#o.ctx.config.deviceDeletes) },
        ]);
        if (this.#o.ctx.config.deviceDeletes === 'restore') this.#o.fleet.requestCheck(event.deviceId, 'headers');
        return;
      }
      // Our own pushes acknowledged, or events without a user: only the cursor moves.
      await this.#advance(event.deviceId, event.id);
      return;
    }
    switch (event.eventCode) {
      case USER_EVENT.ENROLL_SUCCESS:
      case USER_EVENT.UPDATE_SUCCESS:
      case USER_EVENT.UPDATE_PARTIAL_SUCCESS:
        await this.#merge(event.deviceId, userId, event.id, receivedAt);
        return;
      case USER_EVENT.DELETE_SUCCESS:
        await this.#deletedAtDevice(event.deviceId, userId, event.id);
        return;
      default:
        await this.#advance(event.deviceId, event.id);
    }
  }

  async #deletedAtDevice(deviceId: number, userId: string, eventId: number): Promise<void> {
    const setting = this.#o.ctx.config.deviceDeletes;
    const user = await this.#o.ctx.store.getUser(userId);
    const hash = setting === 'keep-deleted' && user ? this.#o.fleet.copyOf(deviceId, user).hash : undefined;
    const change = hash ? (r: DeviceRecord): DeviceRecord => ({ ...r, deletedAtDevice: { ...r.deletedAtDevice, [userId]: hash } }) : (r: DeviceRecord) => r;
    await this.#advance(deviceId, eventId, [{ type: 'appendEvent', event: deviceDeleteEvent(userId, deviceId, setting) }], change);
    if (setting === 'restore' && user && this.#o.ctx.mode.autoPush) this.#o.repairs.repairUser(deviceId, userId);
  }

  /** Reads a user from the device that changed it, merges it, commits it with the device as origin. */
  async #merge(deviceId: number, userId: string, eventId: number, receivedAt: number): Promise<void> {
    const { fleet, repairs } = this.#o;
    const { logger } = this.#o;
    const { store, transport, config, mode, metrics, fanout } = this.#o.ctx;
    if (!mode.acceptsDeviceChanges) {
      await this.#advance(deviceId, eventId, [
        {
          type: 'appendEvent',
          event: deviceChangeIgnoredEvent(deviceId, userId, config.mode),
        },
      ]);
      if (mode.autoPush) repairs.repairUser(deviceId, userId);
      return;
    }
    let deviceUser;
    try {
      [deviceUser] = await transport.getUsers(deviceId, [userId], { signal: this.#signal });
    } catch (error) {
      // The event stays unread (lastEventId not advanced); a catch-up reads it again.
      metrics.merges.inc({ result: 'failed' });
      logger.warn({ device: deviceId, userId, err: error }, `could not read user ${userId} from device ${deviceId}: ${errorText(error)}; retrying`);
      this.#stall(deviceId);
      return;
    }
    if (!deviceUser) {
      await this.#advance(deviceId, eventId);
      return;
    }
    const server = await store.getUser(userId);
    // What the device was never given (its copy left it off) is not a change made there.
    const result = mergeDeviceUser(server, fleet.withLeftOffRestored(deviceId, deviceUser, server), config.mergePolicy);
    const events = mergeEvents(userId, deviceId, result, config.mergePolicy);
    metrics.merges.inc({ result: result.outcome });
    if (result.conflicts.length > 0) metrics.conflicts.inc(result.conflicts.length);
    const mutations: Mutation[] = events.map((event) => ({ type: 'appendEvent', event }));
    if (result.outcome !== 'unchanged') mutations.unshift({ type: 'putUser', user: result.user, origin: { kind: 'device', deviceId } });
    try {
      const record = fleet.update(deviceId, (r) => ({ ...r, lastEventId: Math.max(r.lastEventId, eventId) }))!;
      const { seq } = await store.commit([...mutations, { type: 'putDevice', device: record }]);
      if (result.outcome !== 'unchanged') {
        const others = fleet.devices.filter((d) => d.connected && !d.quarantined && d.id !== deviceId).map((d) => d.id);
        fanout.track(seq, receivedAt, others);
        logger.info({ device: deviceId, userId, outcome: result.outcome, changed: result.changedFields, conflicts: result.conflicts.length }, `user ${userId} from device ${deviceId} merged (${result.outcome})`);
      } else if (fleet.copyOf(deviceId, result.user).hash !== deviceProjectionHash(deviceUser)) {
        // Nothing to save (the server's values won), but the device still holds its own
        // version: give it the database's back.
        repairs.repairUser(deviceId, userId);
      }
    } catch (error) {
      metrics.merges.inc({ result: 'failed' });
      logger.error({ device: deviceId, userId, err: error }, `Fail to save to the server DB: user ${userId} from device ${deviceId}`);
      await store.commit([{ type: 'appendEvent', event: saveFailedEvent(userId, deviceId, error) }]).catch(() => undefined);
      throw error;
    }
  }

  #stall(deviceId: number): void {
    if (this.#stalled.has(deviceId)) return;
    this.#stalled.add(deviceId);
    const timer = setTimeout(() => {
      this.#stalled.delete(deviceId);
      if (!this.#signal.aborted) void this.catchUp(deviceId);
    }, 2000);
    timer.unref();
  }

  /** Users a check found on a device that the database does not have: merged as enrollments. */
  async mergeUnknown(deviceId: number, userIds: readonly string[]): Promise<void> {
    const device = this.#o.fleet.device(deviceId);
    if (!device) return;
    for (const userId of userIds) {
      await this.#enqueue(() => this.#merge(deviceId, userId, device.record.lastEventId, performance.now()));
    }
  }
}
