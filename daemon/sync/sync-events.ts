/**
 * Event-log entries of the sync engine and the device-event follower, worded as BioStar's
 * event log words them where it has words for them (spec/biostar-domain.md §3.3). Pure
 * builders: no clock (the store stamps `at`), no I/O. Kinds come from the catalogue
 * (daemon/event-kinds.ts). Details carry codes, counts and reasons, never a secret.
 */
import type { DeviceFailure, NewEvent } from '../plugins/api.js';
import type { SkippedUser } from './planner.js';
import type { CheckDepth } from './device-state.js';
import type { EventBaselineReason } from '../model/device.js';

export function failureText(failure: DeviceFailure): string {
  return `${failure.codeName}: ${failure.message}`;
}

/** A device did not take a batch of `users`. */
export function deviceFailureEvent(deviceId: number, failure: DeviceFailure, users: number): NewEvent {
  const detail = { code: failure.codeName, reason: failure.message, users };
  if (failure.reason === 'full') {
    return { kind: 'sync.capacity', message: `Sync Error (Exceeded max user count) on device ${deviceId}: ${failure.message}`, deviceId, detail };
  }
  return { kind: 'sync.enroll.failed', message: `User enrollment failed (Device ${deviceId}): ${failureText(failure)}`, deviceId, detail };
}

/** Users a plan left alone because they break a rule of the device. */
export function ruleSkipEvents(deviceId: number, skipped: readonly SkippedUser[]): NewEvent[] {
  return skipped
    .filter((s) => s.why === 'rule')
    .map((s) => ({ kind: 'sync.enroll.failed', message: `User enrollment failed (Device ${deviceId}): ${s.reason}`, userId: s.userId, deviceId, detail: { reason: s.reason } }));
}

/** Users the device refused one by one (remembered, not offered again until they change). */
export function refusedEvents(deviceId: number, refused: Readonly<Record<string, { reason: string }>>): NewEvent[] {
  return Object.entries(refused).map(([userId, r]) => ({
    kind: 'sync.enroll.refused',
    message: `User enrollment failed (Device ${deviceId}): ${r.reason}`,
    userId,
    deviceId,
    detail: { reason: r.reason },
  }));
}

export function quarantinedEvent(deviceId: number, failures: number, reason: string): NewEvent {
  return { kind: 'device.quarantined', message: `Device ${deviceId} quarantined after ${failures} failures: ${reason}`, deviceId, detail: { reason } };
}

export function removalHeldEvent(deviceId: number, removals: number, holding: number, share: number): NewEvent {
  return {
    kind: 'sync.removal.held',
    message: `Removal of ${removals} of ${holding} users from device ${deviceId} held (more than ${Math.round(share * 100)}%); confirm with \`rollcall confirm --device ${deviceId}\``,
    deviceId,
    detail: { removals, holding },
  };
}

export function removalConfirmedEvent(deviceId: number, removals: number): NewEvent {
  return { kind: 'sync.removal.confirmed', message: `Removal of ${removals} users from device ${deviceId} confirmed by an operator`, deviceId, detail: { removals } };
}

/** The outcome of a check; with `repaired`, what the repair did. */
export function checkEvent(deviceId: number, method: CheckDepth, inSync: boolean, found: number, repaired?: { enrolled: number; removed: number; held: number }): NewEvent {
  return {
    kind: inSync ? 'sync.check.ok' : 'sync.check.differences',
    message: inSync
      ? `Device ${deviceId} checked (${method}): in sync`
      : `Device ${deviceId} checked (${method}): ${found} difference(s)${repaired ? `, ${repaired.enrolled} enrolled, ${repaired.removed} removed` : ''}`,
    deviceId,
    detail: { method, differences: found, ...(repaired ? { enrolled: repaired.enrolled, removed: repaired.removed, held: repaired.held } : {}) },
  };
}

export function allDeletedAtDeviceEvent(deviceId: number, deviceDeletes: string): NewEvent {
  return { kind: 'user.delete.device', message: 'All users deleted (Device)', deviceId, detail: { deviceDeletes } };
}

export function deviceChangeIgnoredEvent(deviceId: number, userId: string, mode: string): NewEvent {
  return { kind: 'user.update.device.ignored', message: `User changed at device ${deviceId}; not merged, the server's version is restored (sync mode ${mode})`, userId, deviceId };
}

const BASELINE_WORDS: Record<EventBaselineReason, string> = {
  'first-contact': 'first contact',
  'log-reset': 'log reset',
  operator: 'set by an operator',
};

/** Reading a device's event log starts again at `firstId` (from `previous`, the last event read before). */
export function eventBaselineEvent(deviceId: number, firstId: number, previous: number, reason: EventBaselineReason, why: string): NewEvent {
  return {
    kind: 'device.events.baseline',
    message: `Device ${deviceId}: event log read from event ${firstId} (${BASELINE_WORDS[reason]}${why ? `: ${why}` : ''})`,
    deviceId,
    detail: { reason, firstEventId: firstId, previousEventId: previous },
  };
}

/** A device-side event whose user could not be read back, given up after `attempts` tries. */
export function deviceEventSkippedEvent(deviceId: number, eventId: number, eventCode: number, userId: string, attempts: number, reason: string): NewEvent {
  return {
    kind: 'device.event.skipped',
    message: `Device ${deviceId}: event ${eventId} skipped, user ${userId} could not be read after ${attempts} attempts (${reason}); a check of the device follows`,
    userId,
    deviceId,
    detail: { eventId, eventCode, attempts, reason },
  };
}
