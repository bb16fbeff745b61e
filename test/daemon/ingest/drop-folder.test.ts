import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { isRollcallError } from '../../../daemon/errors.js';
import { createHash } from 'node:crypto';
import { startRecord } from '../../../daemon/ingest/ledger.js';
import { dayFolder } from '../../../daemon/ingest/names.js';
import { RejectJournal } from '../../../daemon/ingest/reject-journal.js';
import { tempLevelStore } from '../../helpers/stores.js';
import type { ImportProgress } from '../../../daemon/ingest/types.js';
import { CardType, emptyUser, type User } from '../../../daemon/model/user.js';
import { csnToCardData } from '../../../plugins/watchers/csv/csn.js';
import { SpoolHarness, testHashPin, until } from '../../helpers/ingest-spool.js';

function csv(lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

function user(id: string, extra: Partial<User> = {}): User {
  return { ...emptyUser(id), name: `User ${id}`, ...extra };
}

async function put(h: SpoolHarness, ...users: User[]): Promise<void> {
  await h.store.commit(users.map((u) => ({ type: 'putUser' as const, user: u, origin: { kind: 'server' as const } })));
}

async function tarGz(entries: { name: string; body: string }[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const collected = new Promise<void>((resolve) => {
    archive.on('data', (chunk: unknown) => void chunks.push(chunk as Buffer));
    archive.on('end', resolve);
  });
  for (const entry of entries) archive.entry({ name: entry.name }, entry.body);
  archive.finalize();
  await collected;
  return gzipSync(Buffer.concat(chunks));
}

describe('drop folder', () => {
  test('a dropped CSV becomes users, and the file moves to done/YYYY-MM-DD with its report', async () => {
    const h = await SpoolHarness.start();
    try {
      await h.drop('staff.csv', csv(['user_id,name,department', '101,Ana Silva,Sales', '102,Bo Chen,R&D']));
      const [report] = await h.reportsAtLeast(1);
      assert.equal(report!.state, 'done');
      assert.equal(report!.format, 'csv');
      assert.deepEqual(report!.rows, { imported: 2, unchanged: 0, failed: 0 });
      const day = dayFolder(new Date(report!.finishedAt));
      assert.equal(report!.path, `done/${day}/staff.csv`);
      assert.equal(report!.reportJson, `done/${day}/staff.csv.report.json`);
      assert.equal(report!.errorsCsv, undefined);
      assert.deepEqual(await h.files(), [`done/${day}/staff.csv`, `done/${day}/staff.csv.report.json`]);
      assert.deepEqual(JSON.parse(await h.read(report!.reportJson!)), report);
      const ana = await h.store.getUser('101');
      assert.equal(ana?.name, 'Ana Silva');
      assert.equal(ana?.department, 'Sales');
      assert.equal((await h.store.getUser('102'))?.department, 'R&D');
      const ledger = await h.store.getImport(report!.hash);
      assert.deepEqual([ledger?.state, ledger?.checkpoint, ledger?.file], ['done', 2, 'staff.csv']);
      const changes = await h.store.changesSince(0);
      assert.deepEqual(changes.map((c) => c.origin), [
        { kind: 'import', file: 'staff.csv', format: 'csv' },
        { kind: 'import', file: 'staff.csv', format: 'csv' },
      ]);
      const events = await h.store.queryEvents({ kind: 'import.' });
      assert.deepEqual(events.map((e) => [e.kind, e.message]), [['import.done', 'Import of staff.csv: 2 imported, 0 unchanged, 0 failed']]);
      const rows = await h.metrics.registry.getSingleMetric('rollcall_import_rows_total')!.get();
      // Series of every known label value exist from the start, at 0 (daemon/obs/metrics.ts).
      assert.deepEqual(rows.values.filter((v) => v.value !== 0).map((v) => [v.labels, v.value]), [[{ format: 'csv', result: 'imported' }, 2]]);
      const files = await h.metrics.registry.getSingleMetric('rollcall_import_files_total')!.get();
      assert.deepEqual(files.values.filter((v) => v.value !== 0).map((v) => [v.labels, v.value]), [[{ format: 'csv', result: 'done' }, 1]]);
      const duration = await h.metrics.registry.getSingleMetric('rollcall_import_duration_seconds')!.get();
      assert.ok(duration.values.some((v) => (v as { metricName?: string }).metricName === 'rollcall_import_duration_seconds_count' && v.value === 1));
    } finally {
      await h.stop();
    }
  });

  test('failed rows go to NAME.errors.csv as they were, with Error_Description and their line', async () => {
    const h = await SpoolHarness.start();
    try {
      await h.drop(
        'mixed.csv',
        csv([
          'user_id,name,email,pin',
          '201,Good One,one@example.com,',
          '202,Bad Mail,not-a-mail,',
          'A203,Letters In Id,a@example.com,',
          '204,"=HYPERLINK(""http://x"")",bad,5829',
          '205,Good Two,two@example.com,4821',
        ]),
      );
      const [report] = await h.reportsAtLeast(1);
      assert.equal(report!.state, 'done');
      assert.deepEqual(report!.rows, { imported: 2, unchanged: 0, failed: 3 });
      const day = dayFolder(new Date(report!.finishedAt));
      assert.equal(report!.errorsCsv, `done/${day}/mixed.csv.errors.csv`);
      const bytes = await readFile(h.path(report!.errorsCsv!));
      assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
      const lines = bytes.subarray(3).toString('utf8').split('\r\n');
      assert.equal(lines[0], 'user_id,name,email,pin,Error_Description,Row');
      // Row order is file order, whether the watcher or the host refused the row.
      assert.equal(lines[1], '202,Bad Mail,not-a-mail,,"email: ""not-a-mail"" is not an email address",3');
      assert.match(lines[2]!, /^A203,Letters In Id,a@example\.com,,id: the user ID must be a number.*,4$/);
      // The formula is defused, the PIN cell is blank.
      assert.match(lines[3]!, /^204,"'=HYPERLINK\(""http:\/\/x""\)",bad,,"email: .*",5$/);
      assert.deepEqual(lines.slice(4), ['']);
      assert.doesNotMatch(bytes.toString('utf8'), /5829/);
      assert.equal((await h.store.getUser('201'))?.email, 'one@example.com');
      assert.equal((await h.store.getUser('205'))?.pinHash, await testHashPin('4821'));
      assert.equal(await h.store.getUser('202'), undefined);
      assert.equal(await h.store.countUsers(), 2);
    } finally {
      await h.stop();
    }
  });

  test('the same content dropped again is a duplicate: reported, moved to done/, nothing applied', async () => {
    const h = await SpoolHarness.start();
    try {
      const content = csv(['user_id,name', '301,First Import']);
      await h.drop('first.csv', content);
      const [first] = await h.reportsAtLeast(1);
      const seq = h.store.currentSeq();
      await put(h, user('301', { name: 'Changed Since' }));
      await h.drop('again.csv', content);
      const [, again] = await h.reportsAtLeast(2);
      assert.equal(again!.state, 'duplicate');
      assert.equal(again!.hash, first!.hash);
      assert.match(again!.reason!, /the same content was imported on .* as first\.csv; nothing was applied/);
      assert.deepEqual(again!.rows, { imported: 0, unchanged: 0, failed: 0 });
      assert.equal(h.store.currentSeq(), seq + 1, 'only the server change committed');
      assert.equal((await h.store.getUser('301'))?.name, 'Changed Since');
      const day = dayFolder(new Date(again!.finishedAt));
      assert.ok((await h.files()).includes(`done/${day}/again.csv`));
      assert.deepEqual(JSON.parse(await h.read(again!.reportJson!)).state, 'duplicate');
      const kinds = (await h.store.queryEvents({ kind: 'import.' })).map((e) => e.kind);
      assert.deepEqual(kinds, ['import.done', 'import.duplicate']);
    } finally {
      await h.stop();
    }
  });

  test('a refused file goes to failed/ with its report, and the next file is imported', async () => {
    const h = await SpoolHarness.start();
    try {
      // Windows-1252 "Müller": not UTF-8.
      await h.drop('legacy.csv', Buffer.concat([Buffer.from('user_id,name\r\n401,M'), Buffer.from([0xfc]), Buffer.from('ller\r\n')]));
      const [refused] = await h.reportsAtLeast(1);
      await h.drop('next.csv', csv(['user_id,name', '402,Next One']));
      const [, next] = await h.reportsAtLeast(2);
      assert.equal(refused!.state, 'failed');
      assert.match(refused!.reason!, /^ROLLCALL_ERR_IMPORT_REFUSED: .*UTF-8/);
      assert.equal(refused!.path, 'failed/legacy.csv');
      assert.equal(refused!.reportJson, 'failed/legacy.csv.report.json');
      assert.equal(refused!.errorsCsv, undefined);
      assert.equal((await h.store.getImport(refused!.hash))?.state, 'failed');
      assert.equal(await h.store.getUser('401'), undefined);
      assert.equal(next!.state, 'done');
      assert.equal((await h.store.getUser('402'))?.name, 'Next One');
      const files = await h.files();
      assert.ok(files.includes('failed/legacy.csv') && files.includes('failed/legacy.csv.report.json'), files.join(' '));
      assert.deepEqual(files.filter((f) => f.startsWith('processing/') || f.startsWith('incoming/')), []);
      const failed = await h.store.queryEvents({ kind: 'import.failed' });
      assert.match(failed[0]!.message, /^Import of legacy\.csv failed: ROLLCALL_ERR_IMPORT_REFUSED/);
    } finally {
      await h.stop();
    }
  });

  test('an unreadable file that names a PIN column is not kept (its PINs cannot be blanked); the report says so', async () => {
    const h = await SpoolHarness.start();
    try {
      const pin = '86420975';
      // Not UTF-8 in the first row (refused before any row is read) and further down (after a readable header).
      await h.drop('early.csv', Buffer.concat([Buffer.from(`user_id,name,PIN\r\n501,M`), Buffer.from([0xfc]), Buffer.from(`ller,${pin}\r\n`)]));
      await h.drop('late.csv', Buffer.concat([Buffer.from(`user_id,name,pin\r\n`), Buffer.from(Array.from({ length: 3000 }, (_, i) => `${600 + i},Fine,${pin}\r\n`).join('')), Buffer.from([0xff, 0xfe]), Buffer.from('\r\n')]));
      // UTF-16 without a byte order mark is not read either; its PIN column is still seen.
      await h.drop('wide.csv', Buffer.concat([Buffer.from('user_id,name,pin\r\n1,A,', 'utf16le'), Buffer.from([0x00, 0xd8]), Buffer.from(`${pin}\r\n`, 'utf16le')]));
      const reports = await h.reportsAtLeast(3);
      for (const report of reports) {
        assert.equal(report.state, 'failed', report.file);
        assert.equal(report.path, undefined, `${report.file}: no path, the file was not kept`);
        assert.ok(report.notes.some((n) => /may hold plaintext PINs, so it was not kept/.test(n)), `${report.file}: ${report.notes.join('; ')}`);
      }
      const files = await h.files();
      assert.deepEqual(files.filter((f) => !f.endsWith('.report.json')), [], files.join(' '));
      for (const f of files) {
        const bytes = await readFile(join(h.spoolDir, f));
        for (const needle of [Buffer.from(pin), Buffer.from(pin, 'utf16le')]) assert.ok(!bytes.includes(needle), `${f} holds the PIN`);
      }
    } finally {
      await h.stop();
    }
  });

  test('a hostile data file is refused whole and the folder goes on', async () => {
    const h = await SpoolHarness.start({ datafile: {} });
    try {
      await h.drop('rollcall_20250101_000000.tgz', await tarGz([{ name: '../../etc/cron.d/evil', body: '* * * * * root sh\n' }]));
      await h.drop('rollcall_20250101_000001.tgz', Buffer.from('this is not gzip at all'));
      const reports = await h.reportsAtLeast(2);
      const hostile = reports.find((r) => r.file === 'rollcall_20250101_000000.tgz')!;
      const garbage = reports.find((r) => r.file === 'rollcall_20250101_000001.tgz')!;
      assert.equal(hostile.state, 'failed');
      assert.equal(hostile.format, 'datafile');
      assert.match(hostile.reason!, /^ROLLCALL_ERR_ARCHIVE_HOSTILE: /);
      assert.equal(garbage.state, 'failed');
      assert.match(garbage.reason!, /^ROLLCALL_ERR_IMPORT_REFUSED: /);
      await h.drop('after.csv', csv(['user_id,name', '501,After']));
      await h.reportsAtLeast(3);
      assert.equal((await h.store.getUser('501'))?.name, 'After');
      const files = await h.files();
      assert.ok(files.includes('failed/rollcall_20250101_000000.tgz'));
      assert.ok(files.includes('failed/rollcall_20250101_000000.tgz.report.json'));
      assert.ok(!files.some((f) => f.includes('evil')));
    } finally {
      await h.stop();
    }
  });

  test('a file still being written is not taken until its size has been stable', async () => {
    const h = await SpoolHarness.start({ stableMs: 1500 });
    try {
      const path = h.path('incoming', 'growing.csv');
      await writeFile(path, 'user_id,name\r\n');
      // Written straight into incoming/ in pieces, as a slow copy would.
      for (let i = 1; i <= 25; i++) {
        await appendFile(path, `${600 + i},Slow ${i}\r\n`);
        await new Promise((resolve) => setTimeout(resolve, 80));
        assert.equal(h.reports.length, 0, `taken while still growing (after piece ${i})`);
      }
      const [report] = await h.reportsAtLeast(1);
      assert.deepEqual(report!.rows, { imported: 25, unchanged: 0, failed: 0 }, 'the whole file was taken at once');
    } finally {
      await h.stop();
    }
  });

  test('files already in incoming/ at start are imported, oldest first; a crash\'s leftovers are tidied', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'rollcall-spool-'));
    try {
      await mkdir(join(spoolDir, 'incoming'), { recursive: true });
      await mkdir(join(spoolDir, 'processing'), { recursive: true });
      await writeFile(join(spoolDir, 'incoming', 'a.csv'), csv(['user_id,name', '701,Newer']));
      await writeFile(join(spoolDir, 'incoming', 'b.csv'), csv(['user_id,name', '702,Older']));
      await utimes(join(spoolDir, 'incoming', 'b.csv'), new Date(2020, 0, 1), new Date(2020, 0, 1));
      await writeFile(join(spoolDir, 'processing', '.tmp-0123ab-report.json'), '{"half":');
      await writeFile(join(spoolDir, 'processing', `.${'e'.repeat(64)}.rejects.jsonl`), '');
      const h = await SpoolHarness.start({ spoolDir });
      try {
        const reports = await h.reportsAtLeast(2);
        assert.deepEqual(reports.map((r) => r.file), ['b.csv', 'a.csv']);
        assert.equal((await h.store.getUser('701'))?.name, 'Newer');
        assert.deepEqual(await readdir(join(spoolDir, 'processing')), [], 'leftover temporary file and orphan journal removed');
      } finally {
        await h.stop();
      }
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
  });

  test('a file whose end was committed before a crash is finished, not taken for a duplicate', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'rollcall-spool-'));
    const stored = await tempLevelStore();
    try {
      // The state a crash leaves between the last commit and the move: the file and its
      // journal in processing/, the ledger saying done.
      const content = csv(['user_id,name,email', '1601,Fine,f@example.com', '1602,Broken,nope']);
      const hash = createHash('sha256').update(content).digest('hex');
      await mkdir(join(spoolDir, 'processing'), { recursive: true });
      await writeFile(join(spoolDir, 'processing', 'cut.csv'), content);
      const journal = new RejectJournal(join(spoolDir, 'processing', `.${hash}.rejects.jsonl`));
      await journal.create();
      journal.header(['user_id', 'name', 'email']);
      journal.append([{ row: 3, raw: ['1602', 'Broken', 'nope'], reason: 'email: "nope" is not an email address' }]);
      await journal.flush();
      await journal.close();
      await stored.store.commit([
        { type: 'putUser', user: user('1601', { name: 'Fine', email: 'f@example.com' }), origin: { kind: 'import', file: 'cut.csv', format: 'csv' } },
        {
          type: 'putImport',
          record: { ...startRecord(hash, 'cut.csv', 'csv', Date.now() - 1000), state: 'done', finishedAt: Date.now(), checkpoint: 2, counts: { ok: 1, failed: 1, skipped: 0 } },
        },
      ]);
      const seq = stored.store.currentSeq();
      const h = await SpoolHarness.start({ spoolDir, stored });
      try {
        const [report] = await h.reportsAtLeast(1);
        assert.equal(report!.state, 'done');
        assert.deepEqual(report!.rows, { imported: 1, unchanged: 0, failed: 1 });
        assert.match(await h.read(report!.errorsCsv!), /1602,Broken,nope,"email: ""nope"" is not an email address",3/);
        assert.equal(stored.store.currentSeq(), seq, 'nothing applied again');
        assert.deepEqual(await readdir(join(spoolDir, 'processing')), []);
      } finally {
        await h.folder.stop();
      }
    } finally {
      await stored.cleanup();
      await rm(spoolDir, { recursive: true, force: true });
    }
  });

  test('a file dropped under the name of the one being imported is a new drop', async () => {
    const h = await SpoolHarness.start({ csv: { batchSize: 100 } });
    try {
      const lines = ['user_id,name'];
      for (let i = 1; i <= 3000; i++) lines.push(`${20_000 + i},First ${i}`);
      await h.drop('export.csv', csv(lines));
      await until('the first file is being imported', () => h.folder.status().current?.file === 'export.csv');
      await h.drop('export.csv', csv(['user_id,name', '29999,Second']));
      const [first, second] = await h.reportsAtLeast(2);
      assert.deepEqual([first!.rows.imported, second!.rows.imported], [3000, 1]);
      const day = dayFolder(new Date(second!.finishedAt));
      assert.equal(second!.path, `done/${day}/export_2.csv`);
      assert.equal(second!.reportJson, `done/${day}/export_2.csv.report.json`);
      assert.equal((await h.store.getUser('29999'))?.name, 'Second');
    } finally {
      await h.stop();
    }
  });

  test('names no watcher takes, hidden and temporary names stay in incoming/', async () => {
    const h = await SpoolHarness.start();
    try {
      await writeFile(h.path('incoming', 'notes.txt'), 'hello');
      await writeFile(h.path('incoming', '.hidden.csv'), 'user_id\r\n801\r\n');
      await writeFile(h.path('incoming', 'copying.csv.partial'), 'user_id\r\n802\r\n');
      await h.drop('real.csv', csv(['user_id', '803']));
      await h.reportsAtLeast(1);
      assert.deepEqual((await readdir(h.path('incoming'))).sort(), ['.hidden.csv', 'copying.csv.partial', 'notes.txt']);
      assert.equal(await h.store.countUsers(), 1);
      assert.ok(h.logLines.some((line) => line.includes('no running watcher takes this file') && line.includes('notes.txt')));
    } finally {
      await h.stop();
    }
  });

  test('preserve leaves existing users alone; overwrite replaces mapped fields, and a blank never wipes a card', async () => {
    const card = { type: CardType.CSN, data: csnToCardData(777n) };
    const file = csv(['user_id,name,department,csn', '901,New Name,,', '902,Brand New,Ops,123']);
    const preserve = await SpoolHarness.start({ csv: { mode: 'preserve' } });
    try {
      await put(preserve, user('901', { name: 'Old Name', department: 'Sales', cards: [card] }));
      await preserve.drop('p.csv', file);
      const [report] = await preserve.reportsAtLeast(1);
      assert.deepEqual(report!.rows, { imported: 1, unchanged: 1, failed: 0 });
      assert.equal((await preserve.store.getUser('901'))?.name, 'Old Name');
    } finally {
      await preserve.stop();
    }
    const overwrite = await SpoolHarness.start({ csv: { mode: 'overwrite' } });
    try {
      await put(overwrite, user('901', { name: 'Old Name', department: 'Sales', cards: [card] }));
      await overwrite.drop('o.csv', file);
      const [report] = await overwrite.reportsAtLeast(1);
      assert.deepEqual(report!.rows, { imported: 2, unchanged: 0, failed: 0 });
      const updated = await overwrite.store.getUser('901');
      assert.equal(updated?.name, 'New Name');
      assert.equal(updated?.department, 'Sales', 'a blank cell clears nothing without blankClears');
      assert.deepEqual(updated?.cards, [card], 'a blank csn keeps the card');
      // The same file again, after another change: a duplicate, not a second overwrite.
      await overwrite.drop('o-again.csv', file);
      const [, again] = await overwrite.reportsAtLeast(2);
      assert.equal(again!.state, 'duplicate');
    } finally {
      await overwrite.stop();
    }
  });

  test('importFile copies into incoming/ under a free name, reports progress and resolves with the report', async () => {
    const h = await SpoolHarness.start({ stableMs: 60_000, csv: { batchSize: 2 } });
    const outside = await mkdtemp(join(tmpdir(), 'rollcall-outside-'));
    try {
      const source = join(outside, 'req.csv');
      await writeFile(source, csv(['user_id,name', '1001,A', '1002,B', '1003,C', 'x,Bad']));
      // A file of the same name is settling in incoming/ (stableMs is long): the request gets another name.
      await writeFile(h.path('incoming', 'req.csv'), csv(['user_id,name', '1009,Waiting']));
      await until('req.csv is seen', () => h.folder.status().settling.includes('req.csv'));
      const progress: ImportProgress[] = [];
      const report = await h.folder.importFile(source, { onProgress: (p) => progress.push(p) });
      assert.equal(report.file, 'req_2.csv');
      assert.equal(report.state, 'done');
      assert.deepEqual(report.rows, { imported: 3, unchanged: 0, failed: 1 });
      assert.deepEqual(progress.map((p) => p.handled), [2, 4]);
      assert.deepEqual(progress.at(-1)!.rows, { imported: 3, unchanged: 0, failed: 1 });
      assert.equal(await readFile(source, 'utf8'), csv(['user_id,name', '1001,A', '1002,B', '1003,C', 'x,Bad']), 'the source is left alone');
      assert.deepEqual(await readdir(h.path('incoming')), ['req.csv']);
      await assert.rejects(h.folder.importFile(join(outside, 'notes.txt')), (error) => isRollcallError(error, 'ROLLCALL_ERR_ADMIN_REQUEST') && /no watcher takes/.test(error.message));
    } finally {
      await h.stop();
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('a PIN the gateway cannot hash fails its row with the reason, never with the PIN', async () => {
    const h = await SpoolHarness.start({
      hashPin: async (pin) => {
        throw new Error(`gateway unavailable while hashing ${pin}`);
      },
    });
    try {
      await h.drop('pins.csv', csv(['user_id,name,pin', '1101,No Pin,', '1102,With Pin,739164']));
      const [report] = await h.reportsAtLeast(1);
      assert.deepEqual(report!.rows, { imported: 1, unchanged: 0, failed: 1 });
      const errors = await h.read(report!.errorsCsv!);
      assert.match(errors, /1102,With Pin,,pin: the gateway could not hash the PIN \(gateway unavailable while hashing \[PIN\]\); the row was not imported,3/);
      assert.doesNotMatch(errors, /739164/);
      assert.doesNotMatch(JSON.stringify(report), /739164/);
      assert.doesNotMatch(h.logLines.join('\n'), /739164/);
      assert.equal(await h.store.getUser('1102'), undefined);
      assert.ok(report!.notes.some((n) => /1 row failed because the gateway would not hash its PIN.*dropping the same file again imports/.test(n)), JSON.stringify(report!.notes));
      // Not the file's fault: the same content dropped again is imported again, not skipped as a duplicate.
      await h.drop('pins-again.csv', csv(['user_id,name,pin', '1101,No Pin,', '1102,With Pin,739164']));
      const [, again] = await h.reportsAtLeast(2);
      assert.equal(again!.state, 'done');
      assert.deepEqual(again!.rows, { imported: 0, unchanged: 1, failed: 1 });
    } finally {
      await h.stop();
    }
  });

  test('the same PIN file dropped again after a switch to a gateway of another hash scheme is imported again and its PINs hashed again', async () => {
    let scheme = 'aaaa000000000001';
    const hashPin = async (pin: string) => ({ hash: await testHashPin(`${scheme}:${pin}`), scheme });
    const h = await SpoolHarness.start({ hashPin, pinHashScheme: async () => scheme });
    try {
      const content = csv(['user_id,name,pin', '1201,Pin One,482913', '1202,No Pin,']);
      await h.drop('pins.csv', content);
      const [first] = await h.reportsAtLeast(1);
      assert.deepEqual(first!.rows, { imported: 2, unchanged: 0, failed: 0 }, first!.errorsCsv ? await h.read(first!.errorsCsv) : '');
      const before = await h.store.getUser('1201');
      assert.equal(before?.pinHashScheme, 'aaaa000000000001');

      // Same gateway: a duplicate, nothing applied.
      await h.drop('pins-again.csv', content);
      const [, same] = await h.reportsAtLeast(2);
      assert.equal(same!.state, 'duplicate');

      // Another gateway: imported again, the PIN hashed by it; the PIN itself is nowhere.
      scheme = 'bbbb000000000002';
      await h.drop('pins-after-switch.csv', content);
      const [, , again] = await h.reportsAtLeast(3);
      assert.equal(again!.state, 'done');
      assert.deepEqual(again!.rows, { imported: 1, unchanged: 1, failed: 0 });
      assert.ok(again!.notes.some((n) => /its PINs are hashed again/.test(n)), JSON.stringify(again!.notes));
      const after = await h.store.getUser('1201');
      assert.equal(after?.pinHashScheme, 'bbbb000000000002');
      assert.equal(after?.pinHash, await testHashPin('bbbb000000000002:482913'));
      assert.notEqual(after?.pinHash, before?.pinHash);
      assert.doesNotMatch(h.logLines.join('\n') + JSON.stringify(h.reports), /482913/);
    } finally {
      await h.stop();
    }
  });

  test('stop() interrupts an import at a checkpoint; the next start resumes it with every row once', async () => {
    const rows = 20_000;
    const lines = ['user_id,name'];
    for (let i = 1; i <= rows; i++) lines.push(`${10_000 + i},Row ${i}${i % 1000 === 0 ? ',extra' : ''}`);
    let h = await SpoolHarness.start({ csv: { batchSize: 250 } });
    const { stored, spoolDir } = h;
    try {
      const first = h;
      await first.drop('resume.csv', csv(lines));
      await until('a few checkpoints', () => first.folder.status().current?.progress !== undefined && first.folder.status().current!.progress!.handled >= 2000);
      await first.folder.stop();
      assert.equal(first.reports.length, 0);
      assert.deepEqual(await readdir(join(spoolDir, 'processing')).then((names) => names.filter((n) => !n.startsWith('.'))), ['resume.csv']);
      const [running] = await stored.store.listImports({ state: 'running' });
      assert.ok(running && running.checkpoint >= 2000 && running.checkpoint < rows, `checkpoint ${running?.checkpoint}`);
      const bad = Math.floor(running.checkpoint / 1000);
      assert.equal(await stored.store.countUsers(), running.checkpoint - bad);

      h = await SpoolHarness.start({ csv: { batchSize: 250 }, stored, spoolDir });
      // A wait, not a timing: 18,000 rows on a loaded shared machine can outlast the default 20 s.
      const [report] = await h.reportsAtLeast(1, 120_000);
      assert.deepEqual(report!.rows, { imported: rows - 20, unchanged: 0, failed: 20 });
      assert.equal(stored.store.currentSeq(), rows - 20, 'no row committed twice');
      const errorRows = (await h.read(report!.errorsCsv!)).split('\r\n').slice(1, -1).map((line) => line.split(',').at(-1));
      assert.deepEqual(errorRows, Array.from({ length: 20 }, (_, k) => String((k + 1) * 1000 + 1)));
      assert.deepEqual(await readdir(join(spoolDir, 'processing')), []);
    } finally {
      await h.folder.stop();
      await stored.cleanup();
      await rm(spoolDir, { recursive: true, force: true });
    }
  });
});

describe('the kept copy of a file with PINs', () => {
  test('is written in the import pass: whole after a stop and a resume, no PIN in it, nothing left in processing/', async () => {
    const rows = 20_000;
    const lines = ['user_id,name,pin'];
    for (let i = 1; i <= rows; i++) lines.push(`${10_000 + i},Row ${i},${700_000 + i}`);
    let h = await SpoolHarness.start({ csv: { batchSize: 250 } });
    const { stored, spoolDir } = h;
    try {
      const first = h;
      await first.drop('pins.csv', csv(lines));
      await until('a few checkpoints', () => first.folder.status().current?.progress !== undefined && first.folder.status().current!.progress!.handled >= 2000);
      await first.folder.stop();
      assert.equal(first.reports.length, 0);

      h = await SpoolHarness.start({ csv: { batchSize: 250 }, stored, spoolDir });
      const [report] = await h.reportsAtLeast(1, 120_000);
      assert.deepEqual(report!.rows, { imported: rows, unchanged: 0, failed: 0 });
      const kept = await h.read(report!.path!);
      const expected = `\uFEFF${['user_id,name,pin', ...Array.from({ length: rows }, (_, k) => `${10_001 + k},Row ${k + 1},`)].join('\r\n')}\r\n`;
      assert.equal(kept, expected);
      assert.deepEqual(await readdir(join(spoolDir, 'processing')), []);
      assert.ok((await h.store.getUser('10001'))?.pinHash, 'the PIN was hashed and stored');
    } finally {
      await h.folder.stop();
      await stored.cleanup();
      await rm(spoolDir, { recursive: true, force: true });
    }
  });
});

describe('exports', () => {
  test('a CSV export lands in outgoing/ under its final name only, and imports back to the same users', async () => {
    const users = [
      user('1201', { name: 'Ana', department: 'Sales', phone: '+31 20 555', email: 'ana@example.com', cards: [{ type: CardType.CSN, data: csnToCardData(4242n) }] }),
      user('1202', { name: '=cmd|calc', startTime: 1_700_000_000, endTime: 1_800_000_000 }),
      user('1203', { name: 'Kim, "Jo"', userGroup: 'Staff', title: 'Lead' }),
    ];
    const source = await SpoolHarness.start();
    let exported: string;
    try {
      await put(source, ...users);
      const result = await source.folder.exportUsers('csv');
      assert.equal(result.users, 3);
      assert.equal(result.format, 'csv');
      assert.match(result.path, /outgoing\/rollcall_\d{8}_\d{6}\.csv$/);
      assert.deepEqual(await readdir(source.path('outgoing')), [result.path.split('/').at(-1)], 'no partial file left');
      exported = await readFile(result.path, 'utf8');
      assert.ok(exported.startsWith('\uFEFFuser_id,'));
      const events = await source.store.queryEvents({ kind: 'export.' });
      assert.match(events[0]!.message, /^Export of 3 users to rollcall_\d{8}_\d{6}\.csv$/);
      // Into a folder of the caller's, and to a file path.
      const elsewhere = await mkdtemp(join(tmpdir(), 'rollcall-out-'));
      try {
        const intoDir = await source.folder.exportUsers('csv', { out: elsewhere });
        assert.match(intoDir.path, /rollcall_\d{8}_\d{6}\.csv$/);
        const toFile = await source.folder.exportUsers('csv', { out: join(elsewhere, 'all-users.csv') });
        assert.equal(toFile.path, join(elsewhere, 'all-users.csv'));
        assert.equal(await readFile(toFile.path, 'utf8'), exported);
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
      await assert.rejects(source.folder.exportUsers('xml'), (error) => isRollcallError(error, 'ROLLCALL_ERR_ADMIN_REQUEST'));
    } finally {
      await source.stop();
    }
    const target = await SpoolHarness.start();
    try {
      await target.drop('back.csv', exported);
      const [report] = await target.reportsAtLeast(1);
      assert.deepEqual(report!.rows, { imported: 3, unchanged: 0, failed: 0 });
      for (const expected of users) assert.deepEqual(await target.store.getUser(expected.id), expected);
    } finally {
      await target.stop();
    }
  });

  test('a data-file export imports back with every credential', async () => {
    const withCredentials = user('1301', {
      pinHash: await testHashPin('1234'),
      fingers: [{ index: 0, flag: 0, templates: [Buffer.alloc(384, 1).toString('base64'), Buffer.alloc(384, 2).toString('base64')] }],
      accessGroups: [1, 7],
      cards: [{ type: CardType.CSN, data: csnToCardData(99n) }],
    });
    const source = await SpoolHarness.start({ datafile: {} });
    let path: string;
    try {
      await put(source, withCredentials, user('1302'));
      const result = await source.folder.exportUsers('datafile');
      assert.match(result.path, /outgoing\/rollcall_\d{8}_\d{6}\.tgz$/);
      assert.equal(result.users, 2);
      path = result.path;
      const target = await SpoolHarness.start({ datafile: {} });
      try {
        const report = await target.folder.importFile(path);
        assert.equal(report.format, 'datafile');
        assert.deepEqual(report.rows, { imported: 2, unchanged: 0, failed: 0 });
        assert.deepEqual(await target.store.getUser('1301'), withCredentials);
      } finally {
        await target.stop();
      }
    } finally {
      await source.stop();
    }
  });

  test('a scheduled export writes to outgoing/ on its interval', async () => {
    const h = await SpoolHarness.start({ exports: [{ format: 'csv', schedule: '1s' }] });
    try {
      await put(h, user('1401'));
      assert.equal(h.folder.status().nextExports[0]?.format, 'csv');
      await until('a scheduled export', async () => (await readdir(h.path('outgoing'))).some((name) => /^rollcall_\d{8}_\d{6}(_\d+)?\.csv$/.test(name)));
      const [name] = (await readdir(h.path('outgoing'))).filter((n) => n.endsWith('.csv'));
      assert.match(await readFile(h.path('outgoing', name!), 'utf8'), /1401,User 1401/);
    } finally {
      await h.stop();
    }
  });

  test('a schedule that cannot be read is reported in health, and the rest runs', async () => {
    const h = await SpoolHarness.start({ exports: [{ format: 'csv', schedule: '0 0 31 2 *' }] });
    try {
      const health = h.folder.health();
      assert.equal(health.ok, true);
      assert.match(health.detail!, /csv export schedule: cron expression "0 0 31 2 \*" never fires/);
      assert.deepEqual(h.folder.status().nextExports, []);
    } finally {
      await h.stop();
    }
  });
});
