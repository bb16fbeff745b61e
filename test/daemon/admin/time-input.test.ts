/** Times typed on the command line. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readTime, readValidity } from '../../../daemon/admin/time-input.js';

const now = new Date(2026, 10, 23, 15, 30, 0).getTime();

describe('readTime', () => {
  const cases: [string, number | undefined][] = [
    ['90s', now - 90_000],
    ['15m', now - 15 * 60_000],
    ['2h', now - 2 * 3_600_000],
    ['3d', now - 3 * 86_400_000],
    ['1w', now - 7 * 86_400_000],
    ['today', new Date(2026, 10, 23).getTime()],
    ['yesterday', new Date(2026, 10, 22).getTime()],
    ['2026-11-01', new Date(2026, 10, 1).getTime()],
    ['2026-11-01 08:15', new Date(2026, 10, 1, 8, 15).getTime()],
    ['2026-11-01T08:15:30', new Date(2026, 10, 1, 8, 15, 30).getTime()],
    ['2026-11-01T08:15:30Z', Date.UTC(2026, 10, 1, 8, 15, 30)],
    ['2026-02-30', undefined],
    ['last tuesday', undefined],
    ['15', undefined],
  ];
  for (const [text, expected] of cases) {
    test(`${JSON.stringify(text)} → ${expected === undefined ? 'refused' : new Date(expected).toISOString()}`, () => {
      const read = readTime(text, now);
      if (expected === undefined) assert.equal(read.ok, false);
      else assert.deepEqual(read, { ok: true, ms: expected });
    });
  }
});

describe('readValidity', () => {
  test('0 and none are no limit; a date alone ends at the end of that day', () => {
    assert.deepEqual(readValidity('0', 'end'), { ok: true, seconds: 0 });
    assert.deepEqual(readValidity('none', 'start'), { ok: true, seconds: 0 });
    assert.deepEqual(readValidity('2030-12-31', 'start'), { ok: true, seconds: new Date(2030, 11, 31).getTime() / 1000 });
    assert.deepEqual(readValidity('2030-12-31', 'end'), { ok: true, seconds: new Date(2030, 11, 31, 23, 59, 59).getTime() / 1000 });
    assert.deepEqual(readValidity('2030-12-31 08:00', 'end'), { ok: true, seconds: new Date(2030, 11, 31, 8, 0).getTime() / 1000 });
    assert.equal(readValidity('31/12/2030', 'end').ok, false);
  });
});
