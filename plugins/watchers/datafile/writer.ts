/**
 * Writes data files. A tar entry's size goes in its header, before its bytes, so each
 * users member is gathered in memory up to its cap (users or bytes, whichever comes
 * first) and then written whole; memory stays at one member however many users pass.
 * header.json goes first (the reader refuses a wrong file before any user), manifest.json
 * last (only the end of writing knows every hash and count). See FORMAT.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { link, open, rename, unlink, access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { addAbortSignal, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';
import { RollcallError } from '../../../daemon/errors.js';
import type { User } from '../../../daemon/model/user.js';
import {
  FORMAT_NAME,
  FORMAT_VERSION,
  HEADER_MEMBER,
  LINE_MAX_BYTES,
  MANIFEST_MEMBER,
  MAX_USER_MEMBERS,
  MEMBER_MAX_BYTES,
  dataFileName,
  userMemberName,
  type DataFileHeader,
  type DataFileManifest,
  type MemberSummary,
  type TemplateFormat,
} from './format.js';
import { toUserRecord } from './user-record.js';

export const DEFAULT_MEMBER_USERS = 50_000;
/** Half the format's member cap: the writer's memory, and room for a reader's defaults. */
export const DEFAULT_MEMBER_BYTES = 32 * 1024 * 1024;

export interface WriteOptions {
  /** The site's fingerprint template format, recorded in header and manifest. */
  templateFormat: TemplateFormat;
  /** The site's name, recorded as source.site. */
  site?: string;
  /** Users per users member at most (default 50,000). */
  membersUsers?: number;
  /** Bytes per users member at most (default 32 MiB, at most 64 MiB). */
  memberBytes?: number;
  /** Defaults to now; the same instant names the file in exportDataFile. */
  createdAt?: Date;
  /** gzip level 1–9 (default 6). */
  gzipLevel?: number;
  signal?: AbortSignal;
}

/** rollcall's version from its package.json, found from this module's place in the tree. */
function rollcallVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth += 1) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rollcall' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here; look one level up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

function checkOptions(options: WriteOptions): { membersUsers: number; memberBytes: number } {
  const membersUsers = options.membersUsers ?? DEFAULT_MEMBER_USERS;
  const memberBytes = options.memberBytes ?? DEFAULT_MEMBER_BYTES;
  if (!Number.isSafeInteger(membersUsers) || membersUsers < 1) {
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `membersUsers must be a positive integer, got ${membersUsers}`);
  }
  if (!Number.isSafeInteger(memberBytes) || memberBytes < LINE_MAX_BYTES || memberBytes > MEMBER_MAX_BYTES) {
    throw new RollcallError(
      'ROLLCALL_ERR_CONFIG_INVALID',
      `memberBytes must be between ${LINE_MAX_BYTES} and ${MEMBER_MAX_BYTES}, got ${memberBytes}`,
    );
  }
  return { membersUsers, memberBytes };
}

/** Resolves when the entry's bytes are in the pack, so memory holds one member at most. */
function writeEntry(pack: Pack, name: string, parts: Buffer[], size: number, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    const entry = pack.entry({ name, size, mode: 0o644, mtime, type: 'file' }, (error) => (error ? reject(error) : resolve()));
    for (const part of parts.slice(0, -1)) entry.write(part);
    entry.end(parts[parts.length - 1]);
  });
}

/** Records are gathered into pages of about this size: one tiny write per record would cost a zlib call each. */
const PAGE_BYTES = 256 * 1024;

/** One users member being gathered. */
class MemberBuffer {
  pages: Buffer[] = [];
  bytes = 0;
  users = 0;
  hash = createHash('sha256');
  #lines: Buffer[] = [];
  #lineBytes = 0;

  add(line: Buffer): void {
    this.#lines.push(line);
    this.#lineBytes += line.length;
    this.bytes += line.length;
    this.users += 1;
    this.hash.update(line);
    if (this.#lineBytes >= PAGE_BYTES) this.#page();
  }

  /** The member's bytes, in pages. */
  close(): Buffer[] {
    if (this.#lines.length > 0) this.#page();
    return this.pages;
  }

  #page(): void {
    this.pages.push(Buffer.concat(this.#lines, this.#lineBytes));
    this.#lines = [];
    this.#lineBytes = 0;
  }
}

/**
 * Writes `users` to `out` as a data file and ends `out`. Users are read as the file is
 * written. Returns the manifest written at the end. A user whose record passes the
 * format's line limit (4 MiB) fails the whole write with ROLLCALL_ERR_USER_INVALID.
 */
export async function writeDataFile(users: AsyncIterable<User>, out: Writable, options: WriteOptions): Promise<DataFileManifest> {
  const { membersUsers, memberBytes } = checkOptions(options);
  const createdAt = options.createdAt ?? new Date();
  const header: DataFileHeader = {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    createdAt: createdAt.toISOString(),
    source: { product: 'rollcall', version: rollcallVersion(), ...(options.site === undefined ? {} : { site: options.site }) },
    templateFormat: options.templateFormat,
  };
  const pack = tarPack();
  // 64 KiB chunks: fewer trips to zlib's thread than the 16 KiB default, for the same memory.
  const gzip = createGzip({ level: options.gzipLevel ?? 6, chunkSize: 64 * 1024 });
  if (options.signal) addAbortSignal(options.signal, gzip);
  let streamError: unknown;
  const flowing = pipeline(pack, gzip, out).catch((error: unknown) => {
    streamError = error;
  });

  const members: MemberSummary[] = [];
  let userCount = 0;
  // An entry fails only because the streams did; then the streams' error is the one to report.
  let entryFailed = false;
  const entry = async (name: string, parts: Buffer[], size: number): Promise<void> => {
    try {
      await writeEntry(pack, name, parts, size, createdAt);
    } catch (error) {
      entryFailed = true;
      throw error;
    }
  };
  const flush = async (member: MemberBuffer): Promise<void> => {
    if (members.length === MAX_USER_MEMBERS) {
      throw new RollcallError(
        'ROLLCALL_ERR_CONFIG_INVALID',
        `a data file holds at most ${MAX_USER_MEMBERS} users members; raise membersUsers (now ${membersUsers})`,
      );
    }
    const name = userMemberName(members.length + 1);
    await entry(name, member.close(), member.bytes);
    members.push({ name, sha256: member.hash.digest('hex'), bytes: member.bytes, users: member.users });
  };

  try {
    const head = jsonMember(header);
    await entry(HEADER_MEMBER, [head], head.length);
    let member = new MemberBuffer();
    for await (const user of users) {
      options.signal?.throwIfAborted();
      const line = Buffer.from(`${JSON.stringify(toUserRecord(user))}\n`);
      if (line.length > LINE_MAX_BYTES) {
        throw new RollcallError(
          'ROLLCALL_ERR_USER_INVALID',
          `user ${JSON.stringify(user.id)} makes a ${line.length}-byte record, above the data file's ${LINE_MAX_BYTES}-byte limit`,
          { detail: { userId: user.id, bytes: line.length } },
        );
      }
      if (member.users === membersUsers || member.bytes + line.length > memberBytes) {
        await flush(member);
        member = new MemberBuffer();
      }
      member.add(line);
      userCount += 1;
    }
    if (member.users > 0) await flush(member);
    const manifest: DataFileManifest = { ...header, userCount, members };
    const body = jsonMember(manifest);
    await entry(MANIFEST_MEMBER, [body], body.length);
    pack.finalize();
    await flowing;
    if (streamError !== undefined) throw streamError;
    return manifest;
  } catch (error) {
    if (!pack.destroyed) pack.destroy(error instanceof Error ? error : new Error(String(error)));
    await flowing;
    if (options.signal?.aborted) throw options.signal.reason;
    throw entryFailed && streamError !== undefined ? streamError : error;
  }
}

function jsonMember(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}

/** The first free name for a file made at `createdAt`: the base name, then `_2`, `_3`, ... */
function candidateName(createdAt: Date, attempt: number): string {
  const base = dataFileName(createdAt);
  return attempt === 1 ? base : base.replace(/\.tgz$/, `_${attempt}.tgz`);
}

/**
 * Links `partial` to its final name without replacing an existing file (two exports in
 * the same second keep both), then drops the partial name. Where hard links are not
 * supported, falls back to a rename after an existence check.
 */
async function publish(partial: string, dir: string, createdAt: Date): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const target = join(dir, candidateName(createdAt, attempt));
    try {
      await link(partial, target);
      await unlink(partial);
      return target;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      const taken = await access(target).then(
        () => true,
        () => false,
      );
      if (taken) continue;
      await rename(partial, target);
      return target;
    }
  }
}

/** Flushes a file, or a directory's entries, to disk: a rename is durable only once both are. */
async function syncToDisk(path: string, kind: 'file' | 'directory'): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems cannot fsync a directory; the rename is atomic all the same.
    if (kind === 'file') throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Writes a data file into `outgoingDir` as `rollcall_YYYYMMDD_HHMMSS.tgz` (UTC). The file
 * is written under a hidden `.rollcall_….tgz.partial` name, flushed to disk, then given
 * its final name, so a reader of the folder never sees half a file. Returns the final path.
 */
export async function exportDataFile(
  users: AsyncIterable<User>,
  outgoingDir: string,
  options: WriteOptions,
): Promise<string> {
  const createdAt = options.createdAt ?? new Date();
  const partial = join(outgoingDir, `.${dataFileName(createdAt).replace(/\.tgz$/, '')}.${randomBytes(4).toString('hex')}.tgz.partial`);
  // Created here, exclusively, so that on failure only a file of ours is removed.
  // Mode 0600 (the daemon user alone): a data file holds PIN hashes, templates and photos.
  await (await open(partial, 'wx', 0o600)).close();
  try {
    const out = createWriteStream(partial, { flags: 'r+' });
    await writeDataFile(users, out, { ...options, createdAt });
    await syncToDisk(partial, 'file');
    const path = await publish(partial, outgoingDir, createdAt);
    await syncToDisk(outgoingDir, 'directory');
    return path;
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    throw error;
  }
}
