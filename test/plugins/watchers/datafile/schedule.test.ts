import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextExportAt } from '../../../../plugins/watchers/datafile/schedule.js';

/** Local time, as the schedule is. */
function at(y: number, m: number, d: number, h: number, min: number, s = 0): Date {
  return new Date(y, m - 1, d, h, min, s);
}

describe('datafile export schedule', () => {
  const cases: [string, Date, string[], Date][] = [
    ['later today', at(2025, 5, 1, 1, 0), ['02:30'], at(2025, 5, 1, 2, 30)],
    ['already past today', at(2025, 5, 1, 3, 0), ['02:30'], at(2025, 5, 2, 2, 30)],
    ['exactly now is past', at(2025, 5, 1, 2, 30), ['02:30'], at(2025, 5, 2, 2, 30)],
    ['the earliest of several', at(2025, 5, 1, 13, 0), ['02:30', '14:00', '23:59'], at(2025, 5, 1, 14, 0)],
    ['order does not matter', at(2025, 5, 1, 23, 59, 30), ['14:00', '00:00'], at(2025, 5, 2, 0, 0)],
    ['across a month end', at(2025, 1, 31, 22, 0), ['06:00'], at(2025, 2, 1, 6, 0)],
    ['across a year end', at(2025, 12, 31, 22, 0), ['06:00'], at(2026, 1, 1, 6, 0)],
  ];
  for (const [label, now, times, expected] of cases) {
    test(label, () => {
      assert.equal(nextExportAt(now, times).getTime(), expected.getTime());
    });
  }

  test('a malformed time is an error', () => {
    assert.throws(() => nextExportAt(new Date(), ['24:00']), /not HH:MM/);
    assert.throws(() => nextExportAt(new Date(), []), /no export times/);
  });
});
