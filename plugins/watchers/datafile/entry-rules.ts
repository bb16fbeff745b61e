/**
 * The safety rules one tar entry must pass before a byte of it is read, as pure
 * functions of its header. They hold for every entry of every file; which member may
 * come where is the reader's layout check, applied after these.
 */
import { PAX_MAX_BYTES } from './format.js';

/** The parts of a tar header the rules look at (tar-stream's header, after pax is applied). */
export interface EntryHeader {
  name: string;
  type: string | null;
  size: number;
  linkname?: string | null;
  pax?: unknown;
}

/** Why a name could reach outside the archive if anything ever extracted it, or undefined. */
export function pathProblem(name: string): string | undefined {
  if (name === '') return 'its name is empty';
  if (name.includes('\0')) return 'its name holds a NUL byte';
  if (name.startsWith('/')) return 'its path is absolute';
  if (/^[A-Za-z]:/.test(name) || name.includes('\\')) return 'its path is a Windows path (drive letter or backslash)';
  if (name.split('/').includes('..')) return "its path leaves the archive (a '..' segment)";
  return undefined;
}

/** Why an entry of this type has no place in a data file, or undefined for a regular file or directory. */
export function typeProblem(type: string | null, linkname?: string | null): string | undefined {
  switch (type) {
    case 'file':
    case 'directory':
      return undefined;
    case 'symlink':
      return `it is a symbolic link${linkname ? ` (to ${JSON.stringify(linkname.slice(0, 120))})` : ''}; only regular files are allowed`;
    case 'link':
      return `it is a hard link${linkname ? ` (to ${JSON.stringify(linkname.slice(0, 120))})` : ''}; only regular files are allowed`;
    case 'character-device':
      return 'it is a character device; only regular files are allowed';
    case 'block-device':
      return 'it is a block device; only regular files are allowed';
    case 'fifo':
      return 'it is a FIFO; only regular files are allowed';
    case 'contiguous-file':
      return 'it is a contiguous file (type 7); only regular files are allowed';
    default:
      return `its entry type is ${type === null ? 'unknown' : JSON.stringify(type)}; only regular files are allowed`;
  }
}

/** Bytes of an entry's extended (pax) header records, as tar-stream decoded them. */
export function paxBytes(pax: unknown): number {
  if (pax === null || typeof pax !== 'object') return 0;
  let bytes = 0;
  for (const [key, value] of Object.entries(pax as Record<string, unknown>)) {
    bytes += Buffer.byteLength(key) + Buffer.byteLength(String(value)) + 4;
  }
  return bytes;
}

/** The first safety rule an entry breaks, or undefined. Every answer is a reason to call the archive hostile. */
export function entryProblem(header: EntryHeader, maxEntryBytes: number): string | undefined {
  const path = pathProblem(header.name);
  if (path) return path;
  const type = typeProblem(header.type, header.linkname);
  if (type) return type;
  const pax = paxBytes(header.pax);
  if (pax > PAX_MAX_BYTES) return `its extended (pax) header records take ${pax} bytes, above the ${PAX_MAX_BYTES}-byte limit`;
  if (!Number.isSafeInteger(header.size) || header.size < 0) return `its declared size (${header.size}) is not a valid size`;
  if (header.size > maxEntryBytes) return `its declared size of ${header.size} bytes is above maxEntryBytes (${maxEntryBytes})`;
  return undefined;
}
