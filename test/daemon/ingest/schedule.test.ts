import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportTriggersFrom } from '../../../daemon/ingest/export-triggers.js';
import { nextFire, parseSchedule } from '../../../daemon/ingest/schedule.js';

/** Local time, as the schedules read it. */
function local(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): Date {
  return new Date(y, mo - 1, d, h, mi, s);
}

function next(spec: string | string[], now: Date): Date | undefined {
  return nextFire(parseSchedule(spec), now);
}

describe('export schedules', () => {
  test('intervals count from now', () => {
    const now = local(2025, 3, 10, 12, 0, 30);
    const cases: [string, number][] = [
      ['90s', 90_000],
      ['15m', 900_000],
      ['6h', 21_600_000],
      ['1d', 86_400_000],
    ];
    for (const [spec, ms] of cases) assert.equal(next(spec, now)!.getTime() - now.getTime(), ms, spec);
  });

  test('daily times: the earliest strictly after now, tomorrow when passed', () => {
    const cases: [string | string[], Date, Date][] = [
      ['02:30', local(2025, 3, 10, 1, 0), local(2025, 3, 10, 2, 30)],
      ['02:30', local(2025, 3, 10, 2, 30), local(2025, 3, 11, 2, 30)],
      [['23:00', '06:15'], local(2025, 3, 10, 12, 0), local(2025, 3, 10, 23, 0)],
      [['23:00', '06:15'], local(2025, 3, 10, 23, 30), local(2025, 3, 11, 6, 15)],
      [['00:00'], local(2025, 12, 31, 23, 59, 59), local(2026, 1, 1, 0, 0)],
    ];
    for (const [spec, now, expected] of cases) assert.deepEqual(next(spec, now), expected, `${String(spec)} after ${now.toString()}`);
  });

  test('cron: five fields, ranges, steps and lists', () => {
    const cases: [string, Date, Date][] = [
      ['0 2 * * *', local(2025, 3, 10, 1, 59), local(2025, 3, 10, 2, 0)],
      ['0 2 * * *', local(2025, 3, 10, 2, 0), local(2025, 3, 11, 2, 0)],
      ['*/15 * * * *', local(2025, 3, 10, 10, 7, 30), local(2025, 3, 10, 10, 15)],
      ['5,35 9-10 * * *', local(2025, 3, 10, 10, 36), local(2025, 3, 11, 9, 5)],
      // 2025-03-10 is a Monday; 1-5 is Monday to Friday.
      ['30 6 * * 1-5', local(2025, 3, 14, 7, 0), local(2025, 3, 17, 6, 30)],
      // 7 is Sunday as well as 0.
      ['0 0 * * 7', local(2025, 3, 10), local(2025, 3, 16)],
      ['0 0 1 */3 *', local(2025, 2, 15), local(2025, 4, 1)],
      // Both day fields restricted: either one fires (Vixie cron).
      ['0 12 13 * 5', local(2025, 3, 10), local(2025, 3, 13, 12, 0)],
      ['0 12 20 * 5', local(2025, 3, 10), local(2025, 3, 14, 12, 0)],
      ['0 0 29 2 *', local(2025, 3, 1), local(2028, 2, 29)],
      ['10/20 * * * *', local(2025, 3, 10, 10, 31), local(2025, 3, 10, 10, 50)],
    ];
    for (const [spec, now, expected] of cases) assert.deepEqual(next(spec, now), expected, `${spec} after ${now.toString()}`);
  });

  test('DST: a skipped time does not fire for cron and fires an hour late for daily times; a repeated hour fires once', () => {
    const zone = process.env.TZ;
    // Node reads TZ again when it changes; this file runs in a process of its own.
    process.env.TZ = 'Europe/Amsterdam';
    try {
      // 2025-03-30: 02:00 CET becomes 03:00 CEST. 2025-10-26: 03:00 CEST becomes 02:00 CET.
      const spring = new Date(Date.UTC(2025, 2, 29, 11));
      assert.equal(next('30 2 * * *', spring)!.toISOString(), '2025-03-31T00:30:00.000Z');
      assert.equal(next('02:30', spring)!.toISOString(), '2025-03-30T01:30:00.000Z');
      const autumn = parseSchedule('30 2 * * *');
      const first = nextFire(autumn, new Date(Date.UTC(2025, 9, 25, 10)))!;
      assert.equal(first.toISOString(), '2025-10-26T00:30:00.000Z', '02:30 CEST, the first time round');
      assert.equal(nextFire(autumn, first)!.toISOString(), '2025-10-27T01:30:00.000Z', 'not again at 02:30 CET');
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  test('wrong schedules are refused with a reason', () => {
    const cases: [string | string[], RegExp][] = [
      ['', /neither an interval/],
      ['soon', /neither an interval/],
      ['0s', /shorter than a second/],
      ['24:00', /neither an interval/],
      ['60 * * * *', /minute "60" is outside 0-59/],
      ['* 24 * * *', /hour "24"/],
      ['* * 0 * *', /day of month "0"/],
      ['* * * 13 *', /month "13"/],
      ['* * * * 8', /day of week "8"/],
      ['*/0 * * * *', /step .* at least 1/],
      ['5-1 * * * *', /runs backwards/],
      ['0 0 30 2 *', /never fires/],
      ['MON * * * *', /is not \*, N, N-M/],
      [[], /no export times/],
      [['2:30'], /not HH:MM/],
    ];
    for (const [spec, reason] of cases) assert.throws(() => parseSchedule(spec), reason, String(spec));
  });
});

describe('export triggers from the watchers\' configs', () => {
  test('export.schedule (and export.dir) of each watcher, when set', () => {
    const triggers = exportTriggersFrom([
      { format: 'csv', config: { startRow: 2, export: { schedule: '0 2 * * *', columns: ['user_id'] } } },
      { format: 'datafile', config: { export: { schedule: ['02:30', '14:00'], dir: '/var/spool/rollcall/outgoing' } } },
      { format: 'none', config: { export: {} } },
      { format: 'empty', config: { export: { schedule: [] } } },
      { format: 'blank', config: { export: { schedule: ' ' } } },
      { format: 'absent', config: undefined },
    ]);
    assert.deepEqual(triggers, [
      { format: 'csv', schedule: '0 2 * * *' },
      { format: 'datafile', schedule: ['02:30', '14:00'], dir: '/var/spool/rollcall/outgoing' },
    ]);
  });
});
