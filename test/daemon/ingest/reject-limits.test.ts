import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planImport, startRecord } from '../../../daemon/ingest/ledger.js';
import { DEFAULT_REJECT_LIMITS, tooManyRejections, unlistedNote } from '../../../daemon/ingest/reject-limits.js';

test('a file is refused past the count or the share of rejected rows, and not before', () => {
  const cases: [failed: number, handled: number, refused: RegExp | undefined][] = [
    [10_000, 100_000, undefined],
    [10_001, 100_000, /10001 rows were rejected, more than spool\.rejects\.maxRows \(10000\)/],
    [999, 999, undefined],
    [500, 1000, undefined],
    [501, 1000, /501 of the first 1000 rows were rejected, more than spool\.rejects\.maxShare \(50 %\)/],
    [0, 2_000_000, undefined],
  ];
  for (const [failed, handled, refused] of cases) {
    const reason = tooManyRejections(failed, handled, DEFAULT_REJECT_LIMITS);
    if (refused) assert.match(reason ?? '', refused, `${failed}/${handled}`);
    else assert.equal(reason, undefined, `${failed}/${handled}`);
  }
  assert.equal(tooManyRejections(900, 1000, { ...DEFAULT_REJECT_LIMITS, maxShare: 1 }), undefined, 'maxShare 1: never by share');
});

test('the report says how many rejected rows the error CSV does not list', () => {
  assert.equal(unlistedNote(1000, 1000), undefined);
  assert.match(unlistedNote(5000, 1000) ?? '', /lists the first 1000 rejected rows; 4000 more were rejected and are not listed/);
});

test('content whose PIN rows the gateway refused is imported again when dropped again, not skipped', () => {
  const done = { ...startRecord('a'.repeat(64), 'pins.csv', 'csv', 0), state: 'done' as const };
  assert.equal(planImport(done, false).action, 'duplicate');
  assert.equal(planImport({ ...done, pinRefused: 2 }, false).action, 'start');
  assert.equal(planImport({ ...done, pinRefused: 2 }, true).action, 'finish');
});
