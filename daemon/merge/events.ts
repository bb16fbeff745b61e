/**
 * Event-log entries for users that come from, or go to, devices, worded as BioStar's event
 * log words them (spec/biostar-domain.md §3.3) so that operators read what they are used to.
 * Their kinds are the catalogue's (event-kinds.ts), so tools filter without parsing the text.
 *
 * Pure builders: no clock (the store stamps `at`), no I/O. Nothing here carries a secret:
 * details hold field names, counts and the safe descriptions of conflicts (describe.ts), never
 * a PIN hash, template, photo or card data.
 */
import { isRollcallError } from '../errors.js';
import type { EventKind } from '../event-kinds.js';
import type { NewEvent } from '../plugins/api.js';
import type { DeviceDeleteSetting } from './deletes.js';
import type { DeviceField } from './equality.js';
import type { Conflict, MergePolicy, MergeResult } from './merge.js';

/**
 * The BioStar wording of each kind built here and by the admin service. The kinds and what
 * they mean are the catalogue's (event-kinds.ts); this holds only the text an operator reads.
 */
export const EventText = {
  'user.update.server': 'User update succeeded (Server)',
  'user.delete.server': 'User deletion succeeded (Server)',
  'user.update.device': 'User update succeeded (Device)',
  'user.enroll.device': 'User enrollment succeeded (Device)',
  'user.delete.device': 'User deletion succeeded (Device)',
  'user.save.failed': 'Fail to save to the server DB',
  'merge.conflict': 'Merge conflict',
} as const satisfies Partial<Record<EventKind, string>>;

type WordedKind = keyof typeof EventText;

/** An event of `kind` worded as BioStar words it, with the rest of its fields. */
export function wordedEvent(kind: WordedKind, fields: Omit<NewEvent, 'kind' | 'message'> = {}): NewEvent {
  return { kind, message: EventText[kind], ...fields };
}

/** A server-side change of the user; with `deviceId`, the device that took it. */
export function serverUpdateEvent(userId: string, options: { deviceId?: number; changedFields?: readonly DeviceField[] } = {}): NewEvent {
  const event = wordedEvent('user.update.server', { userId });
  if (options.deviceId !== undefined) event.deviceId = options.deviceId;
  if (options.changedFields !== undefined) event.detail = { changedFields: [...options.changedFields] };
  return event;
}

/** A user edited at `deviceId` and merged into the database, changing `changedFields`. */
export function deviceUpdateEvent(userId: string, deviceId: number, changedFields: readonly DeviceField[], policy?: MergePolicy): NewEvent {
  return wordedEvent('user.update.device', { userId, deviceId, detail: withPolicy({ changedFields: [...changedFields] }, policy) });
}

/** A user enrolled at `deviceId` and added to the database with `fields` set. */
export function deviceEnrollEvent(userId: string, deviceId: number, fields: readonly DeviceField[]): NewEvent {
  return wordedEvent('user.enroll.device', { userId, deviceId, detail: { fields: [...fields] } });
}

/** A user deleted at `deviceId`; `setting` says whether the device will get the user back. */
export function deviceDeleteEvent(userId: string, deviceId: number, setting: DeviceDeleteSetting): NewEvent {
  return wordedEvent('user.delete.device', { userId, deviceId, detail: { deviceDeletes: setting, keptInDatabase: true } });
}

/**
 * A change made at `deviceId` that could not be saved. `reason` may be the caught error:
 * its message (and its code, for a RollcallError) is recorded, never its cause or stack.
 */
export function saveFailedEvent(userId: string, deviceId: number, reason: unknown): NewEvent {
  const detail: Record<string, unknown> = { reason: reasonText(reason) };
  if (isRollcallError(reason)) detail.code = reason.code;
  return wordedEvent('user.save.failed', { userId, deviceId, detail });
}

/** One event per conflict, in the order given. */
export function conflictEvents(userId: string, deviceId: number, conflicts: readonly Conflict[], policy?: MergePolicy): NewEvent[] {
  return conflicts.map((conflict) =>
    wordedEvent('merge.conflict', {
      userId,
      deviceId,
      detail: withPolicy(
        { field: conflict.field, kept: conflict.kept, serverValue: conflict.serverValue, deviceValue: conflict.deviceValue },
        policy,
      ),
    }),
  );
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
