import { createHash, createHmac } from 'node:crypto';
import { invalidArgument } from './sim-error.js';

/**
 * SIMULATOR STAND-IN for the gateway's GetPINHash. The real gateway computes the 32-byte
 * value with the device SDK's BS2_MakePinCode, whose algorithm is not published; these
 * values will NOT match a real device's. Clients must always ask the gateway for hashes and
 * never compute them.
 *
 * GetPINHash: SHA-256 of the UTF-8 PIN. GetPINHashWithKey: HMAC-SHA-256 keyed with hashKey.
 * A simulator started with a `pinHashSalt` hashes SHA-256 of salt, a NUL byte and the PIN
 * instead: another hash scheme, so tests can switch a daemon from one gateway's scheme to
 * another's (rollcall's PIN provenance, daemon/model/pin-provenance.ts). No salt: unchanged.
 */

export const PIN_MAX_BYTES = 16;

function checkPin(pin: string): void {
  const bytes = Buffer.byteLength(pin, 'utf8');
  if (bytes === 0) throw invalidArgument('PIN is empty');
  if (bytes > PIN_MAX_BYTES) throw invalidArgument(`PIN is longer than ${PIN_MAX_BYTES} bytes`);
}

export function standInPinHash(pin: string, salt?: string): Buffer {
  checkPin(pin);
  const hash = createHash('sha256');
  if (salt !== undefined && salt !== '') hash.update(salt, 'utf8').update('\0');
  return hash.update(pin, 'utf8').digest();
}

export function standInPinHashWithKey(pin: string, hashKey: Uint8Array): Buffer {
  checkPin(pin);
  if (hashKey.length === 0) throw invalidArgument('hashKey is empty');
  return createHmac('sha256', hashKey).update(pin, 'utf8').digest();
}
