/**
 * Reads a data file as a stream: bytes → meter → gunzip → meter → tar-stream → members.
 * Nothing is written to disk and nothing is held but one record and the streams' buffers.
 * Every entry passes the safety rules (entry-rules.ts) before a byte of it is read, then
 * the layout check (header.json first, users members in order, manifest.json last). Users
 * are handed on as they are read; the manifest, and with it every member's hash and
 * count, is checked at the end, so a caller that must not act on a file that later proves
 * damaged reads it twice: verifyDataFile() first, then readDataFile().
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { addAbortSignal, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { isRollcallError } from '../../../daemon/errors.js';
import type { User } from '../../../daemon/model/user.js';
import { entryProblem, type EntryHeader } from './entry-rules.js';
import { ExpansionMeter } from './expansion.js';
import {
  FORMAT_NAME,
  FORMAT_VERSION,
  HEADER_MAX_BYTES,
  HEADER_MEMBER,
  MANIFEST_MEMBER,
  headerSchema,
  manifestMaxBytes,
  manifestSchema,
  userMemberIndex,
  userMemberName,
  type DataFileHeader,
  type DataFileManifest,
  type MemberSummary,
  type TemplateFormat,
} from './format.js';
import { DEFAULT_LIMITS, type ArchiveLimits } from './limits.js';
import { LineSplitter } from './lines.js';
import { hostile, refused, type Place } from './refusal.js';
import { checkUserRecord } from './user-record.js';

export interface ReadOptions {
  /** The site's fingerprint template format; a file in another format is refused before any user. */
  siteTemplateFormat: TemplateFormat;
  /** Caps; absent keys take DEFAULT_LIMITS. */
  limits?: Partial<ArchiveLimits>;
  /** Records already handled by an earlier run: counted and hashed, but not parsed or handed on. */
  skipRecords?: number;
  signal?: AbortSignal;
}

export type DataFileItem =
  /** The file's header, once read and accepted; always the first item. */
  | { type: 'header'; header: DataFileHeader }
  /** A user record (record numbers count from 1 across all members). */
  | { type: 'user'; record: number; member: string; user: User }
  /** A record that could not be read or has the wrong shape; the file goes on. */
  | { type: 'invalid'; record: number; member: string; reason: string; userId?: string }
  /** The manifest, once every member matched it and the archive ended cleanly; always the last item. */
  | { type: 'manifest'; manifest: DataFileManifest };

const NOT_OURS =
  "not a rollcall data file (BioStar's own data-file format is not public, so rollcall reads only its own layout: see FORMAT.md)";

type Role = 'header' | 'users' | 'manifest' | 'foreign';

function roleOf(header: EntryHeader): Role {
  if (header.type !== 'file') return 'foreign';
  if (header.name === HEADER_MEMBER) return 'header';
  if (header.name === MANIFEST_MEMBER) return 'manifest';
  return userMemberIndex(header.name) === undefined ? 'foreign' : 'users';
}

/** Where the reader is; errors raised between members name the last one read. */
class Progress {
  entries = 0;
  current: string | undefined;
  last: string | undefined;
  header: DataFileHeader | undefined;
  manifest: DataFileManifest | undefined;
  members: MemberSummary[] = [];
  records = 0;

  place(): Place {
    return this.current === undefined ? { after: this.last } : { member: this.current };
  }

  /** The current member has been read whole. */
  done(): void {
    this.last = this.current;
    this.current = undefined;
  }
}

/**
 * Users of a data file, one item at a time, after its header and before its manifest.
 * Throws RollcallError ROLLCALL_ERR_ARCHIVE_HOSTILE or ROLLCALL_ERR_IMPORT_REFUSED, naming
 * the member, when the file must be refused as a whole.
 */
export function readDataFile(input: Readable, options: ReadOptions): AsyncGenerator<DataFileItem, void, undefined> {
  return walk(input, options, true);
}

/**
 * Runs every whole-file check of readDataFile (caps, layout, template format, hashes,
 * counts) without parsing records, and returns the verified manifest.
 */
export async function verifyDataFile(input: Readable, options: ReadOptions): Promise<DataFileManifest> {
  let manifest: DataFileManifest | undefined;
  for await (const item of walk(input, options, false)) {
    if (item.type === 'manifest') manifest = item.manifest;
  }
  // walk() ends only after yielding the manifest or throwing.
  return manifest!;
}

async function* walk(input: Readable, options: ReadOptions, parseRecords: boolean): AsyncGenerator<DataFileItem, void, undefined> {
  const limits: ArchiveLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const progress = new Progress();
  const meter = new ExpansionMeter(limits, () => progress.place());
  const extract = tarExtract();
  if (options.signal) addAbortSignal(options.signal, input);

  let streamError: unknown;
  // 64 KiB chunks: fewer trips to zlib's thread than the 16 KiB default; the meter sees each one.
  const flowing = pipeline(input, meter.compressedTap(), createGunzip({ chunkSize: 64 * 1024 }), meter.expandedTap(), extract).then(
    () => undefined,
    (error: unknown) => {
      streamError = error;
    },
  );
  let finished = false;
  try {
    try {
      for await (const entry of extract) {
        options.signal?.throwIfAborted();
        const header = entry.header as unknown as EntryHeader;
        const bytes = entry as unknown as AsyncIterable<Buffer>;
        const role = admit(header, progress, limits);
        progress.current = header.name;
        if (role === 'header') {
          progress.header = checkHeader(await readJsonMember(bytes, header, HEADER_MAX_BYTES), options.siteTemplateFormat);
          progress.done();
          yield { type: 'header', header: progress.header };
        } else if (role === 'manifest') {
          progress.manifest = checkManifest(await readJsonMember(bytes, header, manifestMaxBytes(limits.maxEntries)), progress);
          progress.done();
        } else {
          const skip = parseRecords ? (options.skipRecords ?? 0) : Number.POSITIVE_INFINITY;
          yield* readUsersMember(bytes, header.name, progress, limits.maxLineBytes, skip);
          progress.done();
        }
      }
    } catch (error) {
      extract.destroy();
      await flowing;
      throw explain(error, meter, progress, options.signal);
    }
    await flowing;
    if (streamError !== undefined) throw explain(streamError, meter, progress, options.signal);
    if (!progress.header) throw refused({ after: undefined }, `${NOT_OURS}: the archive is empty`);
    if (!progress.manifest) {
      throw refused(progress.place(), `the file ends without '${MANIFEST_MEMBER}': it is truncated or was not finished by its writer`);
    }
    finished = true;
    yield { type: 'manifest', manifest: progress.manifest };
  } finally {
    // A consumer that stops early must not leave the file open.
    if (!finished) {
      extract.destroy();
      input.destroy();
      await flowing;
    }
  }
}

/**
 * Lets an entry in, or says why not: the safety rules first (they hold for any archive),
 * then the layout (which member may come where). Returns the member's role.
 */
function admit(header: EntryHeader, progress: Progress, limits: ArchiveLimits): Exclude<Role, 'foreign'> {
  const name = header.name;
  progress.entries += 1;
  if (progress.entries > limits.maxEntries) {
    throw hostile({ member: name }, `it is entry ${progress.entries}, above maxEntries (${limits.maxEntries})`);
  }
  const problem = entryProblem(header, limits.maxEntryBytes);
  if (problem) throw hostile({ member: name }, problem);
  const role = roleOf(header);
  if (progress.entries === 1 && role !== 'header') {
    throw refused({ member: name }, `${NOT_OURS}: the first member must be '${HEADER_MEMBER}'`);
  }
  if (role === 'foreign') {
    const what = header.type === 'directory' ? 'it is a directory' : 'its name is not part of the layout';
    throw hostile({ member: name }, `${what}; a data file holds only '${HEADER_MEMBER}', users-NNNNN.jsonl members and '${MANIFEST_MEMBER}'`);
  }
  if (progress.manifest) throw refused({ member: name }, `it follows '${MANIFEST_MEMBER}', which must be the last member`);
  if (role === 'header' && progress.entries !== 1) throw refused({ member: name }, `'${HEADER_MEMBER}' appears a second time`);
  if (role === 'users') {
    const expected = userMemberName(progress.members.length + 1);
    if (name !== expected) {
      throw refused({ member: name }, `users members must be numbered in order from 1: expected '${expected}' here`);
    }
  }
  return role;
}

/** The records of one users member, hashed and counted as they pass; records up to `skip` are not parsed. */
async function* readUsersMember(
  bytes: AsyncIterable<Buffer>,
  name: string,
  progress: Progress,
  maxLineBytes: number,
  skip: number,
): AsyncGenerator<DataFileItem, void, undefined> {
  const hash = createHash('sha256');
  let size = 0;
  let users = 0;
  const splitter = new LineSplitter(maxLineBytes, (length) =>
    hostile({ member: name }, `record ${progress.records + 1} passes maxLineBytes (${maxLineBytes}) at ${length} bytes`, {
      record: progress.records + 1,
    }),
  );
  for await (const chunk of bytes) {
    hash.update(chunk);
    size += chunk.length;
    for (const line of splitter.push(chunk)) {
      progress.records += 1;
      users += 1;
      if (progress.records > skip) yield recordItem(line, progress.records, name);
    }
  }
  if (splitter.pending > 0) {
    throw refused({ member: name }, `it ends inside record ${progress.records + 1} (every record ends with a line feed)`);
  }
  if (users === 0) throw refused({ member: name }, 'it holds no records');
  progress.members.push({ name, sha256: hash.digest('hex'), bytes: size, users });
}

function recordItem(line: Buffer, record: number, member: string): DataFileItem {
  if (!isUtf8(line)) return { type: 'invalid', record, member, reason: 'the record is not valid UTF-8' };
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return { type: 'invalid', record, member, reason: line.length === 0 ? 'the record is an empty line' : 'the record is not valid JSON' };
  }
  const check = checkUserRecord(value);
  if (check.ok) return { type: 'user', record, member, user: check.user };
  return {
    type: 'invalid',
    record,
    member,
    reason: check.reason,
    ...(check.userId === undefined ? {} : { userId: check.userId }),
  };
}

async function readJsonMember(entry: AsyncIterable<Buffer>, header: EntryHeader, maxBytes: number): Promise<unknown> {
  if (header.size > maxBytes) {
    throw hostile({ member: header.name }, `it declares ${header.size} bytes, above the ${maxBytes}-byte limit for this member`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  if (!isUtf8(bytes)) throw refused({ member: header.name }, 'it is not valid UTF-8');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw refused({ member: header.name }, 'it is not valid JSON');
  }
}

function issuesOf(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function checkHeader(value: unknown, site: TemplateFormat): DataFileHeader {
  const place = { member: HEADER_MEMBER };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw refused(place, 'it is not a JSON object');
  const { format, formatVersion } = value as { format?: unknown; formatVersion?: unknown };
  if (format !== FORMAT_NAME) {
    throw refused(place, `${NOT_OURS}: its format is ${JSON.stringify(format ?? null)}, not "${FORMAT_NAME}"`);
  }
  if (formatVersion !== FORMAT_VERSION) {
    throw refused(
      place,
      `format version ${JSON.stringify(formatVersion ?? null)} is not supported: this rollcall reads version ${FORMAT_VERSION}`,
    );
  }
  const parsed = headerSchema.safeParse(value);
  if (!parsed.success) throw refused(place, `it is not a valid version ${FORMAT_VERSION} header: ${issuesOf(parsed.error)}`);
  const header = parsed.data;
  if (header.templateFormat !== site) {
    throw refused(
      place,
      `the file's fingerprint templates are in ${header.templateFormat} format but this site uses ${site}; devices cannot match templates of another format, so no user is imported (export it again from a site that uses ${site})`,
      { templateFormat: header.templateFormat, siteTemplateFormat: site },
    );
  }
  return header;
}

/** The manifest, checked against the header and against every member as it was read. */
function checkManifest(value: unknown, progress: Progress): DataFileManifest {
  const place = { member: MANIFEST_MEMBER };
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) throw refused(place, `it is not a valid version ${FORMAT_VERSION} manifest: ${issuesOf(parsed.error)}`);
  const manifest = parsed.data;
  const header = progress.header!;
  for (const key of ['createdAt', 'templateFormat'] as const) {
    if (manifest[key] !== header[key]) {
      throw refused(place, `its ${key} (${manifest[key]}) differs from '${HEADER_MEMBER}' (${header[key]})`);
    }
  }
  if (JSON.stringify(manifest.source) !== JSON.stringify(header.source)) {
    throw refused(place, `its source differs from '${HEADER_MEMBER}'`);
  }
  const seen = progress.members;
  const listed = manifest.members;
  for (let i = 0; i < Math.max(seen.length, listed.length); i += 1) {
    const actual = seen[i];
    const claimed = listed[i];
    if (!claimed) throw refused({ member: actual!.name }, `it is not listed in '${MANIFEST_MEMBER}'`);
    if (!actual) throw refused(place, `it lists '${claimed.name}', which the archive does not hold`);
    const member = { member: actual.name };
    if (claimed.name !== actual.name) throw refused(member, `'${MANIFEST_MEMBER}' lists '${claimed.name}' in its place`);
    if (claimed.bytes !== actual.bytes) {
      throw refused(member, `it is ${actual.bytes} bytes but '${MANIFEST_MEMBER}' says ${claimed.bytes}`);
    }
    if (claimed.users !== actual.users) {
      throw refused(member, `it holds ${actual.users} records but '${MANIFEST_MEMBER}' says ${claimed.users}`);
    }
    if (claimed.sha256 !== actual.sha256) {
      throw refused(member, `its sha256 is ${actual.sha256} but '${MANIFEST_MEMBER}' says ${claimed.sha256}`);
    }
  }
  if (manifest.userCount !== progress.records) {
    throw refused(place, `its userCount is ${manifest.userCount} but the members hold ${progress.records} records`);
  }
  return manifest;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Turns whatever stopped the streams into the one error that says why, naming where. */
function explain(error: unknown, meter: ExpansionMeter, progress: Progress, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  if (meter.failure) return meter.failure;
  if (isRollcallError(error)) return error;
  const place = progress.place();
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCode(error);
  if (code?.startsWith('Z_')) {
    if (meter.compressed === 0) return refused(place, `${NOT_OURS}: the file is empty`);
    if (meter.expanded === 0 && /incorrect header check/i.test(message)) {
      return refused(place, `${NOT_OURS}: it is not gzip-compressed (a data file is a gzip-compressed tar)`, { cause: message });
    }
    if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message)) {
      return refused(place, 'the file ends early: its gzip stream is truncated', { cause: message });
    }
    return refused(place, `its gzip data is damaged (${message})`, { cause: message });
  }
  if (message === 'Unexpected end of data') return refused(place, 'the file ends early: its tar stream is truncated');
  if (message === 'Header exceeds max size') {
    return hostile(place, 'an extended (pax or long-name) header declares more than 4 MiB');
  }
  if (message.startsWith('Invalid tar header')) {
    return refused(place, `a tar header is damaged or not POSIX ustar (${message})`);
  }
  if (message === 'Invalid header') return refused(place, 'a tar header declares an invalid size');
  return refused(place, `it cannot be read: ${message}`, { cause: message });
}
