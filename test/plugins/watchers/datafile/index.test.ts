import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { isRollcallError } from '../../../../daemon/errors.js';
import type { User } from '../../../../daemon/model/user.js';
import { Metrics } from '../../../../daemon/obs/metrics.js';
import type {
  IngestFile,
  IngestRecord,
  IngestRejection,
  IngestSink,
  PluginContext,
} from '../../../../daemon/plugins/api.js';
import definition, { DatafileWatcher } from '../../../../plugins/watchers/datafile/index.js';
import { readDataFile } from '../../../../plugins/watchers/datafile/reader.js';
import { configSchema } from '../../../../plugins/watchers/datafile/schema.js';
import { exportDataFile } from '../../../../plugins/watchers/datafile/writer.js';
import { bareUser, fullUser, range, streamOf } from '../../../fixtures/datafile/users.js';
import { headerJson, manifestJson, recordLine, tarEntry, tgz, type MemberText } from './corpus.js';

/** What the ingest host would do with the records, kept for the assertions. */
class RecordingSink implements IngestSink {
  readonly resumeFrom: number;
  header: string[] | undefined;
  batches: IngestRecord[][] = [];
  rejections: IngestRejection[] = [];

  constructor(resumeFrom = 0) {
    this.resumeFrom = resumeFrom;
  }

  setHeader(header: string[]): void {
    assert.equal(this.header, undefined, 'setHeader is called once');
    this.header = header;
  }

  async accept(records: IngestRecord[]): Promise<void> {
    this.batches.push(records);
  }

  reject(rejection: IngestRejection): void {
    this.rejections.push(rejection);
  }

  get records(): IngestRecord[] {
    return this.batches.flat();
  }
}

let dir: string;

function context(signal = new AbortController().signal): PluginContext {
  return { logger: pino({ level: 'silent' }), metrics: new Metrics(), signal, dataDir: dir, lookup: () => undefined };
}

function watcher(config: Record<string, unknown> = {}): DatafileWatcher {
  return definition.create(context(), configSchema.parse({ batchSize: 4, ...config }));
}

async function dropped(name: string, content: Buffer): Promise<IngestFile> {
  const path = join(dir, name);
  await writeFile(path, content);
  return { path, name, size: content.length };
}

async function exported(users: User[], name: string, templateFormat: 'SUPREMA' | 'ISO' = 'SUPREMA'): Promise<IngestFile> {
  const out = join(dir, `${name}.d`);
  await mkdir(out);
  const path = await exportDataFile(streamOf(users), out, { templateFormat, membersUsers: 5 });
  return { path, name, size: (await stat(path)).size };
}

const signal = (): AbortSignal => new AbortController().signal;

describe('datafile watcher plugin', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollcall-datafile-watcher-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('is a watcher named datafile that takes rollcall and BioStar file names', () => {
    assert.equal(definition.configSchema, configSchema);
    const instance = watcher();
    assert.equal(definition.kind, 'watcher');
    assert.equal(definition.name, 'datafile');
    assert.equal(instance.format, 'datafile');
    assert.deepEqual(instance.patterns, ['rollcall_*.tgz', 'BioStar2_*.tgz', 'BioStarX_*.tgz']);
  });

  test('hands every user to the sink in batches, whole, with its record number', async () => {
    const users = [...range(1, 3).map(fullUser), ...range(4, 10).map(bareUser)];
    const file = await exported(users, 'rollcall_all.tgz');
    const sink = new RecordingSink();
    await watcher().ingest(file, sink, signal());
    assert.deepEqual(sink.header, ['record', 'user_id']);
    assert.deepEqual(
      sink.batches.map((batch) => batch.length),
      [4, 4, 2],
    );
    assert.deepEqual(
      sink.records.map((record) => record.row),
      range(1, 10),
    );
    const first = sink.records[0]!;
    const { id, ...values } = users[0]!;
    assert.deepEqual(first.patch, { id, values, blank: [] });
    assert.deepEqual(first.raw, ['1', id]);
    assert.equal('pin' in first.patch, false);
    assert.deepEqual(sink.rejections, []);
  });

  test('honours resumeFrom: records already handled are neither accepted nor rejected again', async () => {
    const file = await exported(range(1, 10).map(bareUser), 'rollcall_resume.tgz');
    const sink = new RecordingSink(6);
    await watcher().ingest(file, sink, signal());
    assert.deepEqual(
      sink.records.map((record) => [record.row, record.patch.id]),
      [
        [7, '7'],
        [8, '8'],
        [9, '9'],
        [10, '10'],
      ],
    );
  });

  test('rejects malformed records one by one and imports the rest', async () => {
    const body = `${recordLine('1')}{"id": "2", "name": 5}\n${recordLine('3')}`;
    const member: MemberText = { name: 'users-00001.jsonl', body };
    const file = await dropped(
      'rollcall_rows.tgz',
      tgz([tarEntry({ name: 'header.json', body: headerJson() }), tarEntry({ name: member.name, body }), tarEntry({ name: 'manifest.json', body: manifestJson([member]) })]),
    );
    const sink = new RecordingSink();
    await watcher().ingest(file, sink, signal());
    assert.deepEqual(
      sink.records.map((record) => record.row),
      [1, 3],
    );
    assert.equal(sink.rejections.length, 1);
    assert.deepEqual(sink.rejections[0]!.row, 2);
    assert.deepEqual(sink.rejections[0]!.raw, ['2', '2']);
    assert.match(sink.rejections[0]!.reason, /^name: /);
  });

  const damaged = (): Buffer => {
    const members: MemberText[] = [
      { name: 'users-00001.jsonl', body: recordLine('1') + recordLine('2') },
      { name: 'users-00002.jsonl', body: recordLine('3') },
    ];
    return tgz([
      tarEntry({ name: 'header.json', body: headerJson() }),
      tarEntry({ name: members[0]!.name, body: members[0]!.body }),
      tarEntry({ name: members[1]!.name, body: recordLine('4') }),
      tarEntry({ name: 'manifest.json', body: manifestJson(members) }),
    ]);
  };

  test('verifies the whole file first, so a damaged file imports nothing', async () => {
    const file = await dropped('rollcall_damaged.tgz', damaged());
    const sink = new RecordingSink();
    await assert.rejects(watcher({ batchSize: 1 }).ingest(file, sink, signal()), (error: unknown) => {
      assert.ok(isRollcallError(error, 'ROLLCALL_ERR_IMPORT_REFUSED'));
      assert.match(error.message, /^member 'users-00002\.jsonl': its sha256 is/);
      return true;
    });
    assert.deepEqual(sink.batches, []);
  });

  test('without verifyFirst, users before the damage are handed on before the file is refused', async () => {
    const file = await dropped('rollcall_damaged2.tgz', damaged());
    const sink = new RecordingSink();
    await assert.rejects(watcher({ batchSize: 1, verifyFirst: false }).ingest(file, sink, signal()), /its sha256 is/);
    assert.ok(sink.records.length > 0);
  });

  test('refuses a file of another template format, importing nothing', async () => {
    const file = await exported(range(1, 3).map(fullUser), 'rollcall_iso.tgz', 'ISO');
    const sink = new RecordingSink();
    await assert.rejects(watcher().ingest(file, sink, signal()), /templates are in ISO format but this site uses SUPREMA/);
    assert.deepEqual(sink.batches, []);
    const isoSink = new RecordingSink();
    await watcher({ templateFormat: 'ISO' }).ingest(file, isoSink, signal());
    assert.equal(isoSink.records.length, 3);
  });

  test('refuses a BioStar-made file with a clear reason', async () => {
    const file = await dropped('BioStar2_20250101_120000.tgz', tgz([tarEntry({ name: 'usr_info.dat', body: 'binary' })]));
    await assert.rejects(watcher().ingest(file, new RecordingSink(), signal()), /BioStar's own data-file format is not public/);
  });

  test('stops when its signal fires', async () => {
    const file = await exported(range(1, 10).map(bareUser), 'rollcall_abort.tgz');
    const controller = new AbortController();
    const sink = new RecordingSink();
    sink.accept = async (records) => {
      sink.batches.push(records);
      controller.abort(new Error('daemon stopping'));
    };
    await assert.rejects(watcher().ingest(file, sink, controller.signal), /daemon stopping/);
    assert.equal(sink.batches.length, 1);
  });

  test('exportUsers writes a data file of the users in the site\'s template format and ends the stream', async () => {
    const users = range(1, 7).map(fullUser);
    const path = join(dir, 'export.tgz');
    const out = createWriteStream(path);
    const closed = finished(out);
    const instance = watcher({ site: 'HQ', templateFormat: 'ANSI', membersUsers: 1000 });
    assert.deepEqual(await instance.exportUsers(streamOf(users), out), { users: 7 });
    await closed;
    const read: User[] = [];
    for await (const item of readDataFile(createReadStream(path), { siteTemplateFormat: 'ANSI' })) {
      if (item.type === 'user') read.push(item.user);
      if (item.type === 'header') assert.deepEqual([item.header.source.site, item.header.templateFormat], ['HQ', 'ANSI']);
    }
    assert.deepEqual(read, users);
  });

  test('names exports rollcall_YYYYMMDD_HHMMSS.tgz, a name its own patterns take', () => {
    assert.equal(watcher().exportName(new Date('2026-11-23T10:15:00Z')), 'rollcall_20261123_101500.tgz');
  });

  test('merges as configured: preserve by default, and never with blanks', () => {
    assert.deepEqual(watcher().mergeOptions, { mode: 'preserve', blankClears: false });
    assert.deepEqual(watcher({ mode: 'overwrite' }).mergeOptions, { mode: 'overwrite', blankClears: false });
  });

  test('reload takes a new template format for the next file', async () => {
    const file = await exported(range(1, 2).map(bareUser), 'rollcall_reload.tgz', 'ISO');
    const instance = watcher();
    await assert.rejects(instance.ingest(file, new RecordingSink(), signal()), /templates are in ISO format/);
    instance.reload({ templateFormat: 'ISO' });
    const sink = new RecordingSink();
    await instance.ingest(file, sink, signal());
    assert.equal(sink.records.length, 2);
  });
});

describe('datafile watcher config', () => {
  test('has safe defaults sized for 500,000 users', () => {
    const config = configSchema.parse({});
    assert.equal(config.templateFormat, 'SUPREMA');
    assert.equal(config.verifyFirst, true);
    assert.equal(config.membersUsers, 50_000);
    assert.deepEqual(config.limits, {
      maxEntries: 4096,
      maxEntryBytes: 64 * 1024 * 1024,
      maxTotalBytes: 64 * 1024 * 1024 * 1024,
      maxRatio: 200,
      maxLineBytes: 4 * 1024 * 1024,
    });
    assert.equal(config.mode, 'preserve');
    assert.deepEqual(config.export, { schedule: [] });
    assert.deepEqual(configSchema.parse({ export: { schedule: ['02:30', '14:00'], dir: '/srv/out' } }).export, {
      schedule: ['02:30', '14:00'],
      dir: '/srv/out',
    });
  });

  const invalid: [string, unknown, RegExp][] = [
    ['an unknown key', { templateFormats: 'ISO' }, /templateFormats/],
    ['an unknown template format', { templateFormat: 'JPEG' }, /templateFormat/],
    ['a time that is not HH:MM', { export: { schedule: ['2:30'] } }, /HH:MM/],
    ['an empty export folder', { export: { dir: '' } }, /dir/],
    ['an unknown export key', { export: { every: '1d' } }, /every/],
    ['an unknown merge mode', { mode: 'merge' }, /mode/],
    ['a member cap above the format', { limits: { maxEntryBytes: 2 ** 30 } }, /maxEntryBytes/],
    ['an unknown limit', { limits: { maxFiles: 3 } }, /maxFiles/],
  ];
  for (const [label, value, expected] of invalid) {
    test(`refuses ${label}`, () => {
      const result = configSchema.safeParse(value);
      assert.equal(result.success, false);
      assert.match(JSON.stringify(result.error?.issues), expected);
    });
  }

  test('every key is described', () => {
    const json = JSON.stringify(configSchema.toJSONSchema({ io: 'input' }));
    for (const key of ['templateFormat', 'mode', 'verifyFirst', 'batchSize', 'membersUsers', 'maxRatio', 'schedule', 'dir']) {
      assert.match(json, new RegExp(`"${key}":\\{[^}]*"description"`), key);
    }
  });
});
