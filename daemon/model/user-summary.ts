/**
 * What a header check needs to know of a user without reading the whole record (issue 14
 * item 5): a check of a 500,000-user device that parsed every full user (templates, photos)
 * could not finish in 5 s. The store keeps one summary per user, written in the same atomic
 * batch as the user itself, so a summary is never older or newer than its record.
 *
 * From a summary alone a check can say whether a device is targeted (sync modes that target
 * by access groups), what the device's copy holds (credential counts, what is left off:
 * device-copy.ts) and whether the copy breaks a device rule: a record that breaks none but
 * its ID's (`sound`) yields copies that break none either, since a copy only leaves things
 * off. A record that is not sound is read whole. The projection hash is not summarized: a
 * header check needs it only for the few users a device refused or deleted itself.
 *
 * Pure.
 */
import { FACE_FLAG_EX } from './limits.js';
import { emptyUser, type User } from './user.js';
import { fieldIssues, validateUser } from './validate.js';

export interface UserSummary {
  id: string;
  /** Shared between summaries read from a store (summary-index.ts): never changed. */
  accessGroups: readonly number[];
  cards: number;
  fingers: number;
  /** Faces of any kind. */
  faces: number;
  /** Faces with the visual (EX) flag; the others are IR. */
  visualFaces: number;
  /** The user has a PIN hash. */
  pin: boolean;
  /** The gateway scheme that made the PIN hash (User.pinHashScheme). */
  pinHashScheme?: string;
  /** The record breaks no device rule of the default limits, the ID's aside (validate.ts). */
  sound: boolean;
  /** The ID passes the rules of devices with numeric IDs. */
  numericId: boolean;
  /** The ID passes the rules of devices with alphanumeric IDs. */
  alphanumericId: boolean;
}

/**
 * The summary of `user`. The store does not validate what it is given, so a record of the
 * wrong shape gets a summary too (not sound: it is read whole when placed).
 */
export function summarizeUser(user: User): UserSummary {
  const issues = validateUser(user, undefined, { alphanumericIds: false });
  const idIssues = issues.filter((issue) => issue.field === 'id');
  const list = <T>(value: T[]): T[] => (Array.isArray(value) ? value : []);
  const summary: UserSummary = {
    id: user.id,
    accessGroups: list(user.accessGroups).filter((group) => typeof group === 'number'),
    cards: list(user.cards).length,
    fingers: list(user.fingers).length,
    faces: list(user.faces).length,
    visualFaces: list(user.faces).filter((face) => ((face?.flag ?? 0) & FACE_FLAG_EX) !== 0).length,
    pin: typeof user.pinHash === 'string' && user.pinHash !== '',
    sound: issues.length === idIssues.length,
    numericId: idIssues.length === 0,
    // A numeric ID that passes is alphanumeric too; otherwise the ID alone is checked again.
    alphanumericId: idIssues.length === 0 || fieldIssues('id', user.id, { alphanumericIds: true }).length === 0,
  };
  if (typeof user.pinHashScheme === 'string') summary.pinHashScheme = user.pinHashScheme;
  return summary;
}

/**
 * A user with the summary's ID, access groups and credentials of the summary's counts and
 * kinds, all else empty: what device-copy.ts needs to work out a copy's counts and what it
 * leaves off by the same rules as for the whole record. Never stored, sent or hashed.
 */
export function skeletonOf(summary: UserSummary): User {
  const user = emptyUser(summary.id);
  user.accessGroups = [...summary.accessGroups];
  user.cards = Array.from({ length: summary.cards }, () => ({ type: 0, data: '' }));
  user.fingers = Array.from({ length: summary.fingers }, (_, index) => ({ index, flag: 0, templates: [] }));
  user.faces = Array.from({ length: summary.faces }, (_, index) => ({ index, flag: index < summary.visualFaces ? FACE_FLAG_EX : 0, templates: [] }));
  return Object.assign(user, summaryPin(summary));
}

/** The PIN facts of the summary in the shape pin-provenance.ts reads: a stand-in hash when the user has one, and its scheme. */
export function summaryPin(summary: UserSummary): Pick<User, 'pinHash' | 'pinHashScheme'> {
  const pin: Pick<User, 'pinHash' | 'pinHashScheme'> = {};
  if (summary.pin) pin.pinHash = 'pin';
  if (summary.pinHashScheme !== undefined) pin.pinHashScheme = summary.pinHashScheme;
  return pin;
}

/** The summary as the store writes it: a short JSON array, in field order. */
export function encodeSummary(summary: UserSummary): unknown[] {
  const flags = (summary.pin ? 1 : 0) | (summary.sound ? 2 : 0) | (summary.numericId ? 4 : 0) | (summary.alphanumericId ? 8 : 0);
  const row: unknown[] = [summary.cards, summary.fingers, summary.faces, summary.visualFaces, flags, summary.accessGroups];
  if (summary.pinHashScheme !== undefined) row.push(summary.pinHashScheme);
  return row;
}

/** A summary from `encodeSummary`'s array; undefined when the array is not one. */
export function decodeSummary(id: string, row: unknown): UserSummary | undefined {
  if (!Array.isArray(row) || row.length < 6 || row.length > 7) return undefined;
  const [cards, fingers, faces, visualFaces, flags, accessGroups, scheme] = row as [number, number, number, number, number, number[], string?];
  if (![cards, fingers, faces, visualFaces, flags].every(Number.isInteger) || !Array.isArray(accessGroups)) return undefined;
  const summary: UserSummary = {
    id,
    accessGroups,
    cards,
    fingers,
    faces,
    visualFaces,
    pin: (flags & 1) !== 0,
    sound: (flags & 2) !== 0,
    numericId: (flags & 4) !== 0,
    alphanumericId: (flags & 8) !== 0,
  };
  if (typeof scheme === 'string') summary.pinHashScheme = scheme;
  return summary;
}
