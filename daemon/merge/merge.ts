/**
 * Merging a user read back from a device into the server's user (ARCHITECTURE §5,
 * spec/biostar-domain.md §3.3). Pure: no I/O, no clock; the inputs are never modified and the
 * result shares no object with them.
 *
 * Only device fields are ever written (equality.ts DEVICE_FIELDS); server-only fields of the
 * server user are kept as they are, and any a device user happens to carry are ignored.
 *
 * Every device value that does not end up on the server, and every server value a device value
 * replaced, is returned as a Conflict so that the caller writes it to the event log: there are
 * no silent conflicts. Conflict values are descriptions safe to log (describe.ts).
 */
import { RollcallError } from '../errors.js';
import { DEFAULT_DEVICE_LIMITS, type DeviceLimits } from '../model/limits.js';
import { AuthModeUndefined, emptyUser, type User } from '../model/user.js';
import { describeCredentials, describeField } from './describe.js';
import {
  AUTH_MODE_KEYS,
  cardKey,
  countKeys,
  DEVICE_FIELDS,
  deviceFieldsDiffer,
  faceKey,
  fingerKey,
  isCredentialField,
  presentBinary,
  projectionKeys,
  type CredentialField,
  type DeviceField,
  type ListField,
} from './equality.js';

/**
 * - `fill-vacant` (default, BioStar's rule): a device only fills what the server has empty and
 *   adds credentials the server does not have.
 * - `device-wins`: the device's copy replaces every device field.
 * - `server-wins`: an existing user is never changed by a device.
 */
export type MergePolicy = 'fill-vacant' | 'device-wins' | 'server-wins';

export const MERGE_POLICIES: readonly MergePolicy[] = ['fill-vacant', 'device-wins', 'server-wins'];
export const DEFAULT_MERGE_POLICY: MergePolicy = 'fill-vacant';

/** How many credentials of each kind a user may have: new ones beyond these are not added. */
export type MergeLimits = Pick<DeviceLimits, 'maxCards' | 'maxFingers' | 'maxFaces'>;

export interface Conflict {
  field: DeviceField;
  /** Which side's value the merged user holds. */
  kept: 'server' | 'device';
  /** Description of the server's value, safe to log: never a secret. */
  serverValue: string;
  /** Description of the device's value, safe to log: never a secret. */
  deviceValue: string;
}

export interface MergeResult {
  /** The user to store (for 'unchanged', a copy of the server user). */
  user: User;
  /** Device fields whose value the merge changed, in DEVICE_FIELDS order. */
  changedFields: DeviceField[];
  conflicts: Conflict[];
  outcome: 'created' | 'updated' | 'unchanged';
}

/**
 * Merges `device`, a user as read from a device, into `server`, the stored user with the same
 * ID (undefined when the server has no such user: the device user is then taken whole under
 * every policy, since there is nothing on the server to keep).
 *
 * @throws RollcallError ROLLCALL_ERR_USER_INVALID when the two users have different IDs,
 *   ROLLCALL_ERR_CONFIG_INVALID for a policy that is not one of MERGE_POLICIES.
 */
export function mergeDeviceUser(
  server: User | undefined,
  device: User,
  policy: MergePolicy,
  limits?: Partial<MergeLimits>,
): MergeResult {
  if (!MERGE_POLICIES.includes(policy)) {
    // Config validation should have caught it; refuse rather than guess a policy.
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `unknown merge policy ${JSON.stringify(policy)}`, {
      detail: { policy, known: MERGE_POLICIES },
    });
  }
  if (server !== undefined && server.id !== device.id) {
    throw new RollcallError('ROLLCALL_ERR_USER_INVALID', `cannot merge device user ${device.id} into server user ${server.id}`, {
      detail: { serverUserId: server.id, deviceUserId: device.id },
    });
  }
  // Private copies: whatever the result holds belongs to it alone.
  const fromDevice = structuredClone(device);
  if (server === undefined) return takeWhole(fromDevice);
  const current = structuredClone(server);
  switch (policy) {
    case 'fill-vacant':
      return fillVacant(current, fromDevice, resolveMergeLimits(limits));
    case 'device-wins':
      return deviceWins(current, fromDevice);
    case 'server-wins':
      return serverWins(current, fromDevice);
  }
}

/** The default limits with `overrides` laid over them; undefined overrides are ignored. */
export function resolveMergeLimits(overrides?: Partial<MergeLimits>): MergeLimits {
  return {
    maxCards: overrides?.maxCards ?? DEFAULT_DEVICE_LIMITS.maxCards,
    maxFingers: overrides?.maxFingers ?? DEFAULT_DEVICE_LIMITS.maxFingers,
    maxFaces: overrides?.maxFaces ?? DEFAULT_DEVICE_LIMITS.maxFaces,
  };
}

function takeWhole(device: User): MergeResult {
  const blank = emptyUser(device.id);
  const user = emptyUser(device.id);
  for (const field of DEVICE_FIELDS) takeField(field, device, user);
  return { user, changedFields: deviceFieldsDiffer(blank, user), conflicts: [], outcome: 'created' };
}

function serverWins(server: User, device: User): MergeResult {
  const conflicts = deviceFieldsDiffer(server, device).map((field) => conflict(field, 'server', server, device));
  return { user: server, changedFields: [], conflicts, outcome: 'unchanged' };
}

function deviceWins(server: User, device: User): MergeResult {
  const user = workingCopy(server);
  const differing = deviceFieldsDiffer(server, device);
  for (const field of differing) {
    if (isListField(field)) replaceList(field, device, user);
    else takeField(field, device, user);
  }
  return {
    user,
    changedFields: differing,
    conflicts: differing.map((field) => conflict(field, 'device', server, device)),
    outcome: differing.length > 0 ? 'updated' : 'unchanged',
  };
}

/**
 * BioStar's rule: values of an existing user win, a device only fills what is empty, and new
 * credentials are added. Vacant means: name '', startTime/endTime 0 (no limit), an auth mode at
 * 255 (use the device's), securityLevel 0 (device default), no PIN, no photo, an empty list.
 *
 * Two fields are deliberately never filled on an existing user:
 * - `disabled`: a boolean has no vacant state, and whether a user may enter is the server's call.
 * - access groups and job codes are taken only when the server's list is empty, never unioned:
 *   access groups are an authorisation decision of the server, and a device must not widen it.
 */
function fillVacant(server: User, device: User, limits: MergeLimits): MergeResult {
  const user = workingCopy(server);
  if (user.name === '') user.name = device.name;
  if (user.startTime === 0) user.startTime = device.startTime;
  if (user.endTime === 0) user.endTime = device.endTime;
  if (user.securityLevel === 0) user.securityLevel = device.securityLevel;
  for (const mode of AUTH_MODE_KEYS) {
    if (user.auth[mode] === AuthModeUndefined) user.auth[mode] = device.auth[mode];
  }
  if (user.accessGroups.length === 0) user.accessGroups = device.accessGroups;
  if (user.jobCodes.length === 0) user.jobCodes = device.jobCodes;
  if (presentBinary(user.pinHash) === undefined) takeField('pinHash', device, user);
  if (presentBinary(user.photo) === undefined) takeField('photo', device, user);

  const cards = addNewCredentials(user.cards, device.cards, cardKey, limits.maxCards);
  const fingers = addNewCredentials(user.fingers, device.fingers, fingerKey, limits.maxFingers);
  const faces = addNewCredentials(user.faces, device.faces, faceKey, limits.maxFaces);
  user.cards = cards.items;
  user.fingers = fingers.items;
  user.faces = faces.items;
  const leftOut: Record<CredentialField, { max: number; leftOut: number }> = {
    cards: { max: limits.maxCards, leftOut: cards.leftOut },
    fingers: { max: limits.maxFingers, leftOut: fingers.leftOut },
    faces: { max: limits.maxFaces, leftOut: faces.leftOut },
  };

  const changedFields = deviceFieldsDiffer(server, user);
  // Whatever still differs from the device is a device value the server did not take.
  const conflicts = deviceFieldsDiffer(user, device).map((field) =>
    conflict(field, 'server', user, device, isCredentialField(field) ? leftOut[field] : undefined),
  );
  return { user, changedFields, conflicts, outcome: changedFields.length > 0 ? 'updated' : 'unchanged' };
}

/**
 * The server's credentials, then the device's whose content the server does not have, in the
 * device's order, while the user has fewer than `max`. Items already over the limit on the
 * server are kept: removing credentials is not a merge's business.
 */
function addNewCredentials<T>(server: T[], device: T[], identity: (item: T) => string, max: number): { items: T[]; leftOut: number } {
  const items = [...server];
  const known = new Set(server.map(identity));
  let leftOut = 0;
  for (const item of device) {
    const key = identity(item);
    if (known.has(key)) continue;
    known.add(key);
    if (items.length >= max) leftOut += 1;
    else items.push(item);
  }
  return { items, leftOut };
}

/**
 * A copy of the (already private) server user that can be changed while `server` keeps
 * describing the server's old values: fields are replaced, never changed in place, except the
 * auth modes, which are filled one by one.
 */
function workingCopy(server: User): User {
  return { ...server, auth: { ...server.auth } };
}

function isListField(field: DeviceField): field is ListField {
  return isCredentialField(field) || field === 'accessGroups' || field === 'jobCodes';
}

/**
 * Makes `user`'s list hold exactly the device's items, keeping the server's order (and the
 * server's copy, with its application-only index) for items both have, then the device's other
 * items in the device's order.
 */
function replaceList(field: ListField, device: User, user: User): void {
  const serverKeys = projectionKeys(field, user);
  const deviceKeys = projectionKeys(field, device);
  const wanted = countKeys(deviceKeys);
  const keptIndexes: number[] = [];
  serverKeys.forEach((key, index) => {
    const left = wanted.get(key) ?? 0;
    if (left > 0) {
      wanted.set(key, left - 1);
      keptIndexes.push(index);
    }
  });
  // `wanted` now counts the device items no kept server item stands for.
  const addedIndexes: number[] = [];
  deviceKeys.forEach((key, index) => {
    const left = wanted.get(key) ?? 0;
    if (left > 0) {
      wanted.set(key, left - 1);
      addedIndexes.push(index);
    }
  });
  pickList(field, user, keptIndexes, device, addedIndexes);
}

function pickList(field: ListField, user: User, kept: number[], device: User, added: number[]): void {
  const pick = <T>(own: T[], theirs: T[]): T[] => [...kept.map((i) => own[i] as T), ...added.map((i) => theirs[i] as T)];
  switch (field) {
    case 'cards':
      user.cards = pick(user.cards, device.cards);
      return;
    case 'fingers':
      user.fingers = pick(user.fingers, device.fingers);
      return;
    case 'faces':
      user.faces = pick(user.faces, device.faces);
      return;
    case 'accessGroups':
      user.accessGroups = pick(user.accessGroups, device.accessGroups);
      return;
    case 'jobCodes':
      user.jobCodes = pick(user.jobCodes, device.jobCodes);
      return;
  }
}

/** Sets `to[field]` to the device's value; an empty PIN hash or photo becomes an absent one. */
function takeField(field: DeviceField, from: User, to: User): void {
  switch (field) {
    case 'pinHash':
    case 'photo': {
      const value = presentBinary(from[field]);
      if (value === undefined) delete to[field];
      else to[field] = value;
      // A PIN hash travels with its provenance (daemon/model/pin-provenance.ts).
      if (field === 'pinHash') {
        if (value !== undefined && from.pinHashScheme !== undefined) to.pinHashScheme = from.pinHashScheme;
        else delete to.pinHashScheme;
      }
      return;
    }
    case 'disabled':
      to.disabled = Boolean(from.disabled);
      return;
    default:
      assign(to, from, field);
  }
}

function assign<K extends keyof User>(to: User, from: User, key: K): void {
  to[key] = from[key];
}

/** The conflict record for `field`, describing `server` and `device` as they stand. */
function conflict(
  field: DeviceField,
  kept: Conflict['kept'],
  server: User,
  device: User,
  limit?: { max: number; leftOut: number },
): Conflict {
  if (isCredentialField(field)) {
    return {
      field,
      kept,
      serverValue: describeCredentials(field, server, device, 'device'),
      deviceValue: describeCredentials(field, device, server, 'server', limit),
    };
  }
  return { field, kept, serverValue: describeField(field, server), deviceValue: describeField(field, device) };
}
