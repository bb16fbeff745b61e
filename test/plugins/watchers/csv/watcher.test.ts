import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { isRollcallError } from '../../../../daemon/errors.js';
import { CardType, emptyUser, type User } from '../../../../daemon/model/user.js';
import { Metrics } from '../../../../daemon/obs/metrics.js';
import type { IngestRecord, IngestRejection, IngestSink, PluginContext } from '../../../../daemon/plugins/api.js';
import csvWatcher from '../../../../plugins/watchers/csv/index.js';
import { csnToCardData } from '../../../../plugins/watchers/csv/csn.js';
import { configSchema } from '../../../../plugins/watchers/csv/schema.js';
import type { CsvWatcher } from '../../../../plugins/watchers/csv/watcher.js';
import { encodeVariant, fixtureText, VARIANTS } from './fixtures.js';

/** The host's side of ingest, reduced to recording what it is handed. */
class RecordingSink implements IngestSink {
  header: string[] | undefined;
  batches: IngestRecord[][] = [];
  rejected: IngestRejection[] = [];
  notes: string[] = [];
  calls: string[] = [];

  constructor(
    readonly resumeFrom = 0,
    private readonly onAccept?: (records: IngestRecord[]) => void,
  ) {}

  setHeader(header: string[]): void {
    this.header = header;
    this.calls.push('header');
  }

  async accept(records: IngestRecord[]): Promise<void> {
    this.batches.push(records);
    this.calls.push(`accept ${records.length}`);
    this.onAccept?.(records);
    // Backpressure is real for the host: let other work run before the next batch.
    await new Promise((resolve) => setImmediate(resolve));
  }

  reject(rejection: IngestRejection): void {
    this.rejected.push(rejection);
    this.calls.push(`reject ${rejection.row}`);
  }

  note(message: string): void {
    this.notes.push(message);
  }

  get records(): IngestRecord[] {
    return this.batches.flat();
  }
}

let dir: string;
const logLines: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollcall-csv-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function watcher(config: Record<string, unknown> = {}): CsvWatcher {
  const ctx: PluginContext = {
    logger: pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) }),
    metrics: new Metrics(),
    signal: new AbortController().signal,
    dataDir: dir,
    lookup: () => undefined,
  };
  return csvWatcher.create(ctx, configSchema.parse(config));
}

let fileCount = 0;
async function drop(content: string | Buffer, name = `users-${++fileCount}.csv`): Promise<{ path: string; name: string; size: number }> {
  const path = join(dir, name);
  await writeFile(path, content);
  return { path, name, size: (await stat(path)).size };
}

const never = new AbortController().signal;

describe('csv watcher', () => {
  test('is a watcher plugin for *.csv with a strict, defaulted config', () => {
    assert.equal(csvWatcher.kind, 'watcher');
    assert.equal(csvWatcher.name, 'csv');
    const w = watcher();
    assert.deepEqual(w.patterns, ['*.csv', '*.CSV']);
    assert.equal(w.format, 'csv');
    assert.deepEqual(w.mergeOptions, { mode: 'preserve', blankClears: false });
    w.reload({ mode: 'overwrite', blankClears: true });
    assert.deepEqual(w.mergeOptions, { mode: 'overwrite', blankClears: true });
  });

  for (const variant of VARIANTS) {
    test(`ingests the BioStar fixture in ${variant.label}`, async () => {
      const sink = new RecordingSink();
      const file = await drop(encodeVariant(fixtureText('basic.csv'), variant));
      await watcher({ customFields: ['Remarks'] }).ingest(file, sink, never);
      assert.equal(sink.header?.[0], 'user_id');
      assert.deepEqual(sink.rejected, []);
      assert.deepEqual(sink.records.map((r) => [r.row, r.patch.id]), [[2, '1001'], [3, '1002'], [4, '1003'], [5, '1004']]);
      const [alice, jiwoo, dwayne, minjun] = sink.records.map((r) => r.patch);
      assert.equal(alice!.values.phone, '+82 10 1234 5678');
      assert.deepEqual(alice!.values.cards, [{ type: CardType.CSN, data: csnToCardData(123456789n) }]);
      assert.equal(alice!.pin, '4821');
      assert.equal(jiwoo!.values.name, 'Park, Ji-woo');
      assert.equal(jiwoo!.values.startTime, Date.UTC(2025, 1, 1, 8, 30) / 1000);
      assert.equal(jiwoo!.values.endTime, Date.UTC(2026, 1, 1, 23, 59, 59) / 1000);
      assert.deepEqual(new Set(jiwoo!.blank), new Set(['pinHash', 'custom']));
      assert.equal(dwayne!.values.name, 'Dwayne "Rock" Lee');
      assert.equal(dwayne!.values.endTime, Date.UTC(2025, 11, 31, 18) / 1000);
      assert.deepEqual(dwayne!.values.custom, { Remarks: 'quoted, with comma' });
      assert.equal(minjun!.values.name, '김민준');
      assert.equal(minjun!.values.startTime, 0);
      assert.equal(minjun!.values.endTime, 0);
      // raw keeps the row for the error CSV, with the PIN blanked
      assert.equal(sink.records[0]!.raw[10], '');
      assert.equal(sink.records[0]!.raw[1], 'Alice Kim');
    });
  }

  test('bad rows are rejected with their line and reason, good rows go on', async () => {
    const sink = new RecordingSink();
    await watcher().ingest(await drop(fixtureText('errors.csv')), sink, never);
    assert.deepEqual(sink.records.map((r) => r.patch.id), ['3001', '3004', '3007', '3009']);
    assert.deepEqual(sink.rejected.map((r) => r.row), [3, 4, 6, 7, 9]);
    assert.match(sink.rejected[0]!.reason, /4 cells but the header has 3/);
    assert.deepEqual(sink.rejected[0]!.raw, ['3002', 'Too', 'Many', 'Cells']);
  });

  test('row rules reject rows, naming the column', async () => {
    const sink = new RecordingSink();
    await watcher().ingest(await drop(fixtureText('dates.csv')), sink, never);
    assert.deepEqual(sink.records.map((r) => r.patch.id), ['2001', '2002', '2003']);
    const reasons = Object.fromEntries(sink.rejected.map((r) => [r.raw[0], r.reason]));
    assert.equal(reasons['2004'], 'start_datetime: ambiguous date "03/04/2025" (set watchers.csv.dayFirst to read DD/MM/YYYY); expiry_datetime: ambiguous date "03/04/2025 10:20" (set watchers.csv.dayFirst to read DD/MM/YYYY)');
    assert.match(reasons['2005']!, /^start_datetime: date "25\/04\/2025 10:20:30" has the day first.*; expiry_datetime: impossible date "2025-13-01": month 13$/);
    assert.match(reasons['2006']!, /expiry_datetime: impossible date "2023-02-29"/);
    assert.match(reasons['2007']!, /start_datetime: unreadable date "2-Feb"/);
  });

  test('dayFirst reads DD/MM/YYYY in the configured time zone', async () => {
    const sink = new RecordingSink();
    await watcher({ dayFirst: true, timeZone: 'Asia/Seoul' }).ingest(await drop('user_id,start_datetime\n1,03/04/2025 09:00\n'), sink, never);
    assert.equal(sink.records[0]!.patch.values.startTime, Date.UTC(2025, 3, 3, 0, 0) / 1000);
  });

  test('records go to the sink in batches of batchSize', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => `${i + 1},User ${i}`).join('\n');
    const sink = new RecordingSink();
    await watcher({ batchSize: 2 }).ingest(await drop(`user_id,name\n${rows}\n3,"bad\n`), sink, never);
    assert.deepEqual(sink.calls, ['header', 'accept 2', 'accept 2', 'reject 7', 'accept 1']);
  });

  test('a resumed import skips the records already handled, rejected ones included', async () => {
    const sink = new RecordingSink(3);
    await watcher().ingest(await drop(fixtureText('errors.csv')), sink, never);
    // records 1–3 were rows 2 (3001), 3 (rejected), 4 (rejected)
    assert.deepEqual(sink.records.map((r) => r.patch.id), ['3004', '3007', '3009']);
    assert.deepEqual(sink.rejected.map((r) => r.row), [6, 7, 9]);
    assert.equal(sink.header?.[0], 'user_id');
  });

  test('startRow skips the lines above the header', async () => {
    const sink = new RecordingSink();
    await watcher({ startRow: 4 }).ingest(await drop(fixtureText('preamble.csv')), sink, never);
    assert.deepEqual(sink.records.map((r) => [r.row, r.patch.id]), [[4, '4001'], [6, '4002']]);
  });

  test('remap and ignored columns', async () => {
    const sink = new RecordingSink();
    const file = await drop('Employee No,Full Name,Badge,csn_mobile,Shoe Size\n77,Kim,555,999,44\n');
    logLines.length = 0;
    await watcher({ remap: { 'Employee No': 'user_id', 'full name': 'name', Badge: 'csn' } }).ingest(file, sink, never);
    const patch = sink.records[0]!.patch;
    assert.equal(patch.id, '77');
    assert.equal(patch.values.name, 'Kim');
    assert.deepEqual(patch.values.cards, [{ type: CardType.CSN, data: csnToCardData(555n) }]);
    const warning = logLines.map((l) => JSON.parse(l) as { msg: string; ignored?: { header: string; reason: string }[] }).find((l) => l.ignored);
    assert.deepEqual(warning?.ignored?.map((c) => c.header), ['csn_mobile', 'Shoe Size']);
    assert.match(warning!.ignored![0]!.reason, /Airfob/);
  });

  const refusals: { name: string; content: () => Buffer | string; says: RegExp }[] = [
    { name: 'duplicate mapped columns', content: () => 'user_id,User ID,name\n1,1,a\n', says: /both map to user_id/ },
    { name: 'no user_id column', content: () => 'name,csn\na,1\n', says: /no user_id column/ },
    { name: 'no header at all', content: () => '', says: /no header row/ },
    {
      name: 'invalid UTF-8 far into the file',
      content: () => Buffer.concat([Buffer.from('user_id,name\n' + '1,ok\n'.repeat(20_000)), Buffer.from([0x32, 0x2c, 0xe9, 0x0a])]),
      says: /not valid UTF-8.*line 20002/,
    },
  ];
  for (const row of refusals) {
    test(`refuses ${row.name} before any record reaches the store`, async () => {
      const sink = new RecordingSink();
      await assert.rejects(watcher().ingest(await drop(row.content()), sink, never), (error: unknown) => {
        assert.ok(isRollcallError(error, 'ROLLCALL_ERR_IMPORT_REFUSED'), String(error));
        assert.match(error.message, row.says);
        return true;
      });
      assert.deepEqual(sink.batches, []);
      assert.deepEqual(sink.rejected, []);
    });
  }

  test('an abort stops the import between batches', async () => {
    const controller = new AbortController();
    const rows = Array.from({ length: 50 }, (_, i) => `${i + 1},User ${i}`).join('\n');
    const sink = new RecordingSink(0, () => controller.abort());
    await assert.rejects(watcher({ batchSize: 10 }).ingest(await drop(`user_id,name\n${rows}\n`), sink, controller.signal), { name: 'AbortError' });
    assert.equal(sink.batches.length, 1);
    await assert.rejects(watcher().ingest(await drop('user_id\n1\n'), new RecordingSink(), controller.signal), { name: 'AbortError' });
  });

  test('a plaintext PIN reaches patch.pin and nothing else: not raw rows, reasons, headers or logs', async () => {
    const pins = ['73914682', '58203317', '99118822', '4829173a'];
    const content = [
      'user_id,name,pin,email',
      `1,Good,${pins[0]},a@b.c`,
      `2,Bad mail,${pins[1]},nope`,
      `3,"Broken"quote,${pins[2]},a@b.c`,
      `4,Bad pin,${pins[3]},a@b.c`,
    ].join('\r\n');
    const sink = new RecordingSink();
    logLines.length = 0;
    await watcher({ mode: 'overwrite' }).ingest(await drop(content), sink, never);
    assert.equal(sink.records.length, 1);
    assert.equal(sink.records[0]!.patch.pin, pins[0]);
    const { pin: _, ...patchWithoutPin } = sink.records[0]!.patch;
    const everythingElse = JSON.stringify({
      header: sink.header,
      raw: sink.records.map((r) => r.raw),
      patch: patchWithoutPin,
      rejected: sink.rejected,
      logs: logLines,
    });
    for (const pin of pins) assert.ok(!everythingElse.includes(pin), `PIN ${pin} leaked`);
    assert.equal(sink.rejected.length, 3);
    assert.deepEqual(sink.rejected.map((r) => r.raw[2] ?? ''), ['', '', '']);
  });

  test('misaligned rows in a file with a PIN column reach the sink with every cell blank but the user ID', async () => {
    const pins = ['91827463', '91827551', '40518263'];
    const content = ['user_id,name,department,pin', `9002,Smith, John,Ops,${pins[0]}`, `9003,${pins[1]}`, `9004,"Lee",Ops,x,${pins[2]}`, ''].join('\r\n');
    const sink = new RecordingSink();
    logLines.length = 0;
    await watcher().ingest(await drop(content), sink, never);
    assert.deepEqual(
      sink.rejected.map((r) => [r.row, r.raw]),
      [
        [2, ['9002', '', '', '', '']],
        // Cells left out may have moved the PIN into the ID column: nothing is kept.
        [3, ['', '']],
        [4, ['9004', '', '', '', '']],
      ],
    );
    assert.match(sink.rejected[0]!.reason, /5 cells but the header has 4/);
    const everything = JSON.stringify({ rejected: sink.rejected, logs: logLines });
    for (const pin of pins) assert.ok(!everything.includes(pin), `PIN ${pin} leaked`);
  });

  test('a file without a header is refused without quoting its first row', async () => {
    const pin = '83716204';
    const sink = new RecordingSink();
    logLines.length = 0;
    await assert.rejects(watcher().ingest(await drop(`9101,Jones,Ops,${pin}\r\n9102,Kim,Ops,27064915\r\n`), sink, never), (error: unknown) => {
      assert.ok(isRollcallError(error, 'ROLLCALL_ERR_IMPORT_REFUSED'), String(error));
      assert.match(error.message, /names no column rollcall knows \(4 cells, not shown/);
      for (const cell of ['9101', 'Jones', 'Ops', pin]) assert.ok(!JSON.stringify({ message: error.message, detail: error.detail }).includes(cell), `${cell} quoted`);
      return true;
    });
    assert.equal(sink.header, undefined);
    assert.ok(!logLines.join('').includes(pin));
  });

  test('ignored columns are listed in the report notes by header name', async () => {
    const sink = new RecordingSink();
    await watcher().ingest(await drop('user_id,Shoe Size,name,photo,Hat\n1,44,Kim,x.jpg,L\n'), sink, never);
    assert.equal(sink.records.length, 1);
    assert.deepEqual(sink.notes, [
      'columns 2 "Shoe Size", 5 "Hat" not imported: not a field rollcall reads; list it in watchers.csv.customFields to keep it as a custom field, or remap it',
      'column 4 "photo" not imported: photos are not imported from CSV',
    ]);
  });

  test('the kept copy blanks misaligned rows but the user ID, and a file without a header is not kept', async () => {
    const w = watcher();
    const misaligned = await drop(['user_id,name,pin', '1,Kim,11112222', '2,Smith, John,33334444', '3,55556666', ''].join('\r\n'));
    const kept = join(dir, 'kept-misaligned.csv');
    assert.equal(await w.redactedCopy(misaligned.path, kept), 'redacted');
    assert.equal(await readFile(kept, 'utf8'), '\uFEFFuser_id,name,pin\r\n1,Kim,\r\n2,,,\r\n,\r\n');
    const headerless = await drop('9101,Jones,Ops,83716204\r\n');
    const notKept = join(dir, 'kept-headerless.csv');
    assert.equal(await w.redactedCopy(headerless.path, notKept), 'withheld');
    await assert.rejects(stat(notKept), { code: 'ENOENT' });
    // A recognised header without a PIN column is kept as dropped.
    assert.equal(await w.redactedCopy((await drop('user_id,name\r\n1,Kim\r\n')).path, join(dir, 'unused.csv')), 'as-dropped');
  });

  test('the copy written while the file is read is the redactedCopy, resumed or not, and none is written without a PIN column', async () => {
    const w = watcher();
    // Broken rows (left out of the copy), misaligned rows, quoted cells, several read chunks.
    const lines = ['user_id,name,pin,department'];
    for (let i = 1; i <= 30_000; i++) {
      if (i % 997 === 0) lines.push(`${i},Smith, John,${10_000_000 + i},Ops`);
      else if (i % 1_501 === 0) lines.push(`${i},Bad "quote,${10_000_000 + i},Ops`);
      else lines.push(`${i},"Kim, ${i}",${10_000_000 + i},Ops`);
    }
    const file = await drop(`\uFEFF${lines.join('\r\n')}\r\n`);
    const expected = join(dir, 'kept-expected.csv');
    assert.equal(await w.redactedCopy(file.path, expected), 'redacted');
    const want = await readFile(expected, 'utf8');
    assert.ok(!want.includes('10000001'));
    for (const resumeFrom of [0, 12_345]) {
      const keptCopy = join(dir, `kept-in-pass-${resumeFrom}.csv`);
      const sink = new RecordingSink(resumeFrom);
      await w.ingest({ ...file, keptCopy }, sink, never);
      assert.equal(await readFile(keptCopy, 'utf8'), want, `resumeFrom ${resumeFrom}`);
      await assert.rejects(stat(`${keptCopy}.partial`), { code: 'ENOENT' });
    }
    const plain = await drop('user_id,name\r\n1,Kim\r\n');
    const none = join(dir, 'kept-none.csv');
    await w.ingest({ ...plain, keptCopy: none }, new RecordingSink(), never);
    await assert.rejects(stat(none), { code: 'ENOENT' });
  });

  test('a refused file leaves no kept copy behind', async () => {
    const w = watcher();
    const file = await drop(Buffer.concat([Buffer.from('user_id,name,pin\r\n1,Kim,11112222\r\n'), Buffer.from([0x32, 0x2c, 0xff, 0x2c, 0x31, 0x0d, 0x0a])]));
    const keptCopy = join(dir, 'kept-refused.csv');
    await assert.rejects(w.ingest({ ...file, keptCopy }, new RecordingSink(), never), (error: unknown) => isRollcallError(error) && /byte offset 36 \(line 3\)/.test(error.message));
    await assert.rejects(stat(keptCopy), { code: 'ENOENT' });
    await assert.rejects(stat(`${keptCopy}.partial`), { code: 'ENOENT' });
  });

  test('the scan handed over by the host stands for the encoding check: a refusal it found is thrown before any row', async () => {
    const w = watcher();
    const file = await drop('user_id,name\r\n1,Kim\r\n');
    const scanner = w.scanner();
    scanner.push(await readFile(file.path));
    const sink = new RecordingSink();
    await w.ingest({ ...file, scan: { ok: true, value: scanner.end() } }, sink, never);
    assert.deepEqual(sink.records.map((r) => r.patch.id), ['1']);
    const refusal = new Error('refused by the scan');
    const refusedSink = new RecordingSink();
    await assert.rejects(w.ingest({ ...file, scan: { ok: false, error: refusal } }, refusedSink, never), (error: unknown) => error === refusal);
    assert.deepEqual(refusedSink.calls, []);
  });

  test('an export written by the watcher imports back into the same users', async () => {
    const users: User[] = [
      { ...emptyUser('1'), name: '=cmd', phone: '+31 20', startTime: 1_700_000_000, endTime: 1_800_000_000, cards: [{ type: CardType.CSN, data: csnToCardData(77n) }], custom: { Remarks: 'a, "b"' } },
      { ...emptyUser('2'), name: 'Kim\nLee', pinHash: Buffer.alloc(32, 5).toString('base64') },
    ];
    const w = watcher({ timeZone: 'Europe/Amsterdam', customFields: ['Remarks'] });
    const path = join(dir, 'export.csv');
    const summary = await w.exportUsers(Readable.from(users), createWriteStream(path));
    assert.deepEqual(summary, { users: 2 });
    const sink = new RecordingSink();
    await w.ingest({ path, name: 'export.csv', size: (await stat(path)).size }, sink, never);
    assert.deepEqual(sink.rejected, []);
    const [one, two] = sink.records.map((r) => r.patch);
    assert.deepEqual(one!.values, {
      name: '=cmd',
      phone: '+31 20',
      startTime: 1_700_000_000,
      endTime: 1_800_000_000,
      cards: [{ type: CardType.CSN, data: csnToCardData(77n) }],
      custom: { Remarks: 'a, "b"' },
    });
    assert.equal(two!.values.name, 'Kim Lee');
    assert.equal(two!.pin, undefined);
  });
});
