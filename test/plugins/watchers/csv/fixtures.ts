/**
 * The CSV fixtures are UTF-8 text with LF line ends, kept readable in test/fixtures/csv/;
 * the encoding and line-end variants are made from them here, byte for byte.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';

// dist/test/plugins/watchers/csv/ → repository root
const FIXTURES = fileURLToPath(new URL('../../../../../test/fixtures/csv/', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

export interface Variant {
  label: string;
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be';
  bom: boolean;
  eol: '\n' | '\r\n';
}

export const VARIANTS: readonly Variant[] = (['\n', '\r\n'] as const).flatMap((eol) => [
  { label: `UTF-8 ${eol === '\n' ? 'LF' : 'CRLF'}`, encoding: 'utf-8' as const, bom: false, eol },
  { label: `UTF-8 BOM ${eol === '\n' ? 'LF' : 'CRLF'}`, encoding: 'utf-8' as const, bom: true, eol },
  { label: `UTF-16LE BOM ${eol === '\n' ? 'LF' : 'CRLF'}`, encoding: 'utf-16le' as const, bom: true, eol },
  { label: `UTF-16BE BOM ${eol === '\n' ? 'LF' : 'CRLF'}`, encoding: 'utf-16be' as const, bom: true, eol },
]);

/** The bytes of a text in a variant (the text's own LFs become the variant's line ends). */
export function encodeVariant(text: string, variant: Variant): Buffer {
  const body = variant.eol === '\n' ? text : text.replace(/\n/g, '\r\n');
  if (variant.encoding === 'utf-8') {
    return Buffer.concat([variant.bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(body, 'utf8')]);
  }
  const le = Buffer.from(body, 'utf16le');
  if (variant.encoding === 'utf-16le') return Buffer.concat([Buffer.from([0xff, 0xfe]), le]);
  const be = Buffer.from(le).swap16();
  return Buffer.concat([Buffer.from([0xfe, 0xff]), be]);
}

/** A byte source cut into pieces of `size` bytes, to cross every chunk boundary the code has. */
export function chunked(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return Readable.from(pieces, { objectMode: true });
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** fast-check runs: modest by default; the reliability suite sets FAST_CHECK_RUNS=10000. */
export function propertyRuns(fallback = 150): number {
  const runs = Number(process.env['FAST_CHECK_RUNS']);
  return Number.isInteger(runs) && runs > 0 ? runs : fallback;
}
