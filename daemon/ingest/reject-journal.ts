/**
 * The rejection journal of one import: the rows that failed, on disk in processing/ as
 * they happen (memory does not grow with them), from which the error CSV is written when
 * the file is finished.
 *
 * Why a journal and not the CSV itself: a row rejected before a crash must appear in the
 * error CSV exactly once, yet the store's commit and a file cannot change atomically
 * together. So the ledger commits, with every checkpoint, how many rows failed so far
 * (counts.failed), and the journal is made durable before that commit. After a crash the
 * journal holds at least that many rows; the extra ones (written for a batch whose commit
 * never happened) are cut off on resume, and the reader hands those rows again. Cutting a
 * CSV at "the n-th record" needs a CSV parser (cells may hold line breaks); a journal of
 * one JSON object per line needs only a count of newlines.
 *
 * Lines: `{"header":[…]}` once (the file's header, for the error CSV's columns), then one
 * `{"row":N,"raw":[…],"reason":"…"}` per rejected row. Raw cells never hold a PIN: the
 * watchers blank PIN cells before a row reaches the host.
 */
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { IngestRejection } from '../plugins/api.js';

export type JournalLine = { header: string[] } | IngestRejection;

export interface JournalContent {
  header: string[] | undefined;
  /** Rejections kept (at most the number asked for). */
  rejections: number;
}

export class RejectJournal {
  readonly path: string;
  #handle: FileHandle | undefined;
  #size = 0;
  #hasHeader = false;
  #unsynced = false;
  /** Writes run one after another; reject() cannot wait, so its writes queue here. */
  #chain: Promise<void> = Promise.resolve();
  /**
   * The first write that failed (a full disk): kept for flush() to throw, since nobody
   * awaits a queued write itself, and an unhandled rejection would end the daemon.
   */
  #failure: unknown;

  constructor(path: string) {
    this.path = path;
  }

  /** Creates the journal empty, replacing any left from an earlier import of the same content. */
  async create(): Promise<void> {
    this.#handle = await open(this.path, 'w', 0o640);
    this.#size = 0;
    this.#hasHeader = false;
    await this.#handle.sync();
  }

  /**
   * Opens the journal of an interrupted import, keeping its header and its first `keep`
   * rejections and cutting off the rest (rows of a batch whose commit never happened,
   * or half a line). A missing journal is created. Returns what was kept.
   */
  async resume(keep: number): Promise<JournalContent> {
    const content = await scanJournal(this.path, keep);
    if (content === undefined) {
      await this.create();
      return { header: undefined, rejections: 0 };
    }
    this.#handle = await open(this.path, 'r+');
    await this.#handle.truncate(content.bytes);
    await this.#handle.sync();
    this.#size = content.bytes;
    this.#hasHeader = content.header !== undefined;
    return { header: content.header, rejections: content.rejections };
  }

  /** Records the file's header once; a resumed import sets it again and that is ignored. */
  header(header: string[]): void {
    if (this.#hasHeader) return;
    this.#hasHeader = true;
    this.#write([{ header }]);
  }

  /** Queues the rejections; the promise resolves once they are written (a write error shows at flush()). */
  append(rejections: readonly IngestRejection[]): Promise<void> {
    if (rejections.length === 0) return Promise.resolve();
    this.#write(rejections.map(({ row, raw, reason }) => ({ row, raw, reason })));
    return this.#chain;
  }

  /** Resolves once everything appended is on disk (fsync); rejects with a write error. */
  async flush(): Promise<void> {
    await this.#chain;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#unsynced && this.#handle) {
      this.#unsynced = false;
      await this.#handle.sync();
    }
  }

  async close(): Promise<void> {
    await this.#chain.catch(() => undefined);
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  async remove(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }

  #write(lines: JournalLine[]): void {
    const handle = this.#handle;
    if (!handle) throw new Error('the rejection journal is not open');
    const bytes = Buffer.from(lines.map((line) => `${JSON.stringify(line)}\n`).join(''), 'utf8');
    const at = this.#size;
    this.#size += bytes.length;
    this.#unsynced = true;
    // Positional writes: the order is fixed when queued, whatever the scheduler does.
    this.#chain = this.#chain
      .then(async () => {
        if (this.#failure === undefined) await handle.write(bytes, 0, bytes.length, at);
      })
      .catch((error: unknown) => {
        this.#failure ??= error;
      });
  }
}

/**
 * Every complete line of a journal, parsed (undefined when damaged), with the byte offset
 * after it. Bytes after the last newline are half a line, written when the process died,
 * and are not yielded. Throws ENOENT when there is no journal.
 */
export async function* journalLines(path: string): AsyncGenerator<{ line: JournalLine | undefined; end: number }> {
  let end = 0;
  let carry: Buffer[] = [];
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      const bytes = carry.length === 0 ? piece : Buffer.concat([...carry, piece]);
      carry = [];
      start = newline + 1;
      end += bytes.length + 1;
      yield { line: parseLine(bytes), end };
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
}

/**
 * Reads a journal: the header and the first `keep` rejections (each handed to
 * `onRejection`), and the bytes they take. Undefined when there is no journal.
 */
export async function scanJournal(
  path: string,
  keep: number,
  onRejection?: (rejection: IngestRejection) => void,
): Promise<(JournalContent & { bytes: number }) | undefined> {
  let header: string[] | undefined;
  let rejections = 0;
  let bytes = 0;
  try {
    for await (const { line, end } of journalLines(path)) {
      // A damaged line (a torn write when the power failed) ends what can be trusted.
      if (line === undefined) break;
      if ('header' in line) {
        header ??= line.header;
      } else {
        if (rejections === keep) break;
        rejections++;
        onRejection?.(line);
      }
      bytes = end;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return { header, rejections, bytes };
}

function parseLine(line: Buffer): JournalLine | undefined {
  try {
    const parsed = JSON.parse(line.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    if (Array.isArray((parsed as { header?: unknown }).header)) return parsed as JournalLine;
    const { row, raw, reason } = parsed as Partial<IngestRejection>;
    return typeof row === 'number' && Array.isArray(raw) && typeof reason === 'string' ? { row, raw, reason } : undefined;
  } catch {
    return undefined;
  }
}

/** Two row-sorted lists into one, row order kept (ties: the watcher's first). */
export function mergeByRow(a: IngestRejection[], b: IngestRejection[]): IngestRejection[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: IngestRejection[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.row <= b[j]!.row)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
