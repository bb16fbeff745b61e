import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { isRollcallError, type RollcallError } from '../../../../daemon/errors.js';
import { readDataFile, verifyDataFile, type ReadOptions } from '../../../../plugins/watchers/datafile/reader.js';
import { writeDataFile } from '../../../../plugins/watchers/datafile/writer.js';
import type { ArchiveLimits } from '../../../../plugins/watchers/datafile/limits.js';
import { fullUser, pseudoRandomBytes, range, streamOf } from '../../../fixtures/datafile/users.js';
import {
  headerJson,
  lazyFill,
  manifestJson,
  paxEntry,
  recordLine,
  tar,
  tarEntry,
  tgz,
  ustarHeader,
  validEntries,
  type MemberText,
  type Produced,
} from './corpus.js';

const HOSTILE = 'ROLLCALL_ERR_ARCHIVE_HOSTILE';
const REFUSED = 'ROLLCALL_ERR_IMPORT_REFUSED';

function options(limits: Partial<ArchiveLimits> = {}): ReadOptions {
  return { siteTemplateFormat: 'SUPREMA', limits };
}

/** Reads the whole file; resolves with the error it was refused with. */
async function refusal(input: Readable | Buffer, readOptions: ReadOptions = options()): Promise<RollcallError> {
  const stream = Buffer.isBuffer(input) ? Readable.from([input]) : input;
  try {
    for await (const item of readDataFile(stream, readOptions)) void item;
  } catch (error) {
    assert.ok(isRollcallError(error), `expected a RollcallError, got ${String(error)}`);
    return error;
  }
  assert.fail('the file was not refused');
}

const header = (): Buffer => tarEntry({ name: 'header.json', body: headerJson() });
const twoUsers: MemberText = { name: 'users-00001.jsonl', body: recordLine('1') + recordLine('2') };

/** A small valid data file, written by the writer, for cutting and flipping. */
async function writtenFile(users = 40): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await writeDataFile(streamOf(range(1, users).map(fullUser)), out, { templateFormat: 'SUPREMA', membersUsers: 10 });
  return Buffer.concat(chunks);
}

interface Case {
  name: string;
  input: () => Buffer | Promise<Buffer>;
  limits?: Partial<ArchiveLimits>;
  code: typeof HOSTILE | typeof REFUSED;
  message: RegExp;
}

const slipName = `../rollcall-slip-${process.pid}.jsonl`;

const cases: Case[] = [
  {
    name: 'tar slip with ..',
    input: () => tgz([header(), tarEntry({ name: slipName, body: recordLine('1') })]),
    code: HOSTILE,
    message: new RegExp(`member '\\.\\./rollcall-slip-${process.pid}\\.jsonl': its path leaves the archive`),
  },
  {
    name: 'absolute path',
    input: () => tgz([header(), tarEntry({ name: '/etc/cron.d/users-00001.jsonl', body: 'x\n' })]),
    code: HOSTILE,
    message: /member '\/etc\/cron\.d\/users-00001\.jsonl': its path is absolute/,
  },
  {
    name: 'absolute path as the very first entry',
    input: () => tgz([tarEntry({ name: '/header.json', body: headerJson() })]),
    code: HOSTILE,
    message: /member '\/header\.json': its path is absolute/,
  },
  {
    name: 'backslash path',
    input: () => tgz([header(), tarEntry({ name: '..\\..\\users-00001.jsonl', body: 'x\n' })]),
    code: HOSTILE,
    message: /Windows path/,
  },
  {
    name: 'symlink',
    input: () => tgz([header(), tarEntry({ name: 'users-00001.jsonl', type: 'symlink', linkname: '/etc/shadow' })]),
    code: HOSTILE,
    message: /member 'users-00001\.jsonl': it is a symbolic link \(to "\/etc\/shadow"\)/,
  },
  {
    name: 'symlink as the first entry',
    input: () => tgz([tarEntry({ name: 'header.json', type: 'symlink', linkname: '/etc/passwd' })]),
    code: HOSTILE,
    message: /member 'header\.json': it is a symbolic link/,
  },
  {
    name: 'hard link',
    input: () => tgz([header(), tarEntry({ name: 'users-00001.jsonl', type: 'link', linkname: 'header.json' })]),
    code: HOSTILE,
    message: /member 'users-00001\.jsonl': it is a hard link/,
  },
  {
    name: 'character device',
    input: () => tgz([header(), tarEntry({ name: 'users-00001.jsonl', type: 'char' })]),
    code: HOSTILE,
    message: /member 'users-00001\.jsonl': it is a character device/,
  },
  {
    name: 'block device',
    input: () => tgz([header(), tarEntry({ name: 'users-00001.jsonl', type: 'block' })]),
    code: HOSTILE,
    message: /member 'users-00001\.jsonl': it is a block device/,
  },
  {
    name: 'FIFO',
    input: () => tgz([header(), tarEntry({ name: 'users-00001.jsonl', type: 'fifo' })]),
    code: HOSTILE,
    message: /member 'users-00001\.jsonl': it is a FIFO/,
  },
  {
    name: 'directory',
    input: () => tgz([header(), tarEntry({ name: 'users/', type: 'dir' })]),
    code: HOSTILE,
    message: /member 'users\/': it is a directory/,
  },
  {
    name: 'name outside the layout',
    input: () => tgz([header(), tarEntry({ name: 'install.sh', body: 'rm -rf /\n' })]),
    code: HOSTILE,
    message: /member 'install\.sh': its name is not part of the layout/,
  },
  {
    name: 'control characters in a name are escaped',
    input: () => tgz([header(), tarEntry({ name: 'a\u001b[2Jb', body: 'x\n' })]),
    code: HOSTILE,
    message: /member 'a\\u001b\[2Jb'/,
  },
  {
    name: 'pax path that leaves the archive',
    input: () => tgz([header(), paxEntry({ path: '../../etc/passwd' }), tarEntry({ name: 'users-00001.jsonl', body: recordLine('1') })]),
    code: HOSTILE,
    message: /member '\.\.\/\.\.\/etc\/passwd': its path leaves the archive/,
  },
  {
    name: 'GNU long name that leaves the archive',
    input: () =>
      tgz([
        header(),
        tarEntry({ name: '././@LongLink', type: 'gnu-long-name', body: `${'../'.repeat(40)}etc/passwd\0` }),
        tarEntry({ name: 'users-00001.jsonl', body: recordLine('1') }),
      ]),
    code: HOSTILE,
    message: /its path leaves the archive/,
  },
  {
    name: 'pax header declaring 1 TiB',
    input: () => tgz([header(), ustarHeader({ name: 'PaxHeaders/x', type: 'pax', size: 2 ** 40 })], false),
    code: HOSTILE,
    message: /after member 'header\.json': an extended \(pax or long-name\) header declares more than 4 MiB/,
  },
  {
    name: 'pax records of 1 MiB',
    input: () =>
      tgz([
        header(),
        paxEntry({ comment: pseudoRandomBytes('pax', 768 * 1024).toString('base64') }),
        tarEntry({ name: 'users-00001.jsonl', body: recordLine('1') }),
      ]),
    code: HOSTILE,
    message: /member 'users-00001\.jsonl': its extended \(pax\) header records take \d+ bytes, above the 65536-byte limit/,
  },
  {
    name: 'pax size that is not a number',
    input: () => tgz([header(), paxEntry({ size: 'lots' }), tarEntry({ name: 'users-00001.jsonl', body: recordLine('1') })]),
    code: REFUSED,
    message: /after member 'header\.json': a tar header declares an invalid size/,
  },
  {
    name: 'pax size above maxEntryBytes',
    input: () =>
      tgz([header(), paxEntry({ size: String(2 ** 50) }), tarEntry({ name: 'users-00001.jsonl', body: recordLine('1') })], false),
    code: HOSTILE,
    message: /member 'users-00001\.jsonl': its declared size of 1125899906842624 bytes is above maxEntryBytes/,
  },
  {
    name: 'header.json declaring 1 MiB',
    input: () => tgz([tarEntry({ name: 'header.json', body: ' '.repeat(1024 * 1024) })]),
    code: HOSTILE,
    message: /member 'header\.json': it declares 1048576 bytes, above the 65536-byte limit/,
  },
  {
    name: 'a record line past maxLineBytes',
    // Incompressible, so that the ratio cap does not speak first.
    input: () =>
      tgz([header(), tarEntry({ name: 'users-00001.jsonl', body: `${recordLine('1')}${pseudoRandomBytes('line', 4 * 1024 * 1024).toString('base64')}` })]),
    code: HOSTILE,
    message: /member 'users-00001\.jsonl': record 2 passes maxLineBytes \(4194304\)/,
  },
  {
    name: 'too many entries',
    input: async () => writtenFile(40),
    limits: { maxEntries: 3 },
    code: HOSTILE,
    message: /member 'users-00003\.jsonl': it is entry 4, above maxEntries \(3\)/,
  },
  {
    name: 'expanding past maxTotalBytes',
    input: async () => writtenFile(40),
    limits: { maxTotalBytes: 1024 * 1024 },
    code: HOSTILE,
    message: /member 'users-0000\d\.jsonl': the archive expands past maxTotalBytes \(1048576 bytes\)/,
  },
  {
    name: 'a BioStar-made file',
    input: () => tgz([tarEntry({ name: 'UserData.db', body: 'SQLite format 3\0' })]),
    code: REFUSED,
    message: /member 'UserData\.db': not a rollcall data file \(BioStar's own data-file format is not public/,
  },
  {
    name: 'header.json of another format',
    input: () => tgz([tarEntry({ name: 'header.json', body: headerJson({ format: 'biostar' }) })]),
    code: REFUSED,
    message: /member 'header\.json': not a rollcall data file .*its format is "biostar"/,
  },
  {
    name: 'an unknown format version',
    input: () => tgz([tarEntry({ name: 'header.json', body: headerJson({ formatVersion: 2 }) })]),
    code: REFUSED,
    message: /member 'header\.json': format version 2 is not supported: this rollcall reads version 1/,
  },
  {
    name: 'header.json that is not JSON',
    input: () => tgz([tarEntry({ name: 'header.json', body: '{"format": ' })]),
    code: REFUSED,
    message: /member 'header\.json': it is not valid JSON/,
  },
  {
    name: 'not gzip-compressed',
    input: () => tar(validEntries([twoUsers])),
    code: REFUSED,
    message: /before the first member: not a rollcall data file .*it is not gzip-compressed/,
  },
  {
    name: 'an empty file',
    input: () => Buffer.alloc(0),
    code: REFUSED,
    message: /before the first member: .*the file is empty/,
  },
  {
    name: 'an empty archive',
    input: () => gzipSync(Buffer.alloc(1024)),
    code: REFUSED,
    message: /the archive is empty/,
  },
  {
    name: 'truncated gzip',
    input: async () => {
      const file = await writtenFile(40);
      return file.subarray(0, Math.floor(file.length * 0.6));
    },
    code: REFUSED,
    message: /member 'users-0000\d\.jsonl': the file ends early: its gzip stream is truncated/,
  },
  {
    name: 'truncated tar in a whole gzip stream',
    input: () => {
      const whole = tar(validEntries([twoUsers]));
      return gzipSync(whole.subarray(0, 512 + 512 + 700));
    },
    code: REFUSED,
    message: /member 'users-00001\.jsonl': the file ends early: its tar stream is truncated/,
  },
  {
    name: 'ending without manifest.json',
    input: () => tgz([header(), tarEntry({ name: twoUsers.name, body: twoUsers.body })]),
    code: REFUSED,
    message: /after member 'users-00001\.jsonl': the file ends without 'manifest\.json'/,
  },
  {
    name: 'a damaged gzip checksum',
    input: async () => {
      const file = Buffer.from(await writtenFile(5));
      file[file.length - 6]! ^= 0xff;
      return file;
    },
    code: REFUSED,
    message: /its gzip data is damaged \(incorrect data check\)/,
  },
  {
    name: 'damaged deflate data',
    input: () => {
      const file = Buffer.from(tgz(validEntries([{ name: 'users-00001.jsonl', body: recordLine('1').repeat(200) }])));
      for (let i = 40; i < 60; i += 1) file[i] = 0xff;
      return file;
    },
    code: REFUSED,
    message: /(gzip data is damaged|tar header is damaged)/,
  },
  {
    name: 'a damaged tar header',
    input: () => {
      const raw = tar(validEntries([twoUsers]));
      raw[512 + 512 + 10]! ^= 0x01; // inside the members header's name field; the checksum no longer fits
      return gzipSync(raw);
    },
    code: REFUSED,
    message: /after member 'header\.json': a tar header is damaged or not POSIX ustar/,
  },
  {
    name: 'a member whose sha256 differs from the manifest',
    input: () =>
      tgz([
        header(),
        tarEntry({ name: twoUsers.name, body: String(twoUsers.body).replace('User 1', 'User 9') }),
        tarEntry({ name: 'manifest.json', body: manifestJson([twoUsers]) }),
      ]),
    code: REFUSED,
    message: /member 'users-00001\.jsonl': its sha256 is [0-9a-f]{64} but 'manifest\.json' says [0-9a-f]{64}/,
  },
  {
    name: 'a member whose record count differs from the manifest',
    input: () =>
      tgz([
        header(),
        tarEntry({ name: twoUsers.name, body: twoUsers.body }),
        tarEntry({
          name: 'manifest.json',
          body: manifestJson([twoUsers], {
            members: [{ name: twoUsers.name, sha256: '0'.repeat(64), bytes: Buffer.byteLength(twoUsers.body), users: 3 }],
            userCount: 3,
          }),
        }),
      ]),
    code: REFUSED,
    message: /member 'users-00001\.jsonl': it holds 2 records but 'manifest\.json' says 3/,
  },
  {
    name: 'a userCount that differs from the records',
    input: () =>
      tgz([header(), tarEntry({ name: twoUsers.name, body: twoUsers.body }), tarEntry({ name: 'manifest.json', body: manifestJson([twoUsers], { userCount: 5 }) })]),
    code: REFUSED,
    message: /member 'manifest\.json': its userCount is 5 but the members hold 2 records/,
  },
  {
    name: 'a member the manifest does not list',
    input: () => {
      const second: MemberText = { name: 'users-00002.jsonl', body: recordLine('3') };
      return tgz([
        header(),
        tarEntry({ name: twoUsers.name, body: twoUsers.body }),
        tarEntry({ name: second.name, body: second.body }),
        tarEntry({ name: 'manifest.json', body: manifestJson([twoUsers]) }),
      ]);
    },
    code: REFUSED,
    message: /member 'users-00002\.jsonl': it is not listed in 'manifest\.json'/,
  },
  {
    name: 'a manifest listing a member the archive lacks',
    input: () => {
      const second: MemberText = { name: 'users-00002.jsonl', body: recordLine('3') };
      return tgz([header(), tarEntry({ name: twoUsers.name, body: twoUsers.body }), tarEntry({ name: 'manifest.json', body: manifestJson([twoUsers, second]) })]);
    },
    code: REFUSED,
    message: /member 'manifest\.json': it lists 'users-00002\.jsonl', which the archive does not hold/,
  },
  {
    name: 'a manifest of another template format than the header',
    input: () =>
      tgz([header(), tarEntry({ name: twoUsers.name, body: twoUsers.body }), tarEntry({ name: 'manifest.json', body: manifestJson([twoUsers], { templateFormat: 'ISO' }) })]),
    code: REFUSED,
    message: /member 'manifest\.json': its templateFormat \(ISO\) differs from 'header\.json' \(SUPREMA\)/,
  },
  {
    name: 'members out of order',
    input: () => tgz([header(), tarEntry({ name: 'users-00002.jsonl', body: recordLine('1') })]),
    code: REFUSED,
    message: /member 'users-00002\.jsonl': users members must be numbered in order from 1: expected 'users-00001\.jsonl'/,
  },
  {
    name: 'a member after manifest.json',
    input: () => tgz([...validEntries([twoUsers]), tarEntry({ name: 'users-00002.jsonl', body: recordLine('3') })]),
    code: REFUSED,
    message: /member 'users-00002\.jsonl': it follows 'manifest\.json', which must be the last member/,
  },
  {
    name: 'header.json twice',
    input: () => tgz([header(), tarEntry({ name: 'header.json', body: headerJson({ templateFormat: 'ISO' }) })]),
    code: REFUSED,
    message: /member 'header\.json': 'header\.json' appears a second time/,
  },
  {
    name: 'a member that ends inside a record',
    input: () => tgz([header(), tarEntry({ name: 'users-00001.jsonl', body: recordLine('1') + '{"id":"2"' })]),
    code: REFUSED,
    message: /member 'users-00001\.jsonl': it ends inside record 2/,
  },
  {
    name: 'an empty member',
    input: () => tgz([header(), tarEntry({ name: 'users-00001.jsonl', body: '' })]),
    code: REFUSED,
    message: /member 'users-00001\.jsonl': it holds no records/,
  },
];

describe('datafile reader: hostile and damaged archives', () => {
  for (const c of cases) {
    test(`refuses ${c.name}`, async () => {
      const error = await refusal(await c.input(), options(c.limits));
      assert.equal(error.code, c.code, error.message);
      assert.match(error.message, c.message);
    });
  }

  test('verifyDataFile refuses what readDataFile refuses', async () => {
    const input = Readable.from([tgz([header(), tarEntry({ name: 'users-00001.jsonl', type: 'symlink', linkname: '/etc/shadow' })])]);
    await assert.rejects(verifyDataFile(input, options()), (error: unknown) => isRollcallError(error, HOSTILE));
  });

  test('a tar slip writes nothing anywhere', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-datafile-slip-'));
    try {
      const error = await refusal(tgz([header(), tarEntry({ name: slipName, body: recordLine('1') })]));
      assert.equal(error.code, HOSTILE);
      assert.equal(existsSync(join(process.cwd(), '..', basename(slipName))), false);
      assert.equal(existsSync(join(tmpdir(), basename(slipName))), false);
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a member past the format version 1 cap is refused before its bytes are produced', async () => {
    const prefix = Buffer.concat([header(), ustarHeader({ name: 'users-00001.jsonl', size: 2 ** 30 })]);
    const { stream, produced } = lazyFill(prefix, 2 ** 30);
    const error = await refusal(stream);
    assert.equal(error.code, HOSTILE);
    assert.match(error.message, /member 'users-00001\.jsonl': its declared size of 1073741824 bytes is above maxEntryBytes \(67108864\)/);
    assert.ok(produced.bytes < 16 * 1024 * 1024, `produced ${produced.bytes} bytes`);
  });

  const bombs: { name: string; limits: Partial<ArchiveLimits>; build: () => { stream: Readable; produced: Produced }; message: RegExp }[] = [
    {
      name: 'a gzip bomb inside a member (1 GiB of blank lines)',
      limits: { maxEntryBytes: 2 ** 31 },
      // Lines of blanks, so that no line cap is reached before the ratio is judged.
      build: () =>
        lazyFill(Buffer.concat([header(), ustarHeader({ name: 'users-00001.jsonl', size: 2 ** 30 })]), 2 ** 30, `${' '.repeat(1023)}\n`),
      message: /member 'users-00001\.jsonl': the archive expands \d+:1 so far, above maxRatio \(200:1\)/,
    },
    {
      name: 'a gzip bomb of zero blocks between members (1 GiB), under default limits',
      limits: {},
      build: () => lazyFill(header(), 2 ** 30),
      message: /after member 'header\.json': the archive expands \d+:1 so far, above maxRatio \(200:1\)/,
    },
  ];
  for (const bomb of bombs) {
    test(`stops ${bomb.name} early, with memory bounded`, async () => {
      const rssBefore = process.memoryUsage().rss;
      const { stream, produced } = bomb.build();
      const error = await refusal(stream, options(bomb.limits));
      assert.equal(error.code, HOSTILE);
      assert.match(error.message, bomb.message);
      // The archive claims 1 GiB; the reader needed a few MiB of it.
      assert.ok(produced.bytes < 32 * 1024 * 1024, `produced ${produced.bytes} bytes`);
      assert.ok(process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024, 'memory stayed bounded');
    });
  }
});
