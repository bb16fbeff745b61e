/**
 * Comparing what a device holds with what it should hold (ARCHITECTURE §4, reconcile).
 * Pure: the engine gathers the expected set from the store and the device's headers or
 * users from the gateway, and these functions say what differs.
 */
import type { DeviceUserHeader } from '../plugins/api.js';
import type { User } from '../model/user.js';
import type { LeftOff } from '../model/device-copy.js';

/**
 * What the device should hold for one user, without keeping the whole user in memory: the
 * counts and hash of the device's copy (daemon/model/device-copy.ts), and what the copy left off.
 */
export interface ExpectedUser {
  cards: number;
  fingers: number;
  faces: number;
  /**
   * Device-projection hash of the copy (daemon/model/projection.ts). Absent in a set made from
   * user summaries (summary-placement.ts): ExpectedSets.hashes works it out when needed.
   */
  hash?: string;
  /** Present only when the copy left something off (shared between users with the same, never changed). */
  leftOff?: readonly LeftOff[];
}

/** The expected entry of a device's `copy` of a user, with what the copy left off. */
export function expectedOf(copy: User, hash: string, leftOff: readonly LeftOff[] = []): ExpectedUser {
  const expected: ExpectedUser = { cards: copy.cards.length, fingers: copy.fingers.length, faces: copy.faces.length, hash };
  if (leftOff.length > 0) expected.leftOff = leftOff;
  return expected;
}

export interface HeaderDiff {
  /** Expected but not on the device. */
  missing: string[];
  /** On the device, neither expected nor to be left alone. */
  extra: string[];
  /** On the device with credential counts that differ from the expected ones. */
  mismatched: string[];
  /** On the device with matching counts: only a deep check can tell whether they are equal. */
  matched: string[];
}

/**
 * The cheap check: IDs and credential counts from GetList against the expected set. Users
 * in `leaveAlone` count neither way, expected or not.
 */
export function headerDiff(expected: ReadonlyMap<string, ExpectedUser>, headers: readonly DeviceUserHeader[], leaveAlone: ReadonlySet<string>): HeaderDiff {
  const diff: HeaderDiff = { missing: [], extra: [], mismatched: [], matched: [] };
  let found = 0;
  for (const header of headers) {
    if (leaveAlone.has(header.id)) continue;
    const want = expected.get(header.id);
    if (!want) {
      diff.extra.push(header.id);
      continue;
    }
    found += 1;
    if (want.cards !== header.cards || want.fingers !== header.fingers || want.faces !== header.faces) diff.mismatched.push(header.id);
    else diff.matched.push(header.id);
  }
  // A device holds each ID once, so when every expected user was found none is missing, and
  // the set of IDs seen (a large device's most costly part of the check) is not needed.
  let toFind = expected.size;
  for (const id of leaveAlone) if (expected.has(id)) toFind -= 1;
  if (found === toFind) return diff;
  const seen = new Set(headers.map((header) => header.id));
  for (const id of expected.keys()) if (!seen.has(id) && !leaveAlone.has(id)) diff.missing.push(id);
  return diff;
}

export function differences(diff: HeaderDiff, changed: readonly string[] = []): number {
  return diff.missing.length + diff.extra.length + diff.mismatched.length + changed.length;
}

/** The deep check: users read back from the device whose content hash differs from the expected one (`expected`: hashes by ID). */
export function contentDiff(expected: ReadonlyMap<string, string>, deviceUsers: readonly { id: string; hash: string }[]): string[] {
  return deviceUsers.filter((u) => expected.get(u.id) !== u.hash).map((u) => u.id);
}
