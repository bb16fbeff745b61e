/**
 * The spool folder and the moves between its parts (README.md, "Spool layout"):
 *
 *   incoming/             watched; files are dropped here
 *   processing/           the file being imported, and the journals of imports under way
 *   done/YYYY-MM-DD/      imported files with NAME.report.json (and NAME.errors.csv)
 *   failed/               refused files with NAME.report.json (and NAME.errors.csv)
 *   outgoing/             exports, written under a hidden temporary name, then renamed
 *
 * Everything is under one directory, so every move is a rename on one file system: a file
 * is in one place or the other, never half in both.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { numberedName } from './names.js';

export const SPOOL_FOLDERS = ['incoming', 'processing', 'done', 'failed', 'outgoing'] as const;

/** Files of the host's own under processing/: journals and files being written. */
const JOURNAL = /^\.([0-9a-f]{64})\.rejects\.jsonl$/;
const TEMPORARY = /^\.tmp-[0-9a-f]+-/;

export class Spool {
  readonly root: string;
  readonly incoming: string;
  readonly processing: string;
  readonly done: string;
  readonly failed: string;
  readonly outgoing: string;

  constructor(root: string) {
    this.root = root;
    this.incoming = join(root, 'incoming');
    this.processing = join(root, 'processing');
    this.done = join(root, 'done');
    this.failed = join(root, 'failed');
    this.outgoing = join(root, 'outgoing');
  }

  /** Creates the folders that are missing (mode 0750); existing ones keep their mode. */
  async create(): Promise<void> {
    for (const folder of SPOOL_FOLDERS) await mkdir(join(this.root, folder), { recursive: true, mode: 0o750 });
  }

  journalPath(hash: string): string {
    return join(this.processing, `.${hash}.rejects.jsonl`);
  }

  /** A fresh hidden path in processing/ for a file that is written, then renamed into place. */
  temporaryPath(label: string): string {
    return join(this.processing, `.tmp-${randomBytes(6).toString('hex')}-${label.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  }

  /** What processing/ holds: files being imported, journals by content hash, leftovers. */
  async processingEntries(): Promise<{ files: string[]; journals: string[]; temporary: string[] }> {
    const entries = await readdir(this.processing, { withFileTypes: true });
    const out = { files: [] as string[], journals: [] as string[], temporary: [] as string[] };
    for (const entry of entries) {
      // Anything else under a visible name (a link, a FIFO) was moved here from incoming/
      // before it could be refused: it is taken again, and refused unread.
      if (!entry.isFile()) {
        if (!entry.name.startsWith('.')) out.files.push(entry.name);
        continue;
      }
      const journal = JOURNAL.exec(entry.name);
      if (journal) out.journals.push(journal[1]!);
      else if (TEMPORARY.test(entry.name)) out.temporary.push(entry.name);
      else if (!entry.name.startsWith('.')) out.files.push(entry.name);
    }
    out.files.sort();
    return out;
  }

  async removeTemporary(names: readonly string[]): Promise<void> {
    for (const name of names) await rm(join(this.processing, name), { force: true });
  }
}

/** Whether `path` names anything, a link included (a dangling one too: the link itself is there). */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** `name` or the first of `STEM_2.EXT`, `STEM_3.EXT`, … that is free in `dir` and not in `taken`. */
export async function freeName(dir: string, name: string, taken?: (candidate: string) => boolean): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const candidate = numberedName(name, attempt);
    if (taken?.(candidate)) continue;
    if (!(await exists(join(dir, candidate)))) return candidate;
  }
}

/** Writes `data` to `temporary`, flushes it to disk, then renames it to `path`. */
export async function writeFileAtomic(temporary: string, path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(temporary, data, { mode: 0o640, flag: 'wx' });
    await syncFile(temporary);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a directory, so a rename in it survives a power loss. Not every file system allows it. */
export async function syncDirectory(path: string): Promise<void> {
  await syncFile(path).catch(() => undefined);
}

