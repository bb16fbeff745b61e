/**
 * How one imported row (a UserPatch from CSV or a data file) lands on the stored user
 * (ARCHITECTURE §5, spec/biostar-domain.md §1.4).
 *
 * - preserve: an existing user is left alone (BioStar's "Preserve data").
 * - overwrite: the fields the row sets replace the stored ones (BioStar's "Overwrite").
 * - A blank cell clears its field only with `blankClears`. Without it a blank never wipes
 *   anything, credentials least of all: a blank `csn` under overwrite deleting a real card
 *   is a known BioStar trap. With it, a blank csn removes the CSN cards only.
 * - A csn value replaces the user's first CSN card in place and keeps every other card,
 *   so a user with several cards does not collapse to one (the other BioStar trap). A csn
 *   the user already holds, as any of their CSN cards, changes nothing.
 * - `changed` lists the fields whose value actually changed: an identical re-import
 *   returns an empty list, which callers report as unchanged and do not commit.
 *
 * The PIN must arrive hashed, as `values.pinHash`; a patch still carrying a plaintext PIN
 * is a programming error and throws, so a plaintext PIN can never be stored.
 */
import { RollcallError } from '../errors.js';
import { CardType, DEVICE_FIELDS, SERVER_FIELDS, emptyUser, type Card, type User } from '../model/user.js';
import type { UserPatch } from '../plugins/api.js';

export interface ImportMergeOptions {
  mode: 'preserve' | 'overwrite';
  blankClears: boolean;
}

export type ImportMergeResult = { user: User; changed: (keyof User)[] } | { skipped: 'exists' };

type Mutable = Omit<User, 'id'>;

/** Every field a patch can set. `cards` and `custom` merge item by item; the rest are replaced whole. */
const FIELDS: readonly (keyof Mutable)[] = [...DEVICE_FIELDS, ...SERVER_FIELDS];

export function applyImportPatch(existing: User | undefined, patch: UserPatch, options: ImportMergeOptions): ImportMergeResult {
  if (patch.pin !== undefined) {
    throw new RollcallError('ROLLCALL_ERR_IMPORT_ROW', 'an import patch reached the merge with a plaintext PIN; hash it into values.pinHash first', {
      detail: { userId: patch.id },
    });
  }
  if (existing !== undefined && options.mode === 'preserve') return rehashPreserved(existing, patch) ?? { skipped: 'exists' };

  // A new user starts from a fresh record of its own: nothing to copy. Its base is a
  // shallow copy of it, so the fields the patch leaves alone are the same values and are
  // compared at once (a field the patch sets gets a value of its own: assign, mergeCards).
  const user = existing === undefined ? emptyUser(patch.id) : cloneUser(existing);
  const base = existing ?? { ...user };
  const blank = new Set(patch.blank);

  for (const field of FIELDS) {
    if (field === 'custom' || field === 'cards') continue;
    const value = patch.values[field];
    if (value !== undefined) assign(user, field, value);
    else if (blank.has(field) && options.blankClears) clear(user, field);
  }
  user.cards = mergeCards(user.cards, patch.values.cards, blank.has('cards') && options.blankClears);
  const custom = mergeCustom(user.custom, patch.values.custom, options.blankClears);
  if (custom === undefined) delete user.custom;
  else user.custom = custom;

  takePinHashScheme(user, patch, blank.has('pinHash') && options.blankClears);

  const changed: (keyof User)[] = existing === undefined ? ['id'] : [];
  for (const field of FIELDS) {
    if (!sameValue(field, base[field], user[field])) changed.push(field);
  }
  if (base.pinHashScheme !== user.pinHashScheme) changed.push('pinHashScheme');
  // Unchanged: hand back the stored record itself, so nothing new is written by mistake.
  if (existing !== undefined && changed.length === 0) return { user: existing, changed };
  return { user, changed };
}

/**
 * A hash set by the row brings its provenance (daemon/model/pin-provenance.ts): the scheme of
 * the gateway that hashed the row's PIN, or none (unknown) for a hash the file carried.
 */
function takePinHashScheme(user: User, patch: UserPatch, cleared: boolean): void {
  if (patch.values.pinHash !== undefined) {
    if (patch.values.pinHashScheme !== undefined && presentHash(user.pinHash)) user.pinHashScheme = patch.values.pinHashScheme;
    else delete user.pinHashScheme;
  } else if (cleared || !presentHash(user.pinHash)) {
    delete user.pinHashScheme;
  }
}

function presentHash(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}

/**
 * Preserve leaves an existing user alone, except a PIN hash made by another gateway's scheme
 * when the row offers the plaintext again (hashed by the current gateway): the stored hash
 * would match no device, so the new one replaces it, and nothing else changes.
 */
function rehashPreserved(existing: User, patch: UserPatch): ImportMergeResult | undefined {
  const { pinHash, pinHashScheme } = patch.values;
  if (pinHash === undefined || pinHashScheme === undefined || !presentHash(existing.pinHash)) return undefined;
  if (existing.pinHashScheme === undefined || existing.pinHashScheme === pinHashScheme) return undefined;
  return { user: { ...cloneUser(existing), pinHash, pinHashScheme }, changed: ['pinHash', 'pinHashScheme'] };
}

function assign<K extends keyof Mutable>(user: User, field: K, value: Mutable[K]): void {
  // Strings and numbers are values already; only objects and arrays are copied.
  user[field] = (typeof value === 'object' && value !== null ? structuredClone(value) : value) as User[K];
}

function clear(user: User, field: keyof Mutable): void {
  const empty = emptyUser(user.id);
  if (field in empty) assign(user, field, empty[field]);
  else delete user[field];
}

/**
 * The import speaks for CSN cards: new numbers replace held CSN cards the patch does not
 * name (in order; a CSV's one csn replaces the first CSN card) or are added, numbers
 * already held change nothing, and a clearing blank removes CSN cards. Other card types
 * in a patch are added when not held; held ones are never removed.
 */
function mergeCards(current: Card[], incoming: Card[] | undefined, clearCsn: boolean): Card[] {
  const cards = current.map((card) => ({ ...card }));
  if (incoming === undefined) return clearCsn ? cards.filter((card) => card.type !== CardType.CSN) : cards;
  const holds = (list: Card[], card: Card): boolean => list.some((held) => held.type === card.type && sameCardData(held.data, card.data));
  const incomingCsn = incoming.filter((card) => card.type === CardType.CSN);
  const replaceable = cards.flatMap((card, index) => (card.type === CardType.CSN && !holds(incomingCsn, card) ? [index] : []));
  let next = 0;
  for (const card of incoming) {
    if (holds(cards, card)) continue;
    if (card.type === CardType.CSN && next < replaceable.length) cards[replaceable[next++]!] = { ...card };
    else cards.push({ ...card });
  }
  return cards;
}

/** Card data compared as big-endian numbers: a 4-byte CSN read from a device equals its 32-byte padded form. */
function sameCardData(a: string, b: string): boolean {
  return stripLeadingZeros(Buffer.from(a, 'base64')).equals(stripLeadingZeros(Buffer.from(b, 'base64')));
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/** Custom fields one by one; an empty string is a blank cell (see plugins/watchers/csv/row.ts). */
function mergeCustom(
  current: Record<string, string> | undefined,
  incoming: Record<string, string> | undefined,
  blankClears: boolean,
): Record<string, string> | undefined {
  const merged: Record<string, string> = { ...current };
  for (const [name, value] of Object.entries(incoming ?? {})) {
    if (value !== '') merged[name] = value;
    else if (blankClears) delete merged[name];
  }
  return Object.keys(merged).length === 0 ? undefined : merged;
}

function sameValue(field: keyof User, a: unknown, b: unknown): boolean {
  if (field === 'cards') return sameCards(a as Card[], b as Card[]);
  if (field === 'custom') return deepEqual(a ?? {}, b ?? {});
  return deepEqual(a, b);
}

/** Equality of plain JSON-shaped values (what a User is made of). */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined);
  const bKeys = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function sameCards(a: Card[], b: Card[]): boolean {
  return a.length === b.length && a.every((card, i) => card.type === b[i]!.type && sameCardData(card.data, b[i]!.data));
}

function cloneUser(user: User): User {
  return structuredClone(user);
}
