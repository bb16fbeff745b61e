import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, stat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dayFolder } from '../../../daemon/ingest/names.js';
import { SpoolHarness, until, listFiles } from '../../helpers/ingest-spool.js';

const BOM = '\uFEFF';

function csv(lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

describe('drop folder', () => {
  test('a dropped CSV becomes users, and the file moves to done/YYYY-MM-DD with its report', async () => {
    const h = await SpoolHarness.start();
    try {
      await h.drop('staff.csv', csv(['user_id,name,department', '101,Ana Silva,Sales', '102,Bo Chen,R&D']));
      const [report] = await h.reportsAtLeast(1);
      assert.equal(report!.state, 'done');
      assert.deepEqual(report!.rows, { imported: 2, unchanged: 0, failed: 0 });
      const day = dayFolder(new Date(report!.finishedAt));
      assert.equal(report!.path, `done/${day}/staff.csv`);
      assert.equal(report!.reportJson, `done/${day}/staff.csv.report.json`);
      assert.equal(report!.errorsCsv, undefined);
      assert.deepEqual(await h.files(), [`done/${day}/staff.csv`, `done/${day}/staff.csv.report.json`]);
      const written = JSON.parse(await h.read(report!.reportJson!));
      assert.deepEqual(written, report);
      const ana = await h.store.getUser('101');
      assert.equal(ana?.name, 'Ana Silva');
      assert.equal(ana?.department, 'Sales');
      assert.equal((await h.store.getUser('102'))?.department, 'R&D');
      const ledger = await h.store.getImport(report!.hash);
      assert.equal(ledger?.state, 'done');
      assert.equal(ledger?.checkpoint, 2);
      const events = await h.store.queryEvents({ kind: 'import.' });
      assert.deepEqual(events.map((e) => [e.kind, e.message]), [['import.done', 'Import of staff.csv: 2 imported, 0 unchanged, 0 failed']]);
    } finally {
      await h.stop();
    }
  });
});
