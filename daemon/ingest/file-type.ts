/**
 * The drop folder takes regular files only. incoming/ is writable by every member of the
 * daemon's group, so whatever is there may be a trap: a symbolic link (or a second hard
 * link) to a file only the daemon may read, whose lines an import would copy into
 * group-readable reports and error CSVs; a FIFO that blocks the reader for ever; a device
 * node, which may act when opened. Such an entry is refused unread, and moved as it is
 * (a rename moves the link, never its target).
 *
 * The check is made on the file in processing/, which only the daemon can write, and on
 * the opened descriptor itself: lstat says what the name is, open with O_NOFOLLOW (and
 * O_NONBLOCK, so a FIFO swapped in cannot block) cannot go through a link, and fstat of
 * the descriptor must be the same regular file. The content hash is read from that
 * descriptor, so what was checked is what is read.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';

export type OpenedFile = { handle: FileHandle; size: number } | { refused: string };

/** What a non-regular entry is, in words for a report; undefined for a regular file with one link. */
export function notRegular(info: Stats): string | undefined {
  if (info.isSymbolicLink()) return 'is a symbolic link';
  if (info.isDirectory()) return 'is a directory';
  if (info.isFIFO()) return 'is a named pipe (FIFO)';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'is a device node';
  if (info.isSocket()) return 'is a socket';
  if (!info.isFile()) return 'is not a regular file';
  if (info.nlink > 1) return `has ${info.nlink - 1} other hard link${info.nlink > 2 ? 's' : ''} (it may be a file the dropper cannot read)`;
  return undefined;
}

/** Opens `path` for reading if it is a regular file with one link; otherwise says what it is, without reading it. */
export async function openRegularFile(path: string): Promise<OpenedFile> {
  const named = await lstat(path);
  const before = notRegular(named);
  if (before !== undefined) return { refused: before };
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return { refused: 'is a symbolic link' };
    throw error;
  }
  const opened = await handle.stat();
  const after = notRegular(opened) ?? (opened.ino !== named.ino || opened.dev !== named.dev ? 'was replaced while it was checked' : undefined);
  if (after !== undefined) {
    await handle.close();
    return { refused: after };
  }
  return { handle, size: opened.size };
}
