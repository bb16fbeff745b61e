/** The ledger key of a file: sha256 of its bytes, streamed, so the size of a file does not matter. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

export async function contentHash(path: string, signal?: AbortSignal): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    createReadStream(path),
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
