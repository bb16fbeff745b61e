import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { isRollcallError } from '../../../../daemon/errors.js';
import type { User } from '../../../../daemon/model/user.js';
import { LINE_MAX_BYTES, type DataFileManifest } from '../../../../plugins/watchers/datafile/format.js';
import { readDataFile, verifyDataFile, type DataFileItem, type ReadOptions } from '../../../../plugins/watchers/datafile/reader.js';
import { exportDataFile, writeDataFile, type WriteOptions } from '../../../../plugins/watchers/datafile/writer.js';
import {
  GOLDEN_CREATED_AT,
  GOLDEN_FILE,
  bareUser,
  fullUser,
  goldenUsers,
  pseudoRandomBytes,
  range,
  streamOf,
} from '../../../fixtures/datafile/users.js';
import { headerJson, manifestJson, recordLine, tarEntry, tgz, type MemberText } from './corpus.js';

const SUPREMA: ReadOptions = { siteTemplateFormat: 'SUPREMA' };

async function written(users: User[], options: Partial<WriteOptions> = {}): Promise<{ file: Buffer; manifest: DataFileManifest }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const manifest = await writeDataFile(streamOf(users), out, { templateFormat: 'SUPREMA', ...options });
  return { file: Buffer.concat(chunks), manifest };
}

async function itemsOf(file: Buffer, options: ReadOptions = SUPREMA): Promise<DataFileItem[]> {
  const items: DataFileItem[] = [];
  for await (const item of readDataFile(Readable.from([file]), options)) items.push(item);
  return items;
}

function usersOf(items: DataFileItem[]): User[] {
  return items.flatMap((item) => (item.type === 'user' ? [item.user] : []));
}

describe('datafile writer → reader', () => {
  test('users with every field come back as they went in, across members', async () => {
    const users = range(1, 25).map(fullUser);
    const { file, manifest } = await written(users, { membersUsers: 10, site: 'Plant 2' });
    assert.deepEqual(
      manifest.members.map((member) => [member.name, member.users]),
      [
        ['users-00001.jsonl', 10],
        ['users-00002.jsonl', 10],
        ['users-00003.jsonl', 5],
      ],
    );
    const items = await itemsOf(file);
    assert.equal(items[0]!.type, 'header');
    assert.deepEqual(items.at(-1), { type: 'manifest', manifest });
    assert.deepEqual(usersOf(items), users);
    const records = items.flatMap((item) => (item.type === 'user' ? [[item.record, item.member]] : []));
    assert.deepEqual(records[0], [1, 'users-00001.jsonl']);
    assert.deepEqual(records[24], [25, 'users-00003.jsonl']);
    assert.equal(manifest.userCount, 25);
    assert.equal(manifest.source.site, 'Plant 2');
    assert.equal(manifest.source.product, 'rollcall');
  });

  test('absent optional fields stay absent', async () => {
    const users = range(1, 3).map(bareUser);
    const items = await itemsOf((await written(users)).file);
    assert.deepEqual(usersOf(items), users);
    for (const user of usersOf(items)) {
      assert.equal('photo' in user, false);
      assert.equal('pinHash' in user, false);
    }
  });

  test('fields a caller attached that the model does not have are not written', async () => {
    const user = { ...bareUser(1), internalNote: 'not for files' } as User;
    const { file } = await written([user]);
    const [read] = usersOf(await itemsOf(file));
    assert.deepEqual(read, bareUser(1));
  });

  test('verifyDataFile returns the manifest the writer wrote', async () => {
    const { file, manifest } = await written(range(1, 12).map(bareUser), { membersUsers: 5 });
    assert.deepEqual(await verifyDataFile(Readable.from([file]), SUPREMA), manifest);
  });

  test('an empty user set makes a valid file with no members', async () => {
    const { file, manifest } = await written([]);
    assert.deepEqual(manifest.members, []);
    const items = await itemsOf(file);
    assert.deepEqual(
      items.map((item) => item.type),
      ['header', 'manifest'],
    );
  });

  test('members are cut at memberBytes as well as at membersUsers', async () => {
    const users = range(1, 150).map(fullUser);
    const { file, manifest } = await written(users, { memberBytes: LINE_MAX_BYTES });
    assert.ok(manifest.members.length >= 2, `${manifest.members.length} members`);
    for (const member of manifest.members) assert.ok(member.bytes <= LINE_MAX_BYTES);
    assert.deepEqual(usersOf(await itemsOf(file)), users);
  });

  test('a file of another template format is refused before any user is handed on', async () => {
    const { file } = await written(range(1, 5).map(fullUser), { templateFormat: 'ISO' });
    const seen: DataFileItem['type'][] = [];
    await assert.rejects(
      (async () => {
        for await (const item of readDataFile(Readable.from([file]), SUPREMA)) seen.push(item.type);
      })(),
      (error: unknown) => {
        assert.ok(isRollcallError(error, 'ROLLCALL_ERR_IMPORT_REFUSED'));
        assert.match(error.message, /^member 'header\.json': the file's fingerprint templates are in ISO format but this site uses SUPREMA/);
        assert.deepEqual(error.detail, { member: 'header.json', templateFormat: 'ISO', siteTemplateFormat: 'SUPREMA' });
        return true;
      },
    );
    assert.deepEqual(seen, []);
    assert.equal((await itemsOf(file, { siteTemplateFormat: 'ISO' })).filter((item) => item.type === 'user').length, 5);
  });

  test('skipRecords hands on only the records after the checkpoint, and still verifies the whole file', async () => {
    const users = range(1, 12).map(bareUser);
    const { file } = await written(users, { membersUsers: 5 });
    const items = await itemsOf(file, { ...SUPREMA, skipRecords: 7 });
    assert.deepEqual(
      items.flatMap((item) => (item.type === 'user' ? [item.record] : [])),
      [8, 9, 10, 11, 12],
    );
    assert.deepEqual(usersOf(items), users.slice(7));
    assert.equal(items.at(-1)!.type, 'manifest');
  });

  test('a record that is too big for the format fails the write, naming the user', async () => {
    const user = { ...bareUser(7), custom: { notes: pseudoRandomBytes('big', LINE_MAX_BYTES).toString('base64') } };
    await assert.rejects(written([bareUser(1), user]), (error: unknown) => {
      assert.ok(isRollcallError(error, 'ROLLCALL_ERR_USER_INVALID'));
      assert.match(error.message, /user "7" makes a \d+-byte record, above the data file's 4194304-byte limit/);
      return true;
    });
  });
});

describe('datafile reader: per-record problems and versioning', () => {
  test('malformed records are rejected one by one, with their number, and the file goes on', async () => {
    const template = pseudoRandomBytes('t', 384).toString('base64');
    const body = [
      recordLine('1'),
      'this is not json\n',
      '\n',
      recordLine('4', { fingers: [{ index: 0, flag: 0, templates: [`${template}!!`] }] }),
      recordLine('5', { securityLevel: 'high' }),
      recordLine('0'),
      `${Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1')}\n`,
      recordLine('8', { pinHash: Buffer.alloc(16).toString('base64') }),
      recordLine('9'),
    ].join('');
    // latin1, so that record 7 holds the bytes 0xff 0xfe, which no UTF-8 text has.
    const member: MemberText = { name: 'users-00001.jsonl', body: Buffer.from(body, 'latin1') };
    const file = tgz([
      tarEntry({ name: 'header.json', body: headerJson() }),
      tarEntry({ name: member.name, body: member.body }),
      tarEntry({ name: 'manifest.json', body: manifestJson([member]) }),
    ]);
    const items = await itemsOf(file);
    const invalid = items.flatMap((item) => (item.type === 'invalid' ? [item] : []));
    assert.deepEqual(
      invalid.map((item) => [item.record, item.userId ?? null]),
      [
        [2, null],
        [3, null],
        [4, '4'],
        [5, '5'],
        [6, '0'],
        [7, null],
        [8, '8'],
      ],
    );
    assert.match(invalid[0]!.reason, /not valid JSON/);
    assert.match(invalid[1]!.reason, /empty line/);
    assert.match(invalid[2]!.reason, /^fingers\.0\.templates\.0: /);
    assert.match(invalid[3]!.reason, /^securityLevel: /);
    assert.match(invalid[4]!.reason, /^id: user ID 0 is not allowed/);
    assert.match(invalid[5]!.reason, /not valid UTF-8/);
    assert.match(invalid[6]!.reason, /^pinHash: expected exactly 32 bytes/);
    for (const item of invalid) assert.ok(!item.reason.includes(template.slice(0, 24)), 'a reason never quotes a template');
    assert.deepEqual(
      usersOf(items).map((user) => user.id),
      ['1', '9'],
    );
    assert.equal(items.at(-1)!.type, 'manifest');
  });

  test('unknown fields in header, manifest and records are ignored', async () => {
    const body = recordLine('1', { nickname: 'Bo', cards: [{ type: 1, data: 'AAEC', slot: 3 }] });
    const member: MemberText = { name: 'users-00001.jsonl', body };
    const file = tgz([
      tarEntry({ name: 'header.json', body: headerJson({ compression: 'gzip', source: { product: 'rollcall', version: 'test', host: 'x' } }) }),
      tarEntry({ name: member.name, body }),
      tarEntry({ name: 'manifest.json', body: manifestJson([member], { signature: 'later', source: { product: 'rollcall', version: 'test', host: 'x' } }) }),
    ]);
    const items = await itemsOf(file);
    const [user] = usersOf(items);
    assert.equal('nickname' in user!, false);
    assert.deepEqual(user!.cards, [{ type: 1, data: 'AAEC' }]);
    assert.equal(items.at(-1)!.type, 'manifest');
  });

  test('a file written by an earlier rollcall (the golden v1 file) still reads', async () => {
    const items: DataFileItem[] = [];
    for await (const item of readDataFile(createReadStream(GOLDEN_FILE), SUPREMA)) items.push(item);
    assert.deepEqual(usersOf(items), goldenUsers());
    const last = items.at(-1)!;
    assert.equal(last.type, 'manifest');
    assert.equal(last.type === 'manifest' && last.manifest.createdAt, GOLDEN_CREATED_AT.toISOString());
    // Records are byte-stable: writing the same users again gives the same member hashes.
    const again = await written(goldenUsers(), { createdAt: GOLDEN_CREATED_AT });
    assert.deepEqual(again.manifest.members, last.type === 'manifest' ? last.manifest.members : undefined);
  });
});

describe('exportDataFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollcall-datafile-export-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function freshDir(name: string): Promise<string> {
    const path = join(dir, name);
    await mkdir(path);
    return path;
  }

  test('names the file rollcall_YYYYMMDD_HHMMSS.tgz (UTC), leaves no partial file, and keeps it private', async () => {
    const out = await freshDir('naming');
    const createdAt = new Date('2025-03-04T05:06:07.890Z');
    const path = await exportDataFile(streamOf(range(1, 3).map(bareUser)), out, { templateFormat: 'SUPREMA', createdAt });
    assert.equal(path, join(out, 'rollcall_20250304_050607.tgz'));
    assert.deepEqual(await readdir(out), ['rollcall_20250304_050607.tgz']);
    // Created 0640 (less under a stricter umask): others never read PIN hashes or templates.
    assert.equal((await stat(path)).mode & 0o027, 0);
    assert.equal((await verifyDataFile(createReadStream(path), SUPREMA)).userCount, 3);
  });

  test('a second export in the same second gets its own name and leaves the first untouched', async () => {
    const out = await freshDir('collision');
    const createdAt = new Date('2025-03-04T05:06:07.000Z');
    const first = await exportDataFile(streamOf([bareUser(1)]), out, { templateFormat: 'SUPREMA', createdAt });
    const second = await exportDataFile(streamOf([bareUser(2)]), out, { templateFormat: 'SUPREMA', createdAt });
    assert.equal(first, join(out, 'rollcall_20250304_050607.tgz'));
    assert.equal(second, join(out, 'rollcall_20250304_050607_2.tgz'));
    assert.deepEqual(usersOf(await itemsOfPath(first)), [bareUser(1)]);
    assert.deepEqual(usersOf(await itemsOfPath(second)), [bareUser(2)]);
  });

  async function itemsOfPath(path: string): Promise<DataFileItem[]> {
    const items: DataFileItem[] = [];
    for await (const item of readDataFile(createReadStream(path), SUPREMA)) items.push(item);
    return items;
  }

  test('while it writes, the folder shows only a hidden partial name that no pattern takes', async () => {
    const out = await freshDir('atomic');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached!: () => void;
    const midway = new Promise<void>((resolve) => {
      reached = resolve;
    });
    async function* users(): AsyncGenerator<User> {
      for (const n of range(1, 20)) {
        if (n === 11) {
          reached();
          await gate;
        }
        yield fullUser(n);
      }
    }
    const exporting = exportDataFile(users(), out, { templateFormat: 'SUPREMA', membersUsers: 5 });
    await midway;
    const during = await readdir(out);
    assert.equal(during.length, 1);
    assert.match(during[0]!, /^\.rollcall_\d{8}_\d{6}\.[0-9a-f]{8}\.tgz\.partial$/);
    release();
    const path = await exporting;
    assert.deepEqual(await readdir(out), [path.slice(out.length + 1)]);
    assert.equal(usersOf(await itemsOfPath(path)).length, 20);
  });

  test('a failure half-way leaves nothing behind', async () => {
    const out = await freshDir('failure');
    async function* users(): AsyncGenerator<User> {
      yield bareUser(1);
      yield bareUser(2);
      throw new Error('the store went away');
    }
    await assert.rejects(exportDataFile(users(), out, { templateFormat: 'SUPREMA' }), /the store went away/);
    assert.deepEqual(await readdir(out), []);
  });

  test('an abort half-way leaves nothing behind', async () => {
    const out = await freshDir('abort');
    const controller = new AbortController();
    async function* users(): AsyncGenerator<User> {
      for (const n of range(1, 10)) {
        if (n === 5) controller.abort(new Error('stopping'));
        yield bareUser(n);
      }
    }
    await assert.rejects(exportDataFile(users(), out, { templateFormat: 'SUPREMA', signal: controller.signal }), /stopping/);
    assert.deepEqual(await readdir(out), []);
  });

  test('a file that already holds the name is kept', async () => {
    const out = await freshDir('foreign');
    await writeFile(join(out, 'rollcall_20250304_050607.tgz'), 'someone else');
    const createdAt = new Date('2025-03-04T05:06:07.000Z');
    const path = await exportDataFile(streamOf([bareUser(1)]), out, { templateFormat: 'SUPREMA', createdAt });
    assert.equal(path, join(out, 'rollcall_20250304_050607_2.tgz'));
    assert.deepEqual((await readdir(out)).sort(), ['rollcall_20250304_050607.tgz', 'rollcall_20250304_050607_2.tgz']);
  });
});
