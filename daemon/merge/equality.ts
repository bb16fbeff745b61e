/**
 * What a device holds of a user, and when two users look the same to a device.
 *
 * Devices hold only the fields of G-SDK's UserInfo (spec/gsdk-wire.md §2.1); BioStar's
 * server-only fields (department, title, phone, email, userGroup, custom) never reach a device,
 * so a device can neither see nor change them and they take no part in any comparison here.
 *
 * Lists are compared as multisets: a device may return credentials, access groups and job codes
 * in another order than they were enrolled, and that is not a change. The `index` of a finger or
 * a face is left out: devices ignore it (spec §2.5), so a device's copy may not keep ours.
 *
 * Keys built here contain credential content (card data, templates, images). They exist to
 * compare and deduplicate in memory and must never be logged or stored.
 */
import type { AuthModes, Card, Face, Finger, JobCode, User } from '../model/user.js';

export { DEVICE_FIELDS, type DeviceField } from '../model/user.js';
import { DEVICE_FIELDS, SERVER_FIELDS, type DeviceField } from '../model/user.js';

/** The fields only the server holds; a device merge never touches them. */
export const SERVER_ONLY_FIELDS = SERVER_FIELDS;

export type CredentialField = 'cards' | 'fingers' | 'faces';

export function isCredentialField(field: DeviceField): field is CredentialField {
  return field === 'cards' || field === 'fingers' || field === 'faces';
}

/** The private auth modes of AuthModes, in UserSetting order. */
export const AUTH_MODE_KEYS = ['biometric', 'card', 'id', 'faceExt', 'fingerExt', 'cardExt', 'idExt'] as const satisfies readonly (keyof AuthModes)[];

// Separators outside the base64 alphabet (A-Z a-z 0-9 + / =), so no two different contents
// can produce the same key.
const LIST = ',';
const PART = '|';

function templateSet(templates: readonly string[] | undefined): string {
  // Sorted: the same templates in another order are the same finger or face.
  return [...(templates ?? [])].sort().join(LIST);
}

/** Identity of a card: its type and data. Two cards with the same key are one card. */
export function cardKey(card: Card): string {
  return `${card.type}${PART}${card.data}`;
}

/** Identity of a finger: its two templates. Index and duress flag are not part of it. */
export function fingerKey(finger: Finger): string {
  return templateSet(finger.templates);
}

/** Identity of a face: its templates, image, IR templates and IR image. */
export function faceKey(face: Face): string {
  return [templateSet(face.templates), face.imageData ?? '', templateSet(face.irTemplates), face.irImageData ?? ''].join(PART);
}

/**
 * The identity of a credential, for deduplication by content: a credential whose key the user
 * already has is not new, whatever its flag or index.
 */
export function credentialKey(field: 'cards', item: Card): string;
export function credentialKey(field: 'fingers', item: Finger): string;
export function credentialKey(field: 'faces', item: Face): string;
export function credentialKey(field: CredentialField, item: Card | Finger | Face): string;
export function credentialKey(field: CredentialField, item: Card | Finger | Face): string {
  switch (field) {
    case 'cards':
      return cardKey(item as Card);
    case 'fingers':
      return fingerKey(item as Finger);
    case 'faces':
      return faceKey(item as Face);
  }
}

/**
 * Everything a device holds of a credential: its identity plus its flag (duress finger, face
 * kind). Two credentials with the same projection key look the same on a device.
 */
export function credentialProjectionKey(field: CredentialField, item: Card | Finger | Face): string {
  const identity = credentialKey(field, item);
  return field === 'cards' ? identity : `${identity}${PART}${(item as Finger | Face).flag}`;
}

export function jobCodeKey(jobCode: JobCode): string {
  // JSON keeps a label that contains a separator apart from another code.
  return JSON.stringify([jobCode.code, jobCode.label]);
}

/** The list fields of a user: compared as multisets, merged item by item. */
export type ListField = CredentialField | 'accessGroups' | 'jobCodes';

/**
 * One key per item of a list field, in the list's order, telling items apart the way a
 * device does. Two items with the same key are the same thing on a device.
 */
export function projectionKeys(field: ListField, user: User): string[] {
  switch (field) {
    case 'cards':
      return user.cards.map((card) => credentialProjectionKey('cards', card));
    case 'fingers':
      return user.fingers.map((finger) => credentialProjectionKey('fingers', finger));
    case 'faces':
      return user.faces.map((face) => credentialProjectionKey('faces', face));
    case 'accessGroups':
      return user.accessGroups.map((group) => String(group));
    case 'jobCodes':
      return user.jobCodes.map(jobCodeKey);
  }
}

/** Whether two lists of keys hold the same keys, counted, in any order. */
export function sameMultiset(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const counts = countKeys(a);
  for (const key of b) {
    const left = counts.get(key) ?? 0;
    if (left === 0) return false;
    counts.set(key, left - 1);
  }
  return true;
}

/** How many times each key occurs. */
export function countKeys(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** An absent and an empty binary value are the same to a device: nothing stored. */
export function presentBinary(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Whether `field` has the same value in `a` and `b` as a device would hold it. */
export function deviceFieldEqual(field: DeviceField, a: User, b: User): boolean {
  switch (field) {
    case 'name':
    case 'startTime':
    case 'endTime':
    case 'securityLevel':
      return a[field] === b[field];
    case 'disabled':
      return Boolean(a.disabled) === Boolean(b.disabled);
    case 'auth':
      return AUTH_MODE_KEYS.every((mode) => a.auth[mode] === b.auth[mode]);
    case 'cards':
    case 'fingers':
    case 'faces':
    case 'accessGroups':
    case 'jobCodes':
      return sameMultiset(projectionKeys(field, a), projectionKeys(field, b));
    case 'pinHash':
    case 'photo':
      return presentBinary(a[field]) === presentBinary(b[field]);
  }
}

/** The device fields in which `a` and `b` differ, in DEVICE_FIELDS order. */
export function deviceFieldsDiffer(a: User, b: User): DeviceField[] {
  return DEVICE_FIELDS.filter((field) => !deviceFieldEqual(field, a, b));
}

/** Whether a device would hold the same thing for `a` as for `b` (IDs are not compared). */
export function sameDeviceProjection(a: User, b: User): boolean {
  return DEVICE_FIELDS.every((field) => deviceFieldEqual(field, a, b));
}
