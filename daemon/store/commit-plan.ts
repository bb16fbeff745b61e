/**
 * Turns the mutations of one commit into what a backend writes. Two steps:
 *
 * - `prepareMutations` runs when commit() is called: it checks the mutations and copies
 *   their values as JSON, so a caller that edits its objects afterwards changes nothing,
 *   and a value JSON cannot carry is refused before anything is queued.
 * - `planCommit` runs when the commit's turn comes (commits are serialized): it assigns
 *   seqs and event IDs and coalesces, so a backend writes at most one entry per user,
 *   device, cursor and import.
 *
 * Seq rule: every putUser and deleteUser takes the next seq, so a commit advances the seq
 * by its number of user mutations. When one user appears more than once, its last op wins
 * and carries the last of those seqs; the earlier seqs stay unused in the feed.
 */
import type { DeviceRecord } from '../model/device.js';
import type { Origin } from '../model/user.js';
import { summarizeUser, type UserSummary } from '../model/user-summary.js';
import type { ImportRecord, Mutation, NewEvent, StoredEvent } from '../plugins/api.js';
import { checkMutations } from './store-arguments.js';
import { invalidArgumentError } from './store-errors.js';

/** A checked mutation holding private copies of its values. User records are JSON text. */
export type PreparedMutation =
  | { type: 'putUser'; userId: string; record: string; origin: Origin; summary?: UserSummary }
  | { type: 'deleteUser'; userId: string; origin: Origin }
  | { type: 'setCursor'; deviceId: number; seq: number }
  | { type: 'putDevice'; deviceId: number; device: DeviceRecord; ifAbsent?: true }
  | { type: 'deleteDevice'; deviceId: number }
  | { type: 'putImport'; record: ImportRecord }
  | { type: 'appendEvent'; event: NewEvent };

export type UserChange =
  | {
      op: 'upsert';
      seq: number;
      userId: string;
      /** The user as JSON text. */
      record: string;
      origin: Origin;
      /** Its summary (user-summary.ts), for a backend that keeps summaries (prepareMutations' `summaries`). */
      summary?: UserSummary;
    }
  | { op: 'delete'; seq: number; userId: string; origin: Origin };

export interface CommitPlan {
  /** Unix ms of the commit: the `at` of its feed entries and of events that had none. */
  at: number;
  /** The store's seq after this commit (the seq before it when no user changed). */
  seq: number;
  /** The highest event ID after this commit. */
  lastEventId: number;
  /** At most one per user (its last op), in ascending seq. */
  users: UserChange[];
  /** The last cursor per device; null removes it (the device was deleted). */
  cursors: { deviceId: number; seq: number | null }[];
  /** The last state per device; null deletes it. */
  /** `ifAbsent`: written only where the store holds no record of the device (Mutation putDevice). */
  devices: { deviceId: number; device: DeviceRecord | null; ifAbsent?: true }[];
  /** The last record per import hash. */
  imports: ImportRecord[];
  /** In the order given, with their IDs. */
  events: StoredEvent[];
}

/** `summaries`: each putUser also gets its user's summary, made from the user as given. */
export function prepareMutations(mutations: unknown, options: { summaries?: boolean } = {}): PreparedMutation[] {
  checkMutations(mutations);
  // An import's batch gives every putUser the same origin object: copied once, not per user.
  const origins = new Map<unknown, unknown>();
  return mutations.map((m, index) => {
    const copy = <T>(value: T): T => jsonCopy(value, `mutations[${index}]`);
    const copyOrigin = <T>(origin: T): T => {
      if (typeof origin !== 'object' || origin === null) return copy(origin);
      let copied = origins.get(origin) as T | undefined;
      if (copied === undefined) origins.set(origin, (copied = copy(origin)));
      return copied;
    };
    switch (m.type) {
      case 'putUser': {
        const record = jsonText(m.user, `mutations[${index}]`);
        const prepared: PreparedMutation = { type: m.type, userId: m.user.id, record, origin: copyOrigin(m.origin) };
        if (options.summaries) prepared.summary = summarizeUser(m.user);
        return prepared;
      }
      case 'deleteUser':
        return { type: m.type, userId: m.userId, origin: copyOrigin(m.origin) };
      case 'setCursor':
        return { type: m.type, deviceId: m.deviceId, seq: m.seq };
      case 'putDevice':
        return { type: m.type, deviceId: m.device.id, device: copy(m.device), ...(m.ifAbsent === true ? { ifAbsent: true as const } : {}) };
      case 'deleteDevice':
        return { type: m.type, deviceId: m.deviceId };
      case 'putImport':
        return { type: m.type, record: copy(m.record) };
      case 'appendEvent':
        return { type: m.type, event: copy(m.event) };
    }
  });
}

export function planCommit(
  mutations: readonly PreparedMutation[],
  base: { seq: number; lastEventId: number; at: number },
): CommitPlan {
  let seq = base.seq;
  let eventId = base.lastEventId;
  // Re-inserting on every op keeps each Map in the order of its last op, hence ascending seq.
  const users = new Map<string, UserChange>();
  const cursors = new Map<number, number | null>();
  const devices = new Map<number, DeviceRecord | null>();
  /** Devices whose last write in this commit is a putDevice ifAbsent. */
  const ifAbsent = new Set<number>();
  const imports = new Map<string, ImportRecord>();
  const events: StoredEvent[] = [];

  for (const m of mutations) {
    switch (m.type) {
      case 'putUser':
        seq += 1;
        users.delete(m.userId);
        users.set(m.userId, { op: 'upsert', seq, userId: m.userId, record: m.record, origin: m.origin, ...(m.summary ? { summary: m.summary } : {}) });
        break;
      case 'deleteUser':
        seq += 1;
        users.delete(m.userId);
        users.set(m.userId, { op: 'delete', seq, userId: m.userId, origin: m.origin });
        break;
      case 'setCursor':
        cursors.set(m.deviceId, m.seq);
        break;
      case 'putDevice':
        // After another write of the device in this commit, "if absent" would read the store
        // before that write: the record is written as put.
        if (m.ifAbsent && !devices.has(m.deviceId)) ifAbsent.add(m.deviceId);
        else ifAbsent.delete(m.deviceId);
        devices.set(m.deviceId, m.device);
        break;
      case 'deleteDevice':
        // A device that is gone has nothing acknowledged; a later putDevice starts it at 0.
        ifAbsent.delete(m.deviceId);
        devices.set(m.deviceId, null);
        cursors.set(m.deviceId, null);
        break;
      case 'putImport':
        imports.delete(m.record.hash);
        imports.set(m.record.hash, m.record);
        break;
      case 'appendEvent':
        eventId += 1;
        events.push(storedEvent(eventId, m.event, base.at));
        break;
    }
  }

  for (const [deviceId, cursor] of cursors) {
    if (cursor !== null && cursor > seq) {
      throw invalidArgumentError(`The cursor ${cursor} of device ${deviceId} is ahead of the store's seq ${seq}`, {
        deviceId,
        cursor,
        seq,
      });
    }
  }

  return {
    at: base.at,
    seq,
    lastEventId: eventId,
    users: [...users.values()],
    cursors: [...cursors].map(([deviceId, cursor]) => ({ deviceId, seq: cursor })),
    devices: [...devices].map(([deviceId, device]) => ({ deviceId, device, ...(ifAbsent.has(deviceId) ? { ifAbsent: true as const } : {}) })),
    imports: [...imports.values()],
    events,
  };
}

function storedEvent(id: number, event: NewEvent, at: number): StoredEvent {
  const stored: StoredEvent = { id, kind: event.kind, message: event.message, at: event.at ?? at };
  if (event.userId !== undefined) stored.userId = event.userId;
  if (event.deviceId !== undefined) stored.deviceId = event.deviceId;
  if (event.detail !== undefined) stored.detail = event.detail;
  return stored;
}

function jsonText(value: unknown, at: string): string {
  try {
    return JSON.stringify(value);
  } catch (cause) {
    // Cycles and BigInts: what a JSON store could not write back.
    throw invalidArgumentError(`${at} holds a value that cannot be stored as JSON: ${(cause as Error).message}`, {
      argument: at,
    });
  }
}

function jsonCopy<T>(value: T, at: string): T {
  return JSON.parse(jsonText(value, at)) as T;
}
