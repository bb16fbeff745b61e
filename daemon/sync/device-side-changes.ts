/**
 * What one device-side event does (ARCHITECTURE §4): an enroll or edit made at a device is
 * read back, merged and committed with the device as origin; a delete there is logged and,
 * under `restore`, undone; our own pushes (subCode 1) only move the cursor. A user that
 * cannot be read back holds its device's later events for sync.deviceEvents.readAttempts
 * tries, then the event is skipped and left to a check. The follower (device-events.ts)
 * calls this from its one queue, one event at a time.
 */
import type { Logger } from 'pino';
import type { DeviceEvent, Mutation } from '../plugins/api.js';
import type { DeviceRecord } from '../model/device.js';
import { deviceProjectionHash } from '../model/projection.js';
import { mergeDeviceUser } from '../merge/merge.js';
import { deviceDeleteEvent, mergeEvents, saveFailedEvent } from '../merge/events.js';
import type { Fleet } from './fleet.js';
import { isRollcallError } from '../errors.js';
import { leaseLostError } from '../store/lease-errors.js';
import { allDeletedAtDeviceEvent, deviceChangeIgnoredEvent, deviceEventSkippedEvent } from './sync-events.js';
import { errorText, type SyncContext } from './context.js';
import type { EventCursors } from './event-cursor.js';
import { EventReadRetries } from './event-read-retry.js';

export const USER_EVENT = {
  ENROLL_SUCCESS: 0x2000,
  UPDATE_SUCCESS: 0x2200,
  DELETE_SUCCESS: 0x2400,
  DELETE_ALL_SUCCESS: 0x2600,
  UPDATE_PARTIAL_SUCCESS: 0x2900,
} as const;

export const WATCHED_CODES: readonly number[] = Object.values(USER_EVENT);
/** Sub-code of user events made at the device itself (1 = through the gateway). */
const BY_DEVICE = 2;

export function isLocalChange(event: DeviceEvent): boolean {
  return event.changedOnDevice || event.subCode === BY_DEVICE;
}

/** What the follower asks of the engine: to put one user on one device back as the database has it. */
export interface UserRepairs {
  repairUser(deviceId: number, userId: string): void;
}

/** The follower's hold on a device whose event could not be handled: later events wait, then a catch-up reads again. */
export interface EventStalls {
  stall(deviceId: number, delayMs: number): void;
  isStalled(deviceId: number): boolean;
}

export interface DeviceSideChangesOptions {
  ctx: SyncContext;
  logger: Logger;
  fleet: Fleet;
  repairs: UserRepairs;
  cursors: EventCursors;
  stalls: EventStalls;
  /** Fires when the follower stops. */
  signal: AbortSignal;
}

export class DeviceSideChanges {
  readonly #o: DeviceSideChangesOptions;
  readonly #retries = new EventReadRetries();

  constructor(options: DeviceSideChangesOptions) {
    this.#o = options;
  }

  /** The device's events are read from elsewhere now (a new baseline): its failed tries are forgotten. */
  forgetTries(deviceId: number): void {
    this.#retries.clear(deviceId);
  }

  async handle(event: DeviceEvent, receivedAt: number): Promise<void> {
    const device = this.#o.fleet.device(event.deviceId);
    if (!device || event.id <= device.record.lastEventId || this.#o.stalls.isStalled(event.deviceId)) return;
    const local = isLocalChange(event);
    const userId = event.userId && event.userId !== '4294967295' ? event.userId : undefined;
    if (!local || !userId) {
      if (local && event.eventCode === USER_EVENT.DELETE_ALL_SUCCESS) {
        this.#o.logger.warn({ device: event.deviceId }, `all users were deleted at device ${event.deviceId}; checking it`);
        await this.#o.cursors.advance(event.deviceId, event.id, [
          { type: 'appendEvent', event: allDeletedAtDeviceEvent(event.deviceId, this.#o.ctx.config.deviceDeletes) },
        ]);
        if (this.#o.ctx.config.deviceDeletes === 'restore') this.#o.fleet.requestCheck(event.deviceId, 'headers');
        return;
      }
      // Our own pushes acknowledged, or events without a user: only the cursor moves.
      await this.#o.cursors.advance(event.deviceId, event.id);
      return;
    }
    switch (event.eventCode) {
      case USER_EVENT.ENROLL_SUCCESS:
      case USER_EVENT.UPDATE_SUCCESS:
      case USER_EVENT.UPDATE_PARTIAL_SUCCESS: {
        const unread = await this.merge(event.deviceId, userId, event.id, receivedAt);
        if (unread) await this.#unreadable(event, userId, unread);
        else this.#retries.clear(event.deviceId);
        return;
      }
      case USER_EVENT.DELETE_SUCCESS:
        await this.#deletedAtDevice(event.deviceId, userId, event.id);
        return;
      default:
        await this.#o.cursors.advance(event.deviceId, event.id);
    }
  }

  async #deletedAtDevice(deviceId: number, userId: string, eventId: number): Promise<void> {
    const setting = this.#o.ctx.config.deviceDeletes;
    const user = await this.#o.ctx.store.getUser(userId);
    const hash = setting === 'keep-deleted' && user ? this.#o.fleet.copyOf(deviceId, user).hash : undefined;
    const change = hash ? (r: DeviceRecord): DeviceRecord => ({ ...r, deletedAtDevice: { ...r.deletedAtDevice, [userId]: hash } }) : (r: DeviceRecord) => r;
    await this.#o.cursors.advance(deviceId, eventId, [{ type: 'appendEvent', event: deviceDeleteEvent(userId, deviceId, setting) }], change);
    if (setting === 'restore' && user && this.#o.ctx.mode.autoPush) this.#o.repairs.repairUser(deviceId, userId);
  }

  /**
   * A device-side change whose user could not be read back. The device's later events wait
   * (they could change the same user) while it is tried again, with a growing delay; after
   * sync.deviceEvents.readAttempts tries (a device that is not connected uses none up) the
   * event is skipped, logged, and left to a check of the device.
   */
  async #unreadable(event: DeviceEvent, userId: string, error: unknown): Promise<void> {
    const { deviceId } = event;
    const { config, metrics } = this.#o.ctx;
    const reason = errorText(error);
    if (this.#o.signal.aborted) return;
    if (!this.#o.fleet.device(deviceId)?.connected) {
      // Its reconnect catches it up; the slow timer only covers a reconnect that was missed.
      this.#o.logger.warn({ device: deviceId, userId, eventId: event.id }, `could not read user ${userId} from device ${deviceId} (${reason}); the device is not connected, reading again when it is`);
      this.#o.stalls.stall(deviceId, config.deviceEvents.retryMaxMs);
      return;
    }
    const verdict = this.#retries.failed(deviceId, event.id, config.deviceEvents);
    if (!verdict.giveUp) {
      this.#o.logger.warn(
        { device: deviceId, userId, eventId: event.id, attempts: verdict.attempts },
        `could not read user ${userId} from device ${deviceId} (${reason}); try ${verdict.attempts} of ${config.deviceEvents.readAttempts}, again in ${verdict.retryInMs} ms`,
      );
      this.#o.stalls.stall(deviceId, verdict.retryInMs);
      return;
    }
    metrics.skippedDeviceEvents.inc();
    this.#o.logger.error(
      { device: deviceId, userId, eventId: event.id, eventCode: event.eventCode, attempts: verdict.attempts },
      `event ${event.id} of device ${deviceId} skipped: user ${userId} could not be read after ${verdict.attempts} tries (${reason}); checking the device`,
    );
    await this.#o.cursors.advance(deviceId, event.id, [{ type: 'appendEvent', event: deviceEventSkippedEvent(deviceId, event.id, event.eventCode, userId, verdict.attempts, reason) }]);
    this.#o.fleet.requestCheck(deviceId, 'headers');
  }

  /**
   * Reads a user from the device that changed it, merges it, commits it with the device as
   * origin. Resolves with the error when the user could not be read (nothing was done then).
   */
  async merge(deviceId: number, userId: string, eventId: number, receivedAt: number): Promise<unknown> {
    const { fleet, repairs } = this.#o;
    const { logger } = this.#o;
    const { store, transport, config, mode, metrics, fanout } = this.#o.ctx;
    if (!mode.acceptsDeviceChanges) {
      await this.#o.cursors.advance(deviceId, eventId, [
        {
          type: 'appendEvent',
          event: deviceChangeIgnoredEvent(deviceId, userId, config.mode),
        },
      ]);
      if (mode.autoPush) repairs.repairUser(deviceId, userId);
      return undefined;
    }
    let deviceUser;
    try {
      [deviceUser] = await transport.getUsers(deviceId, [userId], { signal: this.#o.signal });
    } catch (error) {
      // The event stays unread (lastEventId not advanced): the caller decides what follows.
      metrics.merges.inc({ result: 'failed' });
      return error;
    }
    if (!deviceUser) {
      await this.#o.cursors.advance(deviceId, eventId);
      return undefined;
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
      // The merge and the device's event position in one fenced commit: only the device's owner
      // commits it, once (a device this instance no longer holds is refused, nothing merged).
      const record = fleet.update(deviceId, (r) => ({ ...r, lastEventId: Math.max(r.lastEventId, eventId) }));
      if (!record) throw leaseLostError([{ deviceId, owner: '-', epoch: 0 }]);
      const { seq } = await this.#o.ctx.leases.commit([deviceId], [...mutations, { type: 'putDevice', device: record }]);
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
      // Another instance owns the device now: it reads this event and merges it, once.
      if (isRollcallError(error, 'ROLLCALL_ERR_LEASE_LOST')) throw error;
      metrics.merges.inc({ result: 'failed' });
      logger.error({ device: deviceId, userId, err: error }, `Fail to save to the server DB: user ${userId} from device ${deviceId}`);
      await store.commit([{ type: 'appendEvent', event: saveFailedEvent(userId, deviceId, error) }]).catch(() => undefined);
      throw error;
    }
    return undefined;
  }

}
