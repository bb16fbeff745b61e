import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asksPinScheme, countsOf, planImport, rowsOf, startRecord } from '../../../daemon/ingest/ledger.js';
import type { ImportRecord } from '../../../daemon/plugins/api.js';

const hash = 'a'.repeat(64);

function record(state: ImportRecord['state']): ImportRecord {
  return { ...startRecord(hash, 'users.csv', 'csv', 1000), state, checkpoint: 40, counts: { ok: 30, failed: 4, skipped: 6 } };
}

describe('import ledger', () => {
  test('what a file needs follows from its record and whether its journal exists', () => {
    const cases: [ImportRecord | undefined, boolean, string][] = [
      [undefined, false, 'start'],
      // A journal without a record: the record commit never happened.
      [undefined, true, 'start'],
      [record('running'), true, 'resume'],
      // The journal is made after the record; a crash between the two loses nothing.
      [record('running'), false, 'resume'],
      [record('done'), true, 'finish'],
      [record('done'), false, 'duplicate'],
      [record('failed'), true, 'finish'],
      // Refused content dropped again is tried again.
      [record('failed'), false, 'start'],
    ];
    for (const [given, journal, action] of cases) {
      assert.equal(planImport(given, journal).action, action, `${given?.state ?? 'no record'}, journal ${journal}`);
    }
  });

  test('a new record starts at checkpoint 0; counts read as report rows and back', () => {
    assert.deepEqual(startRecord(hash, 'f.csv', 'csv', 5), {
      hash,
      file: 'f.csv',
      format: 'csv',
      state: 'running',
      startedAt: 5,
      checkpoint: 0,
      counts: { ok: 0, failed: 0, skipped: 0 },
    });
    const rows = rowsOf(record('done'));
    assert.deepEqual(rows, { imported: 30, unchanged: 6, failed: 4 });
    assert.deepEqual(countsOf(rows), { ok: 30, failed: 4, skipped: 6 });
  });

  test('content whose PINs another gateway scheme hashed is imported again; the same scheme is a duplicate', () => {
    const hashed: ImportRecord = { ...record('done'), pinHashScheme: 'scheme-A' };
    assert.equal(asksPinScheme(hashed, false), true);
    assert.equal(asksPinScheme(hashed, true), false, 'an import whose end is being finished');
    assert.equal(asksPinScheme(record('done'), false), false, 'no PIN was hashed');
    assert.equal(asksPinScheme({ ...hashed, state: 'running' }, false), false);
    assert.equal(planImport(hashed, false, 'scheme-A').action, 'duplicate');
    assert.equal(planImport(hashed, false, 'scheme-B').action, 'start');
    assert.equal(planImport(hashed, false, 'unknown').action, 'start', 'the scheme could not be read: hashed again (the import waits for the gateway)');
    assert.equal(planImport(hashed, false).action, 'duplicate', 'no scheme asked');
    assert.equal(planImport(hashed, true, 'scheme-B').action, 'finish');
    assert.equal(planImport(record('done'), false, 'scheme-B').action, 'duplicate', 'a file without PINs');
  });
});
