/** The simulator's log of who called each device (simulator/caller-log.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallerLog } from '../../simulator/caller-log.js';

test('consecutive calls by one caller make one run; a change of caller starts the next', () => {
  const log = new CallerLog();
  log.record(5, 'a', 100);
  log.record(5, 'a', 150);
  log.record(6, 'b', 120);
  log.record(5, 'b', 200);
  log.record(5, 'a', 300);
  assert.deepEqual(log.of(5), {
    runs: [
      { caller: 'a', firstAtMs: 100, lastAtMs: 150, calls: 2 },
      { caller: 'b', firstAtMs: 200, lastAtMs: 200, calls: 1 },
      { caller: 'a', firstAtMs: 300, lastAtMs: 300, calls: 1 },
    ],
    droppedRuns: 0,
  });
  assert.deepEqual(log.deviceIds(), [5, 6]);
  assert.deepEqual(log.of(9), { runs: [], droppedRuns: 0 });
});

test('past its limit a device keeps its newest runs and counts the dropped ones', () => {
  const log = new CallerLog(2);
  for (const [i, caller] of ['a', 'b', 'a', 'b'].entries()) log.record(1, caller, i);
  assert.deepEqual(log.of(1).runs.map((r) => [r.caller, r.firstAtMs]), [['a', 2], ['b', 3]]);
  assert.equal(log.of(1).droppedRuns, 2);
});
