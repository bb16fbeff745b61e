/**
 * Builds archives for the reader's tests, hostile ones included. tar-stream's packer
 * refuses to write most of what an attacker would (a size it does not get, a pax header of
 * 1 TiB), so headers are encoded here by hand, following POSIX ustar; big archives are
 * produced lazily, as the reader pulls, so a "1 GiB" bomb never exists in memory.
 */
import { createHash } from 'node:crypto';
import { Readable, pipeline } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'pax' | 'gnu-long-name';

const TYPEFLAG: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
  pax: 'x',
  'gnu-long-name': 'L',
};

export interface RawHeader {
  name: string;
  type?: EntryType;
  size: number;
  linkname?: string;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One 512-byte ustar header; sizes past the octal field use the base-256 form. */
export function ustarHeader(header: RawHeader): Buffer {
  const block = Buffer.alloc(512);
  block.write(header.name, 0, 100, 'utf8');
  block.write(octal(0o644, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  if (header.size < 8 ** 11) {
    block.write(octal(header.size, 12), 124, 'ascii');
  } else {
    block[124] = 0x80;
    let size = header.size;
    for (let i = 135; i > 124; i -= 1) {
      block[i] = size % 256;
      size = Math.floor(size / 256);
    }
  }
  block.write(octal(1_700_000_000, 12), 136, 'ascii');
  block.write(TYPEFLAG[header.type ?? 'file'], 156, 'ascii');
  if (header.linkname) block.write(header.linkname, 157, 100, 'utf8');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

export function padding(size: number): Buffer {
  const rest = size % 512;
  return Buffer.alloc(rest === 0 ? 0 : 512 - rest);
}

export interface RawEntry extends Partial<RawHeader> {
  name: string;
  body?: Buffer | string;
}

/** A tar entry: header, body, padding. `size` defaults to the body's length. */
export function tarEntry(entry: RawEntry): Buffer {
  const body = entry.body === undefined ? Buffer.alloc(0) : Buffer.from(entry.body);
  const size = entry.size ?? body.length;
  return Buffer.concat([ustarHeader({ ...entry, size }), body, padding(body.length)]);
}

/** A pax extended header entry carrying `records`. */
export function paxEntry(records: Record<string, string>): Buffer {
  const lines = Object.entries(records).map(([key, value]) => {
    // The length counts its own digits.
    const text = ` ${key}=${value}\n`;
    const base = Buffer.byteLength(text);
    const digits = String(base).length;
    const length = String(base + digits).length > digits ? base + digits + 1 : base + digits;
    return `${length}${text}`;
  });
  return tarEntry({ name: 'PaxHeaders/entry', type: 'pax', body: lines.join('') });
}

export const END_OF_ARCHIVE = Buffer.alloc(1024);

export function tar(entries: Buffer[], end = true): Buffer {
  return Buffer.concat(end ? [...entries, END_OF_ARCHIVE] : entries);
}

export function tgz(entries: Buffer[], end = true): Buffer {
  return gzipSync(tar(entries, end));
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export const CREATED_AT = '2025-01-02T03:04:05.000Z';

export function headerJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    format: 'rollcall-datafile',
    formatVersion: 1,
    createdAt: CREATED_AT,
    source: { product: 'rollcall', version: 'test' },
    templateFormat: 'SUPREMA',
    ...overrides,
  });
}

export interface MemberText {
  name: string;
  body: string | Buffer;
}

/** A manifest that truly describes `members`, with `overrides` applied on top. */
export function manifestJson(members: MemberText[], overrides: Record<string, unknown> = {}): string {
  const summaries = members.map((member) => {
    const bytes = Buffer.from(member.body);
    return {
      name: member.name,
      sha256: sha256(bytes),
      bytes: bytes.length,
      users: bytes.toString('latin1').split('\n').length - 1,
    };
  });
  return JSON.stringify({
    ...JSON.parse(headerJson()),
    userCount: summaries.reduce((sum, member) => sum + member.users, 0),
    members: summaries,
    ...overrides,
  });
}

/** A minimal, valid record line for user `id`. */
export function recordLine(id: string, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({
    id,
    name: `User ${id}`,
    disabled: false,
    startTime: 0,
    endTime: 0,
    auth: { biometric: 255, card: 255, id: 255, faceExt: 255, fingerExt: 255, cardExt: 255, idExt: 255 },
    securityLevel: 0,
    cards: [],
    fingers: [],
    faces: [],
    accessGroups: [],
    jobCodes: [],
    ...extra,
  })}\n`;
}

/** A whole, valid file as tar entries: header, the members, a true manifest. */
export function validEntries(members: MemberText[]): Buffer[] {
  return [
    tarEntry({ name: 'header.json', body: headerJson() }),
    ...members.map((member) => tarEntry({ name: member.name, body: member.body })),
    tarEntry({ name: 'manifest.json', body: manifestJson(members) }),
  ];
}

/** Counts what a lazy archive has produced, to show how little of it the reader needed. */
export interface Produced {
  bytes: number;
}

/**
 * A gzip stream of `prefix`, then `bytes` bytes of `fill` repeated (zeros by default),
 * produced only as fast as it is read. Returns the stream and a counter of the
 * uncompressed bytes made so far.
 */
export function lazyFill(prefix: Buffer, bytes: number, fill: Buffer | string | number = 0): { stream: Readable; produced: Produced } {
  const produced: Produced = { bytes: 0 };
  // Small chunks and no read-ahead, so that what was produced is close to what was read.
  const chunk = Buffer.alloc(64 * 1024, fill);
  async function* source(): AsyncGenerator<Buffer> {
    produced.bytes += prefix.length;
    yield prefix;
    for (let left = bytes; left > 0; left -= chunk.length) {
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      produced.bytes += part.length;
      yield part;
    }
  }
  // pipeline, not pipe: when the reader gives up, the generator is torn down with it.
  const stream = pipeline(Readable.from(source(), { highWaterMark: 1 }), createGzip({ level: 9 }), () => undefined);
  return { stream, produced };
}
