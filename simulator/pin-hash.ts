import { createHash, createHmac } from 'node:crypto';
import { invalidArgument } from './sim-error.js';

/**
 * SIMULATOR STAND-IN for the gateway's GetPINHash. The real gateway computes the 32-byte
 * value with the device SDK's BS2_MakePinCode, whose algorithm is not published; these
 * values will NOT match a real device's. Clients must always ask the gateway for hashes and
 * never compute them.
 *
 * GetPINHash: SHA-256 of the UTF-8 PIN. GetPINHashWithKey: HMAC-SHA-256 keyed with hashKey.
 */

export const PIN_MAX_BYTES = 16;

function checkPin(pin: string): void {
  const bytes = Buffer.byteLength(pin, 'utf8');
  if (bytes === 0) throw invalidArgument('PIN is empty');
  if (bytes > PIN_MAX_BYTES) throw invalidArgument(`PIN is longer than ${PIN_MAX_BYTES} bytes`);
}

export function standInPinHash(pin: string): Buffer {
  checkPin(pin);
  return createHash('sha256').update(pin, 'utf8').digest();
}

export function standInPinHashWithKey(pin: string, hashKey: Uint8Array): Buffer {
  checkPin(pin);
  if (hashKey.length === 0) throw invalidArgument('hashKey is empty');
  return createHmac('sha256', hashKey).update(pin, 'utf8').digest();
}
