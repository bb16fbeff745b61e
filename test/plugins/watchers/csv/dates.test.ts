import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatLocalDateTime,
  isTimeZone,
  parseLocalDateTime,
  readPeriodCell,
  timeZone,
  writePeriodCell,
} from '../../../../plugins/watchers/csv/dates.js';
import { propertyRuns } from './fixtures.js';

const utc = timeZone('UTC');

describe('parseLocalDateTime', () => {
  const ok: [string, boolean, string][] = [
    ['2025-04-03 10:20:30', false, '2025-04-03 10:20:30'],
    ['2025-04-03 10:20', false, '2025-04-03 10:20:00'],
    ['2025-04-03 10:20:30.250', false, '2025-04-03 10:20:30'],
    ['2025-04-03', false, '2025-04-03 00:00:00'],
    ['2025-04-03T10:20:30', false, '2025-04-03 10:20:30'],
    ['2025/04/03 10:20:30', false, '2025-04-03 10:20:30'],
    ['2025/4/3 7:05', false, '2025-04-03 07:05:00'],
    ['2024-02-29 23:59:59', false, '2024-02-29 23:59:59'],
    ['2000-02-29', false, '2000-02-29 00:00:00'],
    ['03/04/2025', true, '2025-04-03 00:00:00'],
    ['25/04/2025 10:20:30', true, '2025-04-25 10:20:30'],
    ['3/4/2025 10:20', true, '2025-04-03 10:20:00'],
    // year first stays year first with dayFirst set
    ['2025/04/03', true, '2025-04-03 00:00:00'],
  ];
  for (const [text, dayFirst, expected] of ok) {
    test(`${text}${dayFirst ? ' (dayFirst)' : ''} → ${expected}`, () => {
      const parsed = parseLocalDateTime(text, { dayFirst });
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      assert.equal(formatLocalDateTime(parsed.local), expected);
    });
  }

  const bad: [string, boolean, RegExp][] = [
    ['03/04/2025', false, /ambiguous date "03\/04\/2025" \(set watchers\.csv\.dayFirst to read DD\/MM\/YYYY\)/],
    ['25/04/2025', false, /has the day first.*never guessed/],
    ['04/25/2025', true, /impossible date "04\/25\/2025": month 25/],
    ['2025-13-01', false, /month 13/],
    ['2025-00-10', false, /month 0/],
    ['2023-02-29', false, /day 29 \(2023-02 has 28 days\)/],
    ['1900-02-29', false, /day 29/],
    ['2025-04-31', false, /day 31 \(2025-04 has 30 days\)/],
    ['2025-04-03 24:00:00', false, /hour 24/],
    ['2025-04-03 10:60', false, /minute 60/],
    ['2025-04-03 10:20:60', false, /second 60/],
    ['2-Feb', false, /unreadable date "2-Feb" \(expected YYYY-MM-DD HH:MM:SS\)/],
    ['2025-04-03 10', false, /unreadable/],
    ['25-04-2025', true, /unreadable/],
    ['2025-04/03', false, /unreadable/],
    ['', false, /unreadable/],
  ];
  for (const [text, dayFirst, says] of bad) {
    test(`refuses ${JSON.stringify(text)}${dayFirst ? ' (dayFirst)' : ''}`, () => {
      const parsed = parseLocalDateTime(text, { dayFirst });
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.reason, says);
    });
  }
});

describe('time zones', () => {
  const table: [zone: string, local: string, iso: string][] = [
    ['UTC', '2025-04-03 10:20:30', '2025-04-03T10:20:30.000Z'],
    ['Asia/Seoul', '2025-04-03 10:20:30', '2025-04-03T01:20:30.000Z'],
    ['Europe/Amsterdam', '2025-01-15 12:00:00', '2025-01-15T11:00:00.000Z'],
    ['Europe/Amsterdam', '2025-07-15 12:00:00', '2025-07-15T10:00:00.000Z'],
    ['America/New_York', '2025-07-04 00:00:00', '2025-07-04T04:00:00.000Z'],
    // spring forward: 02:30 does not exist and reads as 03:30 EDT
    ['America/New_York', '2025-03-09 02:30:00', '2025-03-09T07:30:00.000Z'],
    // fall back: 01:30 happens twice and reads as the first (EDT)
    ['America/New_York', '2025-11-02 01:30:00', '2025-11-02T05:30:00.000Z'],
    ['Asia/Kolkata', '2025-04-03 00:00:00', '2025-04-02T18:30:00.000Z'],
    ['Pacific/Chatham', '2025-06-01 12:00:00', '2025-05-31T23:15:00.000Z'],
  ];
  for (const [name, local, iso] of table) {
    test(`${local} in ${name} is ${iso}`, () => {
      const parsed = parseLocalDateTime(local, { dayFirst: false });
      assert.ok(parsed.ok);
      const zone = timeZone(name);
      const seconds = zone.toUnixSeconds(parsed.local);
      assert.equal(new Date(seconds * 1000).toISOString(), iso);
    });
  }

  test('unknown zone names are told apart', () => {
    assert.equal(isTimeZone('Europe/Amsterdam'), true);
    assert.equal(isTimeZone('Mars/Olympus'), false);
    assert.throws(() => timeZone('Mars/Olympus'), RangeError);
  });

  test('property: seconds → local text → seconds is the identity outside DST repeats', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffffffff }), fc.constantFrom('UTC', 'Asia/Seoul', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Europe/Amsterdam'), (seconds, name) => {
        const zone = timeZone(name);
        const text = formatLocalDateTime(zone.toLocal(seconds));
        const parsed = parseLocalDateTime(text, { dayFirst: false });
        assert.ok(parsed.ok, text);
        const back = zone.toUnixSeconds(parsed.local);
        // In the hour a DST change repeats, the first of the two instants is read.
        if (back !== seconds) {
          assert.ok(back < seconds && seconds - back <= 3600, `${name} ${text}: ${seconds} → ${back}`);
          assert.equal(formatLocalDateTime(zone.toLocal(back)), text);
        }
      }),
      { numRuns: propertyRuns(300) },
    );
  });
});

describe('period cells', () => {
  const seoul = timeZone('Asia/Seoul');
  const table: [end: 'start' | 'expiry', text: string, zone: ReturnType<typeof timeZone>, expected: number | RegExp][] = [
    ['start', '2025-04-03 00:00:00', utc, 1743638400],
    ['start', '2025-04-03', utc, 1743638400],
    ['expiry', '2025-04-03', utc, 1743638400 + 86399],
    ['expiry', '2025-04-03 12:00', utc, 1743638400 + 43200],
    ['start', '2001-01-01 00:00:00', utc, 0],
    ['start', '2001-01-01', seoul, 0],
    ['expiry', '2037-12-31 23:59:59', utc, 0],
    ['expiry', '2037-12-31 23:59', seoul, 0],
    ['expiry', '2037-12-31', utc, 0],
    ['start', '1970-01-01 00:00:00', utc, 0],
    ['start', '1970-01-01 00:00:00', seoul, /before 1970-01-01 00:00:00 UTC/],
    ['expiry', '2106-02-07 06:28:15', utc, 0xffffffff],
    ['expiry', '2106-02-07 06:28:16', utc, /after 2106-02-07 06:28:15 UTC/],
    ['start', '03/04/2025', utc, /ambiguous/],
  ];
  for (const [end, text, zone, expected] of table) {
    test(`${end} ${text} (${zone.name})`, () => {
      const read = readPeriodCell(end, text, { dayFirst: false, zone });
      if (expected instanceof RegExp) {
        assert.equal(read.ok, false);
        assert.match(read.ok ? '' : read.reason, expected);
      } else {
        assert.deepEqual(read, { ok: true, seconds: expected });
      }
    });
  }

  test('0 is written as BioStar\'s default period, both ends', () => {
    assert.equal(writePeriodCell('start', 0, seoul), '2001-01-01 00:00:00');
    assert.equal(writePeriodCell('expiry', 0, seoul), '2037-12-31 23:59:59');
    assert.equal(writePeriodCell('start', 1743638400, seoul), '2025-04-03 09:00:00');
  });
});
