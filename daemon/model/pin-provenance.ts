/**
 * Where a stored PIN hash came from (issue 13 item 8). A PIN hash is only useful to a device
 * whose gateway hashes PINs the same way: the embedded simulator's stand-in hash never
 * matches a real gateway's, and the real algorithm is not public, so rollcall cannot convert
 * one into the other. It can only know which gateway made a hash, keep such a hash off
 * devices that would not match it, and rehash when the plaintext is offered again.
 *
 * A gateway's hash scheme is named by a short id derived from its hash of a fixed probe PIN
 * (`pinHashSchemeId`): two gateways that hash alike share an id, the simulator (or any other
 * stand-in) gets its own. The id is not secret: the probe is public.
 *
 * Provenance of `User.pinHashScheme`:
 * - a hash made from a plaintext PIN (CSV, data file, admin `users add/edit`): the scheme of
 *   the gateway that made it;
 * - a hash read back from a device through the gateway: that gateway's scheme (the device
 *   holds it and matches it, so devices of that gateway do);
 * - a hash that arrives with no provenance (a data file from BioStar, a user stored before
 *   this field existed): no scheme, read as "unknown". An unknown hash is still sent, as
 *   before: it is the only hash there is, and a BioStar data file carries real device hashes.
 *   It is never counted as foreign, since nothing says it is.
 */
import { createHash } from 'node:crypto';
import type { User } from './user.js';

/** The PIN every gateway is asked to hash to tell its scheme. Public and fixed: never a user's PIN. */
export const PIN_HASH_PROBE = 'rollcall-probe-1';

/** The scheme id of a gateway whose probe hash (its GetPINHash of PIN_HASH_PROBE) is `probeHash`. */
export function pinHashSchemeId(probeHash: Uint8Array): string {
  return createHash('sha256').update(probeHash).digest('hex').slice(0, 16);
}

function hasPinHash(user: Pick<User, 'pinHash'>): boolean {
  return typeof user.pinHash === 'string' && user.pinHash !== '';
}

/**
 * Whether the user's PIN hash was made by a gateway of another scheme than `scheme` (the
 * current gateway's): such a hash would not match on this gateway's devices. A user without
 * a hash, or whose hash has no recorded scheme, is not foreign. Without a known current
 * scheme (gateway not reached yet) nothing is foreign.
 */
export function pinHashIsForeign(user: Pick<User, 'pinHash' | 'pinHashScheme'>, scheme: string | undefined): boolean {
  if (scheme === undefined || !hasPinHash(user)) return false;
  return user.pinHashScheme !== undefined && user.pinHashScheme !== scheme;
}

/** Whether the user's PIN hash may be sent to a device behind a gateway of `scheme`. */
export function pinHashFits(user: Pick<User, 'pinHash' | 'pinHashScheme'>, scheme: string | undefined): boolean {
  return !pinHashIsForeign(user, scheme);
}

/**
 * The user as a device of `scheme` may receive it: the same object when its PIN hash fits,
 * otherwise a shallow copy without `pinHash` (the device keeps no PIN rather than one that
 * never matches). `pinHashScheme` is server-side bookkeeping and never reaches a device.
 */
export function withFittingPinHash<T extends Pick<User, 'pinHash' | 'pinHashScheme'>>(user: T, scheme: string | undefined): T {
  if (pinHashFits(user, scheme)) return user;
  const copy = { ...user };
  delete copy.pinHash;
  return copy;
}

/** The PIN fields an import or edit sets when a plaintext PIN was hashed by a gateway of `scheme`. */
export interface HashedPin {
  /** The 32-byte hash, base64 (User.pinHash). */
  hash: string;
  /** The scheme id of the gateway that made it (User.pinHashScheme); absent when it could not be told. */
  scheme?: string;
}
