/**
 * Event-log entries for users that come from, or go to, devices, worded as BioStar's event
 * log words them (spec/biostar-domain.md §3.3) so that operators read what they are used to.
 * Stable kinds let tools filter without parsing the text.
 *
 * Pure builders: no clock (the store stamps `at`), no I/O. Nothing here carries a secret:
 * details hold field names, counts and the safe descriptions of conflicts (describe.ts), never
 * a PIN hash, template, photo or card data.
 */
import { isRollcallError } from '../errors.js';
import type { NewEvent } from '../plugins/api.js';
import type { DeviceDeleteSetting } from './deletes.js';
import type { DeviceField } from './equality.js';
import type { Conflict, MergePolicy, MergeResult } from './merge.js';

export const EventKind = {
  /** A server-side change of the user (admin, import) reached a device or was saved. */
  serverUpdate: 'user.update.server',
  /** A user edited at a device was merged into the database. */
  deviceUpdate: 'user.update.device',
  /** A user enrolled at a device, new to the server, was added to the database. */
  deviceEnroll: 'user.enroll.device',
  /** A user was deleted at a device; the database keeps it. */
  deviceDelete: 'user.delete.device',
  /** A device-side change could not be saved: it exists only on that device. */
  saveFailed: 'user.save.failed',
  /** One device value lost to a server value, or one server value lost to a device value. */
  conflict: 'merge.conflict',
} as const;

export const EventText = {
  serverUpdate: 'User update succeeded (Server)',
  deviceUpdate: 'User update succeeded (Device)',
  deviceEnroll: 'User enrollment succeeded (Device)',
  deviceDelete: 'User deletion succeeded (Device)',
  saveFailed: 'Fail to save to the server DB',
  conflict: 'Merge conflict',
} as const;

/** A server-side change of the user; with `deviceId`, the device that took it. */
export function serverUpdateEvent(userId: string, options: { deviceId?: number; changedFields?: readonly DeviceField[] } = {}): NewEvent {
  const event: NewEvent = { kind: EventKind.serverUpdate, message: EventText.serverUpdate, userId };
  if (options.deviceId !== undefined) event.deviceId = options.deviceId;
  if (options.changedFields !== undefined) event.detail = { changedFields: [...options.changedFields] };
  return event;
}

/** A user edited at `deviceId` and merged into the database, changing `changedFields`. */
export function deviceUpdateEvent(userId: string, deviceId: number, changedFields: readonly DeviceField[], policy?: MergePolicy): NewEvent {
  return {
    kind: EventKind.deviceUpdate,
    message: EventText.deviceUpdate,
    userId,
    deviceId,
    detail: withPolicy({ changedFields: [...changedFields] }, policy),
  };
}

/** A user enrolled at `deviceId` and added to the database with `fields` set. */
export function deviceEnrollEvent(userId: string, deviceId: number, fields: readonly DeviceField[]): NewEvent {
  return {
    kind: EventKind.deviceEnroll,
    message: EventText.deviceEnroll,
    userId,
    deviceId,
    detail: { fields: [...fields] },
  };
}

/** A user deleted at `deviceId`; `setting` says whether the device will get the user back. */
export function deviceDeleteEvent(userId: string, deviceId: number, setting: DeviceDeleteSetting): NewEvent {
  return {
    kind: EventKind.deviceDelete,
    message: EventText.deviceDelete,
    userId,
    deviceId,
    detail: { deviceDeletes: setting, keptInDatabase: true },
  };
}

/**
 * A change made at `deviceId` that could not be saved. `reason` may be the caught error:
 * its message (and its code, for a RollcallError) is recorded, never its cause or stack.
 */
export function saveFailedEvent(userId: string, deviceId: number, reason: unknown): NewEvent {
  const detail: Record<string, unknown> = { reason: reasonText(reason) };
  if (isRollcallError(reason)) detail.code = reason.code;
  return { kind: EventKind.saveFailed, message: EventText.saveFailed, userId, deviceId, detail };
}

/** One event per conflict, in the order given. */
export function conflictEvents(userId: string, deviceId: number, conflicts: readonly Conflict[], policy?: MergePolicy): NewEvent[] {
  return conflicts.map((conflict) => ({
    kind: EventKind.conflict,
    message: EventText.conflict,
    userId,
    deviceId,
    detail: withPolicy(
      { field: conflict.field, kept: conflict.kept, serverValue: conflict.serverValue, deviceValue: conflict.deviceValue },
      policy,
    ),
  }));
}

/**
 * Everything the event log should say about one merge of a user read from `deviceId`: the
 * enrollment or update (nothing when the merge changed nothing), then each conflict.
 */
export function mergeEvents(userId: string, deviceId: number, result: MergeResult, policy: MergePolicy): NewEvent[] {
  const events: NewEvent[] = [];
  if (result.outcome === 'created') events.push(deviceEnrollEvent(userId, deviceId, result.changedFields));
  else if (result.outcome === 'updated') events.push(deviceUpdateEvent(userId, deviceId, result.changedFields, policy));
  events.push(...conflictEvents(userId, deviceId, result.conflicts, policy));
  return events;
}

function withPolicy(detail: Record<string, unknown>, policy: MergePolicy | undefined): Record<string, unknown> {
  return policy === undefined ? detail : { ...detail, policy };
}

function reasonText(reason: unknown): string {
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error) return reason.message;
  return String(reason);
}
