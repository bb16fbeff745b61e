/**
 * Words for device-field values that may go into logs and the event log.
 *
 * A conflict record keeps the losing value for an operator to read, but credentials, the PIN
 * hash and the photo are secrets (a card's data opens the door; a PIN hash of a ≤ 16-byte PIN
 * can be brute-forced). So those are described by what they are, never by what they contain:
 * "2 cards", "PIN set", "photo 1234 bytes". Names, dates, modes, levels, access groups and job
 * codes are not secret and are shown as they are.
 */
import { AuthModeProhibited, AuthModeUndefined, type User } from '../model/user.js';
import { AUTH_MODE_KEYS, countKeys, projectionKeys, presentBinary, type CredentialField, type DeviceField } from './equality.js';

const CREDENTIAL_NOUN: Record<CredentialField, [one: string, many: string]> = {
  cards: ['card', 'cards'],
  fingers: ['finger', 'fingers'],
  faces: ['face', 'faces'],
};

/** Unix seconds as the devices can hold them (uint32). */
const MAX_DEVICE_TIME = 0xffffffff;

/** A safe description of `field` of `user`. Credentials are described by count only. */
export function describeField(field: DeviceField, user: User): string {
  switch (field) {
    case 'name':
      return user.name === '' ? 'no name' : user.name;
    case 'disabled':
      return user.disabled ? 'disabled' : 'enabled';
    case 'startTime':
    case 'endTime':
      return describeTime(user[field]);
    case 'auth':
      return describeAuthModes(user);
    case 'securityLevel':
      return user.securityLevel === 0 ? 'device default' : `level ${user.securityLevel}`;
    case 'cards':
    case 'fingers':
    case 'faces':
      return countOf(field, user[field].length);
    case 'accessGroups':
      return user.accessGroups.length === 0 ? 'no access groups' : `access groups ${[...user.accessGroups].sort((a, b) => a - b).join(', ')}`;
    case 'jobCodes':
      return user.jobCodes.length === 0 ? 'no job codes' : `job codes ${user.jobCodes.map((jobCode) => jobCode.code).join(', ')}`;
    case 'pinHash':
      return presentBinary(user.pinHash) === undefined ? 'no PIN' : 'PIN set';
    case 'photo': {
      const photo = presentBinary(user.photo);
      return photo === undefined ? 'no photo' : `photo ${decodedBytes(photo)} bytes`;
    }
  }
}

/**
 * A safe description of a credential list measured against the other side's list:
 * "3 cards, 1 not on the device". `limit`, when given, says that items were left out because
 * the user already had as many as a device holds.
 */
export function describeCredentials(
  field: CredentialField,
  mine: User,
  theirs: User,
  theirSide: 'server' | 'device',
  limit?: { max: number; leftOut: number },
): string {
  const missing = missingCount(projectionKeys(field, mine), projectionKeys(field, theirs));
  let text = countOf(field, mine[field].length);
  if (missing > 0) text += `, ${missing} not on the ${theirSide}`;
  if (limit !== undefined && limit.leftOut > 0) text += ` (limit of ${countOf(field, limit.max)} reached)`;
  return text;
}

function countOf(field: CredentialField, count: number): string {
  const [one, many] = CREDENTIAL_NOUN[field];
  if (count === 0) return `no ${many}`;
  return `${count} ${count === 1 ? one : many}`;
}

/** How many of `mine` have no counterpart in `theirs`, counting repeats. */
function missingCount(mine: readonly string[], theirs: readonly string[]): number {
  const available = countKeys(theirs);
  let missing = 0;
  for (const key of mine) {
    const left = available.get(key) ?? 0;
    if (left === 0) missing += 1;
    else available.set(key, left - 1);
  }
  return missing;
}

function describeTime(seconds: number): string {
  if (seconds === 0) return 'no limit';
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_DEVICE_TIME) return String(seconds);
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function describeAuthModes(user: User): string {
  const set = AUTH_MODE_KEYS.filter((mode) => user.auth[mode] !== AuthModeUndefined).map((mode) => {
    const value = user.auth[mode];
    return `${mode} ${value === AuthModeProhibited ? 'prohibited' : value}`;
  });
  return set.length === 0 ? "device's modes" : set.join(', ');
}

/** Decoded size of a base64 string, without decoding it. */
function decodedBytes(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}
