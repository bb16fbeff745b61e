/**
 * Every value the LevelDB store writes carries its own CRC-32: `~` + 8 hex digits + the
 * JSON text. LevelDB's own block checksums are not checked on reads (classic-level does
 * not expose `verify_checksums` or `paranoid_checks`), and a byte flipped inside a
 * compressed block's literal bytes decompresses without complaint: a changed name would
 * be served, and pushed to every device. A CRC-32 catches every one-byte change.
 *
 * Stores of format 1 were written before seals; their unsealed values are still read
 * (`legacy`), unchecked, until `rollcall store repair` seals them. Format 2 stores accept
 * sealed values only.
 */
import { crc32 } from 'node:zlib';

const mark = '~';
const digits = 8;

export class BrokenSealError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'BrokenSealError';
  }
}

export function seal(text: string): string {
  return mark + crc32(text).toString(16).padStart(digits, '0') + text;
}

export function isSealed(value: string): boolean {
  return value.startsWith(mark);
}

/** The text inside a sealed value; throws BrokenSealError when the checksum does not match. */
export function unseal(value: string, legacy: boolean): string {
  if (!isSealed(value)) {
    if (legacy) return value;
    throw new BrokenSealError('the value has no checksum');
  }
  const text = value.slice(1 + digits);
  const expected = value.slice(1, 1 + digits);
  if (crc32(text).toString(16).padStart(digits, '0') !== expected) throw new BrokenSealError('the checksum does not match the value');
  return text;
}

/** Whether unsealed (format 1) values are accepted; set once the store's format is read. */
export interface SealPolicy {
  legacy: boolean;
}

/** A value encoding for abstract-level: JSON, sealed. A broken seal is a decode error. */
export function sealedJson<V>(policy: SealPolicy): { name: string; format: 'utf8'; encode(value: V): string; decode(text: string): V } {
  return {
    name: 'rollcall-sealed-json',
    format: 'utf8',
    encode: (value) => seal(JSON.stringify(value)),
    decode: (text) => JSON.parse(unseal(text, policy.legacy)) as V,
  };
}
