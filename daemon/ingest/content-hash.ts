/**
 * The ledger key of a file: sha256 of its bytes, streamed, so the size of a file does not
 * matter. The same read feeds the watcher's scanner (its encoding check), so the bytes are
 * read once for both (README.md, "One read for the hash and the checks").
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { ContentScanner, IngestFile } from '../plugins/api.js';

/** Big reads: the hash and a native encoding check go at memory speed, the calls per chunk are what costs. */
const READ_CHUNK = 1024 * 1024;

export interface ContentHash {
  hash: string;
  size: number;
  /** The scanner's outcome, when one was given: its end() value, or what it threw. */
  scan?: NonNullable<IngestFile['scan']>;
}

/**
 * Hashes a path, or an open file from its start (the handle stays open), feeding every
 * chunk to `scanner` too. A scanner that throws is not an error of the read: the hash is
 * still made, and the throw is handed back in `scan` (the watcher refuses the file with it).
 */
export async function contentHash(source: string | FileHandle, signal?: AbortSignal, scanner?: ContentScanner): Promise<ContentHash> {
  const hash = createHash('sha256');
  let size = 0;
  let failed: { ok: false; error: unknown } | undefined;
  await pipeline(
    typeof source === 'string'
      ? createReadStream(source, { highWaterMark: READ_CHUNK })
      : source.createReadStream({ start: 0, autoClose: false, highWaterMark: READ_CHUNK }),
    async function (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        size += chunk.length;
        hash.update(chunk);
        if (scanner !== undefined && failed === undefined) {
          try {
            scanner.push(chunk);
          } catch (error) {
            failed = { ok: false, error };
          }
        }
      }
    },
    signal ? { signal } : {},
  );
  const result: ContentHash = { hash: hash.digest('hex'), size };
  if (scanner !== undefined) {
    if (failed !== undefined) result.scan = failed;
    else {
      try {
        result.scan = { ok: true, value: scanner.end() };
      } catch (error) {
        result.scan = { ok: false, error };
      }
    }
  }
  return result;
}
