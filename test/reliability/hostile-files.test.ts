/**
 * Reliability suite 4b, hostile files: ≥ 10,000 fuzzed CSV files (fast-check) through the
 * CSV watcher, a sample of them and a set of hostile archives through the real drop folder
 * and store. Pass: every file ends with a clear outcome (rows, row errors or a refusal with
 * a stable code), nothing crashes, memory stays bounded, nothing is written outside the
 * spool, and a refused file changes nothing stored.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { isRollcallError } from '../../daemon/errors.js';
import type { IngestRecord, IngestRejection, IngestSink } from '../../daemon/plugins/api.js';
import { SpoolHarness, csvWatcherFor } from '../helpers/ingest-spool.js';
import { headerJson, recordLine, tarEntry, tgz, validEntries } from '../plugins/watchers/datafile/corpus.js';
import { gzipSync } from 'node:zlib';

/** `npm test` runs 2,000; `npm run test:reliability` sets ROLLCALL_FUZZ_CASES=20000 (scripts/test-reliability.mjs). */
const CASES = Number(process.env.ROLLCALL_FUZZ_CASES ?? 2_000);
const SEED = Number(process.env.ROLLCALL_FUZZ_SEED ?? 20261123);

const HEADERS = ['user_id', 'name', 'department', 'user_title', 'phone', 'email', 'user_group', 'start_datetime', 'expiry_datetime', 'csn', 'pin', 'Remarks', 'face_image_file1', '26 bit SIA Standard-H10301', 'Employee No'];
const CELLS = [
  '', '1', '0', '-1', '4294967295', '4294967296', '99999999999999999999999', 'abc', 'A-1_b', ' 42 ', '00042',
  'x'.repeat(300), '=cmd|" /C calc"!A0', '+SUM(1)', '@x', '"', '""', '"a,b"', 'a\nb', 'a\r\nb', '\uFEFF1',
  '\ud83d\ude00', '\u202eevil', 'é', '2025-01-01 00:00:00', '31/12/2030', '2030-02-30', '9999-99-99 99:99', '1.5e3',
  'NaN', 'null', 'true', 'a@b.c', 'not-an-email', '1234', '12', 'Lab', 'All Users', '../../etc/passwd', '%s%s%n',
];

/** A CSV made of plausible and hostile parts, or plain bytes. */
const csvFile = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)) },
  {
    weight: 9,
    arbitrary: fc
      .record({
        bom: fc.boolean(),
        delimiter: fc.constantFrom(',', ',', ',', ';', '\t', '|'),
        eol: fc.constantFrom('\n', '\r\n', '\r'),
        preamble: fc.array(fc.string({ maxLength: 20 }), { maxLength: 2 }),
        // Most files name a user_id column (else they are refused whole, which is a short path).
        withId: fc.integer({ min: 0, max: 9 }),
        header: fc.array(fc.oneof(fc.constantFrom(...HEADERS), fc.string({ maxLength: 12 })), { minLength: 0, maxLength: 8 }),
        rows: fc.array(fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CELLS) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 99999 }).map(String) }, { weight: 1, arbitrary: fc.string({ maxLength: 16 }) }), { maxLength: 9 }), { maxLength: 12 }),
        quoteAll: fc.boolean(),
        trailing: fc.constantFrom('', '\n', '"', ',,,'),
        // Rarely: the whole file in Latin-1, or a NUL byte in it (both refuse the file whole).
        poison: fc.integer({ min: 0, max: 19 }),
      })
      .map((c) => {
        const cell = (v: string) => (c.quoteAll || /[",;\t|\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
        const header = c.withId < 8 ? ['user_id', ...c.header.filter((h) => h !== 'user_id')] : c.header;
        if (c.withId < 6 && !header.includes('name')) header.splice(1, 0, 'name');
        const lines = [...(c.withId < 5 ? [] : c.preamble), header.map(cell).join(c.delimiter), ...c.rows.map((r) => r.map(cell).join(c.delimiter))];
        const text = `${c.bom ? '\uFEFF' : ''}${lines.join(c.eol)}${c.trailing}${c.poison === 0 ? '\u0000' : ''}`;
        return Buffer.from(text, c.poison === 1 ? 'latin1' : 'utf8');
      }),
  },
);

/** Collects what the watcher hands over; checks the contract of each call as it comes. */
class RecordingSink implements IngestSink {
  readonly resumeFrom = 0;
  header: string[] | undefined;
  records = 0;
  rejections = 0;
  readonly rows = new Set<number>();

  setHeader(header: string[]): void {
    assert.ok(Array.isArray(header));
    this.header = header;
  }

  async accept(records: IngestRecord[]): Promise<void> {
    for (const r of records) {
      assert.ok(Number.isInteger(r.row) && r.row >= 1, `row ${r.row}`);
      assert.equal(typeof r.patch.id, 'string');
      assert.ok(r.patch.id.length > 0, 'an accepted record has a user ID');
      assert.ok(!this.rows.has(r.row), `row ${r.row} handed twice`);
      this.rows.add(r.row);
      this.records++;
    }
  }

  reject(rejection: IngestRejection): void {
    assert.ok(Number.isInteger(rejection.row) && rejection.row >= 1, `rejected row ${rejection.row}`);
    assert.ok(rejection.reason.trim().length > 0, 'a rejection says why');
    this.rejections++;
  }

  note(message: string): void {
    assert.equal(typeof message, 'string');
  }
}

/** Every file and folder under `root`, relative, to show nothing was written beside the spool. */
async function tree(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).map(String).sort();
}

describe('reliability: hostile files', () => {
  test(`${CASES} fuzzed CSV files through the CSV watcher: a result or a refusal, never a crash, memory bounded`, { timeout: 600_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-fuzz-csv-'));
    const watcher = csvWatcherFor(pino({ level: 'silent' }));
    const figures = { cases: 0, refused: 0, records: 0, rejections: 0, bytes: 0 };
    const reasons = new Map<string, number>();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    try {
      await fc.assert(
        fc.asyncProperty(csvFile, async (bytes) => {
          const path = join(dir, 'case.csv');
          await writeFile(path, bytes);
          const sink = new RecordingSink();
          figures.cases++;
          figures.bytes += bytes.length;
          try {
            await watcher.ingest({ path, name: 'case.csv', size: bytes.length }, sink, new AbortController().signal);
          } catch (error) {
            // A refusal must be a RollcallError with a stable code and a message; anything else is a crash.
            assert.ok(isRollcallError(error), `not a refusal: ${error instanceof Error ? error.stack : String(error)}`);
            assert.ok(error.code.startsWith('ROLLCALL_ERR_') && error.message.length > 0);
            figures.refused++;
            const key = error.message.replace(/[0-9]+/g, 'N').slice(0, 60);
            reasons.set(key, (reasons.get(key) ?? 0) + 1);
          }
          figures.records += sink.records;
          figures.rejections += sink.rejections;
          if (figures.cases % 500 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        }),
        { numRuns: CASES, seed: SEED },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    const growthMb = (heapPeak - heapBefore) / 2 ** 20;
    console.log(
      `# hostile files: ${figures.cases} fuzzed CSV cases (seed ${SEED}), ${figures.bytes} bytes; ${figures.refused} refused, ` +
        `${figures.records} records, ${figures.rejections} row errors; heap growth ${growthMb.toFixed(1)} MiB`,
    );
    const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 6);
    console.log(`# hostile files: most common refusals: ${top.map(([m, n]) => `${n}× ${JSON.stringify(m)}`).join('; ')}`);
    assert.ok(figures.cases >= CASES);
    assert.ok(growthMb < 256, `heap grew by ${growthMb.toFixed(1)} MiB`);
  });

  test('a sample of fuzzed CSV files through the real drop folder: every file reported, refused files change nothing, nothing written outside the spool', { timeout: 300_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'rollcall-fuzz-drop-'));
    const spoolDir = join(root, 'spool');
    await mkdir(spoolDir);
    const h = await SpoolHarness.start({ spoolDir, stableMs: 50 });
    try {
      const samples = fc.sample(csvFile, { numRuns: 60, seed: SEED + 1 });
      let refused = 0;
      for (const [i, bytes] of samples.entries()) {
        const before = await h.store.countUsers();
        const seqBefore = h.store.currentSeq();
        await h.drop(`fuzz-${String(i).padStart(4, '0')}.csv`, bytes);
        const [report] = (await h.reportsAtLeast(i + 1)).slice(i);
        assert.ok(report, `file ${i} reported`);
        if (report.state === 'duplicate') {
          assert.equal(h.store.currentSeq(), seqBefore, `duplicate file ${i} committed`);
        } else if (report.state === 'failed') {
          refused++;
          assert.ok(report.reason && report.reason.length > 0, `a refusal says why: ${JSON.stringify(report)}`);
          assert.equal(await h.store.countUsers(), before, `refused file ${i} changed the users`);
          assert.equal(report.rows.imported, 0, `refused file ${i} imported rows`);
        } else {
          assert.ok(h.store.currentSeq() >= seqBefore);
        }
      }
      const outside = (await tree(root)).filter((p) => p !== 'spool' && !p.startsWith('spool/'));
      assert.deepEqual(outside, [], 'nothing written beside the spool');
      const stray = (await tree(spoolDir)).filter((p) => !/^(incoming|processing|done|failed|outgoing)(\/|$)/.test(p) && !p.startsWith('.'));
      assert.deepEqual(stray, [], 'nothing written outside the spool folders');
      console.log(`# hostile files: ${samples.length} fuzzed CSV files through the drop folder, ${refused} refused, ${await h.store.countUsers()} users stored`);
    } finally {
      await h.stop();
      await rm(root, { recursive: true, force: true });
    }
  });

  test('hostile archives through the real drop folder: refused with a reason, nothing extracted anywhere, nothing stored', { timeout: 120_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'rollcall-hostile-archive-'));
    const spoolDir = join(root, 'spool');
    await mkdir(spoolDir);
    const h = await SpoolHarness.start({ spoolDir, stableMs: 50, datafile: {} });
    const header = () => tarEntry({ name: 'header.json', body: headerJson() });
    const members = [{ name: 'users-000001.jsonl', body: recordLine('1') }];
    const cases: { name: string; bytes: Buffer }[] = [
      { name: 'tar slip', bytes: tgz([header(), tarEntry({ name: '../../../rollcall-slip-evil.jsonl', body: recordLine('2') })]) },
      { name: 'absolute path', bytes: tgz([header(), tarEntry({ name: join(root, 'absolute-evil.jsonl'), body: recordLine('3') })]) },
      { name: 'symlink', bytes: tgz([header(), tarEntry({ name: 'users-000001.jsonl', type: 'symlink', size: 0, linkname: '/etc/passwd' })]) },
      { name: 'hard link', bytes: tgz([header(), tarEntry({ name: 'users-000001.jsonl', type: 'link', size: 0, linkname: '../../outside' })]) },
      { name: 'device node', bytes: tgz([header(), tarEntry({ name: 'users-000001.jsonl', type: 'char', size: 0 })]) },
      { name: 'a member declaring 1 GiB, cut short', bytes: gzipSync(Buffer.concat([header(), tarEntry({ name: 'users-000001.jsonl', size: 2 ** 30 })]).subarray(0, 1024 + 512), { level: 9 }) },
      { name: 'zeros bomb', bytes: gzipSync(Buffer.alloc(64 * 2 ** 20), { level: 9 }) },
      { name: 'not gzip', bytes: Buffer.from('this is not an archive at all') },
      { name: 'truncated', bytes: tgz(validEntries(members)).subarray(0, 200) },
      { name: 'manifest lies', bytes: tgz([...validEntries(members).slice(0, -1), tarEntry({ name: 'manifest.json', body: JSON.stringify({ ...JSON.parse(headerJson()), userCount: 5, members: [] }) })]) },
    ];
    try {
      for (const [i, c] of cases.entries()) {
        const seq = h.store.currentSeq();
        await h.drop(`rollcall_2025010${i % 10}_030405.tgz`, c.bytes);
        const [report] = (await h.reportsAtLeast(i + 1)).slice(i);
        assert.equal(report!.state, 'failed', `${c.name}: ${JSON.stringify(report)}`);
        assert.ok(report!.reason && report!.reason.length > 0, `${c.name} refused with a reason`);
        assert.equal(h.store.currentSeq(), seq, `${c.name}: nothing committed`);
      }
      assert.equal(await h.store.countUsers(), 0);
      const outside = (await tree(root)).filter((p) => p !== 'spool' && !p.startsWith('spool/'));
      assert.deepEqual(outside, [], 'nothing extracted beside the spool');
      const stray = (await tree(spoolDir)).filter((p) => !/^(incoming|processing|done|failed|outgoing)(\/|$)/.test(p) && !p.startsWith('.'));
      assert.deepEqual(stray, []);
      console.log(`# hostile files: ${cases.length} hostile archives through the drop folder, all refused, nothing stored or extracted`);
    } finally {
      await h.stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
