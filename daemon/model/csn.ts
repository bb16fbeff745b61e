/**
 * The `csn` column ⇄ a CSN card's data.
 *
 * BioStar writes a CSN as a decimal number, 1 … 2^80−1, without leading zeros and never
 * all zeros (spec §1.1). rollcall stores it as the big-endian bytes of that number,
 * left-padded with zeros to the 32 bytes of a G-SDK card record, in base64 (the simulator
 * uses the same convention).
 */

export const CSN_MAX = (1n << 80n) - 1n;
const CARD_DATA_BYTES = 32;

export type CsnRead = { ok: true; data: string } | { ok: false; reason: string };

/** A csn cell (trimmed) → card data. */
export function readCsn(text: string): CsnRead {
  if (!/^\d+$/.test(text)) {
    // Spreadsheets turn long numbers into "1.23457E+11" and some into dates ("2-Feb").
    return { ok: false, reason: `"${text}" is not a decimal card number (a spreadsheet may have reformatted it)` };
  }
  if (/^0+$/.test(text)) return { ok: false, reason: 'a card number cannot be zero' };
  if (text.startsWith('0')) return { ok: false, reason: `"${text}" has a leading zero, which BioStar does not accept` };
  const value = BigInt(text);
  if (value > CSN_MAX) return { ok: false, reason: `"${text}" is larger than 2^80−1, the largest CSN` };
  return { ok: true, data: csnToCardData(value) };
}

export function csnToCardData(value: bigint): string {
  const bytes = Buffer.alloc(CARD_DATA_BYTES);
  let rest = value;
  for (let i = CARD_DATA_BYTES - 1; i >= 0 && rest > 0n; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes.toString('base64');
}

/** Card data (any length, big-endian) → its number; undefined when it is 0 or longer than a CSN. */
export function cardDataToCsn(data: string): bigint | undefined {
  let value = 0n;
  for (const byte of Buffer.from(data, 'base64')) value = (value << 8n) | BigInt(byte);
  if (value === 0n || value > CSN_MAX) return undefined;
  return value;
}
