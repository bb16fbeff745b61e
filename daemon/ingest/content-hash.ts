/** The ledger key of a file: sha256 of its bytes, streamed, so the size of a file does not matter. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/** Hashes a path, or an open file from its start (the handle stays open). */
export async function contentHash(source: string | FileHandle, signal?: AbortSignal): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    typeof source === 'string' ? createReadStream(source) : source.createReadStream({ start: 0, autoClose: false }),
    async function (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        size += chunk.length;
        hash.update(chunk);
      }
    },
    signal ? { signal } : {},
  );
  return { hash: hash.digest('hex'), size };
}
