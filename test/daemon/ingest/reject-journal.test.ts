import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defuseErrorCell, errorCsvRow, writeErrorCsv } from '../../../daemon/ingest/error-csv.js';
import { RejectJournal, scanJournal } from '../../../daemon/ingest/reject-journal.js';
import type { IngestRejection } from '../../../daemon/plugins/api.js';

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollcall-journal-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rejection(row: number, reason = `bad ${row}`): IngestRejection {
  return { row, raw: [String(row), `Name ${row}`, 'a\nb "q"'], reason };
}

async function journalWith(rows: number[]): Promise<RejectJournal> {
  const journal = new RejectJournal(join(dir, `j${++n}.jsonl`));
  await journal.create();
  journal.header(['user_id', 'name', 'note']);
  journal.append(rows.map((row) => rejection(row)));
  await journal.flush();
  return journal;
}

describe('rejection journal', () => {
  test('resume keeps the header and the first n rejections and cuts the rest', async () => {
    const journal = await journalWith([2, 3, 5, 8]);
    await journal.close();
    const resumed = new RejectJournal(journal.path);
    assert.deepEqual(await resumed.resume(2), { header: ['user_id', 'name', 'note'], rejections: 2 });
    // The header is not written twice; new rejections follow the kept ones.
    resumed.header(['user_id', 'name', 'note']);
    resumed.append([rejection(9)]);
    await resumed.flush();
    await resumed.close();
    const rows: number[] = [];
    const scanned = await scanJournal(journal.path, Infinity, (r) => rows.push(r.row));
    assert.deepEqual(rows, [2, 3, 9]);
    assert.deepEqual(scanned?.header, ['user_id', 'name', 'note']);
    assert.equal(scanned?.bytes, (await stat(journal.path)).size);
  });

  test('half a line (a write cut by a crash) is dropped; fewer rows than counted are reported', async () => {
    const journal = await journalWith([2, 3]);
    await journal.close();
    await appendFile(journal.path, '{"row":4,"raw":["4"],"rea');
    const resumed = new RejectJournal(journal.path);
    assert.deepEqual(await resumed.resume(5), { header: ['user_id', 'name', 'note'], rejections: 2 });
    await resumed.close();
    assert.doesNotMatch(await readFile(journal.path, 'utf8'), /"row":4/);
  });

  test('a missing journal is created empty', async () => {
    const journal = new RejectJournal(join(dir, 'missing.jsonl'));
    assert.deepEqual(await journal.resume(3), { header: undefined, rejections: 0 });
    await journal.remove();
    assert.equal(await scanJournal(journal.path, 1), undefined);
  });

  test('rejections queued by reject() are written in order and counted once flushed', async () => {
    const journal = new RejectJournal(join(dir, 'order.jsonl'));
    await journal.create();
    for (let row = 1; row <= 500; row++) journal.append([rejection(row)]);
    await journal.flush();
    await journal.close();
    const rows: number[] = [];
    await scanJournal(journal.path, Infinity, (r) => rows.push(r.row));
    assert.deepEqual(rows, Array.from({ length: 500 }, (_, i) => i + 1));
  });
});

describe('error CSV', () => {
  test('the failed rows as they were, plus Error_Description and Row; BOM, CRLF, quoted where needed', async () => {
    const journal = await journalWith([2, 5]);
    journal.append([{ row: 7, raw: ['7'], reason: 'the row has 1 cells but the header has 3' }]);
    journal.append([{ row: 9, raw: ['9', 'x', 'y', 'extra'], reason: 'too many' }]);
    journal.append([rejection(11)]);
    await journal.flush();
    await journal.close();
    const path = join(dir, 'errors.csv');
    assert.equal(await writeErrorCsv(journal.path, 4, path), 4);
    const bytes = await readFile(path);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    assert.equal(
      bytes.subarray(3).toString('utf8'),
      [
        'user_id,name,note,Error_Description,Row',
        '2,Name 2,"a\nb ""q""",bad 2,2',
        '5,Name 5,"a\nb ""q""",bad 5,5',
        '7,,,the row has 1 cells but the header has 3,7',
        '9,x,y,extra,too many,9',
        '',
      ].join('\r\n'),
    );
    assert.equal((await stat(path)).mode & 0o777, 0o640);
  });

  test('cells that a spreadsheet would run as formulas are defused; defused ones stay as they are', () => {
    const cases: [string, string][] = [
      ['=HYPERLINK("x")', '\'=HYPERLINK("x")'],
      ['+31 20 123', "'+31 20 123"],
      ['-5', "'-5"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\tx', "'\tx"],
      ["'+31 20 123", "'+31 20 123"],
      ['plain', 'plain'],
      ['', ''],
    ];
    for (const [cell, expected] of cases) assert.equal(defuseErrorCell(cell), expected, JSON.stringify(cell));
    assert.deepEqual(errorCsvRow({ row: 3, raw: ['=1+1'], reason: '-bad' }, 2), ["'=1+1", '', "'-bad", '3']);
  });

  test('without a header the columns are numbered', async () => {
    const journal = new RejectJournal(join(dir, 'noheader.jsonl'));
    await journal.create();
    journal.append([{ row: 1, raw: ['a', 'b'], reason: 'r' }]);
    await journal.flush();
    await journal.close();
    const path = join(dir, 'noheader.csv');
    await writeErrorCsv(journal.path, 1, path);
    assert.equal((await readFile(path, 'utf8')).replace(/^\uFEFF/, ''), 'column_1,column_2,Error_Description,Row\r\na,b,r,1\r\n');
  });
});
