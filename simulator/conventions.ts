import { Type as CardType, type CSNCardData } from '../proto/gen/gsdk/card.js';
import type { FingerData } from '../proto/gen/gsdk/finger.js';
import { TemplateFormat } from '../proto/gen/gsdk/finger.js';
import { CARD_DATA_MAX_BYTES, FINGER_TEMPLATE_MAX_BYTES } from './rules.js';

/**
 * Conventions shared by the simulator, its CLI and rollcall's importers (simulator/README.md).
 */

/**
 * A card given as a CSN in decimal: card.Type CSN, data = the number as big-endian bytes
 * left-padded with zeros to 32 bytes, size 32. Throws on anything but 1..2^256-1.
 */
export function csnCardFromDecimal(csn: string): CSNCardData {
  if (!/^[0-9]+$/.test(csn)) throw new Error(`CSN must be a decimal number, got ${JSON.stringify(csn)}`);
  let value = BigInt(csn);
  if (value === 0n) throw new Error('CSN 0 is not a card');
  const data = Buffer.alloc(CARD_DATA_MAX_BYTES);
  for (let i = CARD_DATA_MAX_BYTES - 1; i >= 0 && value > 0n; i -= 1) {
    data[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  if (value > 0n) throw new Error(`CSN ${csn} does not fit in ${CARD_DATA_MAX_BYTES} bytes`);
  return { type: CardType.CSN, size: CARD_DATA_MAX_BYTES, data };
}

/** The decimal CSN of a card written with csnCardFromDecimal. */
export function decimalOfCsnCard(card: CSNCardData): string {
  let value = 0n;
  for (const byte of card.data) value = (value << 8n) | BigInt(byte);
  return value.toString(10);
}

/**
 * A synthetic fingerprint template in the simulator's convention: the first byte tags the
 * format (0 SUPREMA, 1 ISO, 2 ANSI), the rest is filler derived from `seed`.
 */
export function simulatedTemplate(format: TemplateFormat, seed: number, size = FINGER_TEMPLATE_MAX_BYTES): Buffer {
  const template = Buffer.alloc(Math.max(1, Math.min(size, FINGER_TEMPLATE_MAX_BYTES)));
  template[0] = format;
  for (let i = 1; i < template.length; i += 1) template[i] = (seed * 31 + i * 7) & 0xff;
  return template;
}

/** A finger with the two templates a device needs, tagged with `format`. */
export function simulatedFinger(format: TemplateFormat, index: number): FingerData {
  return {
    index,
    flag: 0,
    templates: [simulatedTemplate(format, index * 2), simulatedTemplate(format, index * 2 + 1)],
  };
}

export { TemplateFormat };

/**
 * The gRPC metadata key under which rollcall names its instance (cluster.instanceId) on every
 * gateway call. A real gateway ignores it; the simulator records it per device
 * (caller-log.ts), so that a test can tell which of several instances called a device.
 */
export const CALLER_METADATA_KEY = 'x-rollcall-instance';
