/**
 * A content hash of what a device holds for a user, for the deep reconcile: the hash of
 * the site's record is compared with the hash of the user read back from a device, so two
 * users hash equal exactly when a device would hold the same data for both.
 */
import { hash } from 'node:crypto';
import type { User } from './user.js';

/** Bumped whenever the projection below changes, so old and new hashes never match. */
const PROJECTION_VERSION = 1;

/** Base64 re-encoded from its bytes, so padding or line-break variants compare equal. */
function canonicalBytes(base64: string | undefined): string {
  return base64 ? Buffer.from(base64, 'base64').toString('base64') : '';
}

/**
 * sha256 (hex) of the device projection of `user`. Fields are listed in a fixed order, so
 * the hash does not depend on the order of keys in the record. Left out on purpose:
 * server-only fields (a device never holds them) and finger/face `index` (devices ignore
 * it and need not return it). Access groups are a set and are sorted; credentials keep
 * their order, which the device keeps.
 */
export function deviceProjectionHash(user: User): string {
  const auth = user.auth;
  const projection = [
    PROJECTION_VERSION,
    user.id,
    user.name,
    user.disabled,
    user.startTime,
    user.endTime,
    [auth.biometric, auth.card, auth.id, auth.faceExt, auth.fingerExt, auth.cardExt, auth.idExt],
    user.securityLevel,
    user.cards.map((card) => [card.type, canonicalBytes(card.data)]),
    user.fingers.map((finger) => [finger.flag, finger.templates.map(canonicalBytes)]),
    user.faces.map((face) => [
      face.flag,
      face.templates.map(canonicalBytes),
      canonicalBytes(face.imageData),
      (face.irTemplates ?? []).map(canonicalBytes),
      canonicalBytes(face.irImageData),
    ]),
    [...user.accessGroups].sort((a, b) => a - b),
    user.jobCodes.map((job) => [job.code, job.label]),
    canonicalBytes(user.pinHash),
    canonicalBytes(user.photo),
  ];
  // One-shot: a check hashes every user of the site, and a Hash object per user costs more than the digest.
  return hash('sha256', JSON.stringify(projection), 'hex');
}
