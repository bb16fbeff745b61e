/** What every part of the store contract suite shares: the harness and small builders. */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isRollcallError, type ErrorCode } from '../../../daemon/errors.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';
import { emptyUser, type Origin, type User } from '../../../daemon/model/user.js';
import type { EventKind } from '../../../daemon/event-kinds.js';
import type { ImportRecord, Mutation, NewEvent, Store } from '../../../daemon/plugins/api.js';
import { freshSubject, type SubjectHarness } from '../fresh-subject.js';

export interface StoreUnderTest {
  /** An open, empty store. */
  store: Store;
  /** Closes the store and opens it again on the same data; returns the store to use from then on. */
  reopen?: () => Promise<Store>;
  /** Closes whichever store is current and removes what the factory made. */
  cleanup: () => Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

export type Harness = SubjectHarness<StoreUnderTest>;

export function harness(factory: StoreFactory): Harness {
  return freshSubject(factory);
}

export const server: Origin = { kind: 'server', by: 'contract' };

export function user(id: string, fields: Partial<User> = {}): User {
  return { ...emptyUser(id), name: `User ${id}`, ...fields };
}

export function putUser(id: string, fields: Partial<User> = {}, origin: Origin = server): Mutation {
  return { type: 'putUser', user: user(id, fields), origin };
}

export function deleteUser(id: string, origin: Origin = server): Mutation {
  return { type: 'deleteUser', userId: id, origin };
}

export function device(id: number, fields: Partial<DeviceRecord> = {}): DeviceRecord {
  return { id, source: 'config', address: `10.0.0.${id % 250}`, port: 51211, lastEventId: 0, ...fields };
}

export function importRecord(hash: string, fields: Partial<ImportRecord> = {}): ImportRecord {
  return {
    hash,
    file: `${hash.slice(0, 6)}.csv`,
    format: 'csv',
    state: 'running',
    startedAt: 1_700_000_000_000,
    checkpoint: 0,
    counts: { ok: 0, failed: 0, skipped: 0 },
    ...fields,
  };
}

/**
 * A store keeps whatever kind it is given and reads it back as a string (a log written by an
 * older daemon may hold kinds the catalogue has since dropped), so the contract also writes
 * kinds outside the catalogue, to hold the prefix rules of queries to them. Only here does a
 * kind skip the catalogue's type.
 */
export function anyKind(kind: string): EventKind {
  return kind as EventKind;
}

export function event(kind: string, fields: Partial<NewEvent> = {}): Mutation {
  return { type: 'appendEvent', event: { kind: anyKind(kind), message: `message of ${kind}`, ...fields } };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export function hasCode(code: ErrorCode): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isRollcallError(error, code), `expected ${code}, got ${String((error as Error)?.stack ?? error)}`);
    return true;
  };
}

export async function rejectsWith(work: Promise<unknown> | (() => Promise<unknown>), code: ErrorCode, message?: string): Promise<void> {
  await assert.rejects(work, hasCode(code), message);
}

/** Settles microtasks and one macrotask, so that anything a finished call woke has run. */
export async function settle(): Promise<void> {
  await nextTurn();
  await nextTurn();
}

/** Tracks whether a promise has settled, without timing anything. */
export function watch<T>(promise: Promise<T>): { readonly settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

/** Returns once the wall clock has moved past `instant` (commit times are whole ms). */
export async function clockPast(instant: number): Promise<number> {
  while (Date.now() <= instant) await nextTurn();
  return Date.now();
}

export function utf8Sorted(ids: readonly string[]): string[] {
  return [...ids].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** Everything a store holds, read through the contract, to compare before and after. */
export async function snapshot(store: Store, devices: readonly number[] = [1, 2, 3]) {
  return {
    seq: store.currentSeq(),
    count: await store.countUsers(),
    users: await collect(store.scanUsers()),
    changes: await store.changesSince(0),
    horizon: await store.feedHorizon(),
    cursors: await Promise.all(devices.map((id) => store.cursor(id))),
    devices: await store.listDevices(),
    imports: await store.listImports(),
    events: await store.queryEvents(),
  };
}
