/**
 * Looking for planted secrets: every file under a directory read as bytes and searched for
 * each needle (raw UTF-8 and base64 forms), with the figures the suite prints.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { listFiles } from '../helpers/ingest-spool.js';

export interface ScanResult {
  files: number;
  bytes: number;
  /** `file: needle` for every hit. */
  hits: string[];
}

/**
 * The forms a byte string can take in text: raw, and base64 at each of the three alignments
 * it can start at inside a longer base64 string (the first and last characters of an aligned
 * window depend on the neighbouring bytes, so they are cut off).
 */
export function needlesOf(label: string, bytes: Buffer): { label: string; needle: Buffer }[] {
  const out = [{ label: `${label} (raw)`, needle: bytes }];
  for (let offset = 0; offset < 3; offset++) {
    const window = bytes.subarray(offset, offset + Math.floor((bytes.length - offset) / 3) * 3);
    const text = window.toString('base64');
    if (text.length >= 12) out.push({ label: `${label} (base64+${offset})`, needle: Buffer.from(text.slice(4, -4)) });
  }
  return out;
}

export function searchText(name: string, text: Buffer, needles: readonly { label: string; needle: Buffer }[], result: ScanResult): void {
  result.files++;
  result.bytes += text.length;
  for (const { label, needle } of needles) if (text.includes(needle)) result.hits.push(`${name}: ${label}`);
}

export async function scanDir(root: string, needles: readonly { label: string; needle: Buffer }[], result: ScanResult = { files: 0, bytes: 0, hits: [] }, skip: (relative: string) => boolean = () => false): Promise<ScanResult> {
  for (const relative of await listFiles(root)) {
    if (skip(relative)) continue;
    const bytes = await readFile(join(root, relative));
    // A compressed archive hides what it holds: search what it unpacks to (tar is uncompressed).
    const text = /\.(tgz|gz)$/.test(relative) ? gunzipSync(bytes) : bytes;
    searchText(join(root, relative), text, needles, result);
  }
  return result;
}
