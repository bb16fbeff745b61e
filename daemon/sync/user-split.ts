/**
 * Splitting a batch one device did not take (issue 13 items 3 and 7), so that one bad user
 * never holds a device back:
 *
 * - `refused` or `unknown` (a code that says nothing about the device, such as INTERNAL): the
 *   batch is split in halves, recursively, to find the user(s) that cause it. A user is
 *   refused only after it failed alone; the others go through. When the first half of a
 *   failed part goes through whole, the second half is known to fail and is split without
 *   being sent whole. k bad users in n cost about 2·k·log2(n/k) calls, not n.
 * - `timeout`: the batch is sent again in halves, each halved again while it times out. A
 *   single user that still times out is the device's trouble (unavailable), not the user's:
 *   the split stops with a DeviceRefusal, which backs the device off.
 * - any other reason (unavailable, full, absent): the device's trouble; DeviceRefusal.
 *
 * A device that answers `unknown` to everything is not a device with bad users: when
 * UNKNOWN_ALONE_LIMIT users have failed alone with `unknown` before any user went through,
 * the split stops with a DeviceRefusal (backoff, quarantine) and refuses nobody. It costs about
 * log2(n) + UNKNOWN_ALONE_LIMIT calls to find that out. (A batch whose first users in split
 * order are all at fault is taken for a broken device too: no worse than without the split.)
 * `refused` (a code that names the content) is always the users'.
 *
 * Pure of I/O: the caller's `send` makes the call and turns a whole-call failure into a
 * DeviceFailure (callFailure in device-health.ts).
 */
import type { DeviceFailure } from '../plugins/api.js';
import { DeviceRefusal } from './device-health.js';

/** Users failing alone with `unknown`, before any went through, that make it the device's trouble. */
export const UNKNOWN_ALONE_LIMIT = 3;

/** Sends `part` to the device; resolves with its failure, or undefined when it went through. */
export type SendPart<T> = (part: readonly T[]) => Promise<DeviceFailure | undefined>;

export interface Refusal<T> {
  item: T;
  failure: DeviceFailure;
}

/** How a failure of a batch is split: to find users, to make it smaller, or not at all. */
export function splitFor(failure: DeviceFailure): 'users' | 'smaller' | undefined {
  if (failure.reason === 'refused' || failure.reason === 'unknown') return 'users';
  if (failure.reason === 'timeout') return 'smaller';
  return undefined;
}

/** `items` in two halves, the first the larger by at most one. */
export function halves<T>(items: readonly T[]): [T[], T[]] {
  const middle = Math.ceil(items.length / 2);
  return [items.slice(0, middle), items.slice(middle)];
}

/**
 * Sends `items` to device `deviceId`, splitting as the failures say; returns the items the
 * device refused alone, with their failure. `first` is the failure of the whole batch when
 * it was sent already (it is not sent whole again). Throws a DeviceRefusal when the device
 * fails for a reason that is not about a user.
 */
export async function sendSplitting<T>(deviceId: number, items: readonly T[], send: SendPart<T>, first?: DeviceFailure): Promise<Refusal<T>[]> {
  const refused: Refusal<T>[] = [];
  let through = 0;
  let unknownAlone = 0;
  /**
   * Returns whether everything in `batch` went through. `known`: its failure, if known
   * already; `inferred` when it was not this batch's own answer but deduced from its parent's.
   */
  const part = async (batch: readonly T[], known: DeviceFailure | undefined, inferred = false): Promise<boolean> => {
    if (batch.length === 0) return true;
    // A single user is refused only on its own failure, never on an inferred one.
    const failure = known !== undefined && !(inferred && batch.length === 1) ? known : await send(batch);
    if (failure === undefined) {
      through += batch.length;
      return true;
    }
    const how = splitFor(failure);
    if (how === undefined) throw new DeviceRefusal(deviceId, failure);
    if (batch.length === 1) {
      if (how === 'smaller') throw new DeviceRefusal(deviceId, failure);
      if (failure.reason === 'unknown' && through === 0 && ++unknownAlone >= UNKNOWN_ALONE_LIMIT) throw new DeviceRefusal(deviceId, failure);
      refused.push({ item: batch[0]!, failure });
      return false;
    }
    const [a, b] = halves(batch);
    const aThrough = await part(a, undefined);
    // The whole failed for its content and `a` went through: the cause is in `b`. A timeout
    // says nothing of the kind (`b` alone may be small enough).
    await part(b, aThrough && how === 'users' ? failure : undefined, true);
    return false;
  };
  await part(items, first);
  return refused;
}
