/**
 * BioStar CSV dates (spec §1.2) ⇄ Unix seconds.
 *
 * Read: `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS.SSS` (fraction
 * dropped), `YYYY-MM-DD`, the same with `/` between the date parts, and `DD/MM/YYYY` with
 * the same time forms only when `dayFirst` is set. A date with the day first is never
 * guessed: `03/04/2025` is the 3rd of April in Europe and the 4th of March in the US, and
 * even `25/04/2025` (where only one order makes sense) is refused without `dayFirst`,
 * because a file whose rows are read in two different orders is worse than one refused.
 * Spreadsheets write MM/DD/YYYY in the US locale, which BioStar does not read either.
 *
 * The text is a wall-clock time in the configured IANA time zone, turned into an instant
 * with Intl (no time zone library). A time that a DST change skips is read as if the clock
 * had not changed (02:30 on a spring-forward night is 03:30); a time it repeats is read as
 * the first of the two.
 *
 * Bounds: device times are uint32 seconds, so a date must fall between 1970-01-01 00:00:00
 * UTC and 2106-02-07 06:28:15 UTC. BioStar itself caps expiry lower (2030-12-31 23:59:59 on
 * 2.8.16, later versions differ); rollcall does not guess which cap a site has.
 */

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export type ParsedDate = { ok: true; local: LocalDateTime; hasTime: boolean } | { ok: false; reason: string };

export const MAX_DEVICE_TIME = 0xffffffff;

const TIME = String.raw`(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?`;
const YEAR_FIRST = new RegExp(String.raw`^(\d{4})([-/])(\d{1,2})\2(\d{1,2})${TIME}$`);
const DAY_FIRST = new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{4})${TIME}$`);

/** Reads the text of a date cell (already trimmed) as a wall-clock date and time, checking its ranges. */
export function parseLocalDateTime(text: string, options: { dayFirst: boolean }): ParsedDate {
  let year: number;
  let month: number;
  let day: number;
  let time: (string | undefined)[];
  const yearFirst = YEAR_FIRST.exec(text);
  if (yearFirst) {
    year = Number(yearFirst[1]);
    month = Number(yearFirst[3]);
    day = Number(yearFirst[4]);
    time = yearFirst.slice(5, 8);
  } else {
    const dayFirst = DAY_FIRST.exec(text);
    if (!dayFirst) return { ok: false, reason: `unreadable date "${text}" (expected YYYY-MM-DD HH:MM:SS)` };
    if (!options.dayFirst) {
      const first = Number(dayFirst[1]);
      const second = Number(dayFirst[2]);
      const ambiguous = first >= 1 && first <= 12 && second >= 1 && second <= 12;
      return {
        ok: false,
        reason: ambiguous
          ? `ambiguous date "${text}" (set watchers.csv.dayFirst to read DD/MM/YYYY)`
          : `date "${text}" has the day first, which is read only with watchers.csv.dayFirst set (the order of day and month is never guessed)`,
      };
    }
    day = Number(dayFirst[1]);
    month = Number(dayFirst[2]);
    year = Number(dayFirst[3]);
    time = dayFirst.slice(4, 7);
  }
  const hasTime = time[0] !== undefined;
  const local: LocalDateTime = {
    year,
    month,
    day,
    hour: hasTime ? Number(time[0]) : 0,
    minute: hasTime ? Number(time[1]) : 0,
    second: time[2] !== undefined ? Number(time[2]) : 0,
  };
  const range = checkRanges(local);
  if (range) return { ok: false, reason: `impossible date "${text}": ${range}` };
  return { ok: true, local, hasTime };
}

function checkRanges(t: LocalDateTime): string | undefined {
  if (t.month < 1 || t.month > 12) return `month ${t.month}`;
  const days = daysInMonth(t.year, t.month);
  if (t.day < 1 || t.day > days) return `day ${t.day} (${t.year}-${pad(t.month)} has ${days} days)`;
  if (t.hour > 23) return `hour ${t.hour}`;
  if (t.minute > 59) return `minute ${t.minute}`;
  // No leap seconds: devices and Unix time have none.
  if (t.second > 59) return `second ${t.second}`;
  return undefined;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `YYYY-MM-DD HH:MM:SS`, the one form rollcall writes. */
export function formatLocalDateTime(t: LocalDateTime): string {
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}

/** A time zone that turns wall-clock times into Unix seconds and back. */
export interface Zone {
  readonly name: string;
  toUnixSeconds(local: LocalDateTime): number;
  toLocal(seconds: number): LocalDateTime;
}

/** Whether Intl knows the zone name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * A zone for an IANA name (throws RangeError for an unknown one). It remembers the UTC
 * offsets it looked up, per minute, because a file has few distinct dates and Intl is slow.
 */
export function timeZone(name: string): Zone {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: name,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    era: 'short',
  });
  const isUtc = format.resolvedOptions().timeZone === 'UTC';
  const offsets = new Map<number, number>();

  /** Offset of the zone from UTC, in ms, at an instant. */
  const offsetAt = (utcMs: number): number => {
    if (isUtc) return 0;
    const minute = Math.floor(utcMs / 60_000);
    const known = offsets.get(minute);
    if (known !== undefined) return known;
    const at = minute * 60_000;
    const parts: Record<string, string> = {};
    for (const part of format.formatToParts(new Date(at))) parts[part.type] = part.value;
    const era = parts['era'] === 'BC' ? -1 : 1;
    const year = era === 1 ? Number(parts['year']) : 1 - Number(parts['year']);
    const wall = wallClockMs({
      year,
      month: Number(parts['month']),
      day: Number(parts['day']),
      hour: Number(parts['hour']),
      minute: Number(parts['minute']),
      second: Number(parts['second']),
    });
    const offset = wall - at;
    if (offsets.size >= 4096) offsets.clear();
    offsets.set(minute, offset);
    return offset;
  };

  return {
    name,
    toUnixSeconds(local) {
      const wall = wallClockMs(local);
      const wallFor = (utc: number): number => utc + offsetAt(utc);
      // The offsets a day before and after bracket any one DST change.
      const early = wall - offsetAt(wall - 86_400_000);
      const late = wall - offsetAt(wall + 86_400_000);
      const earlyFits = wallFor(early) === wall;
      const lateFits = wallFor(late) === wall;
      let utc: number;
      if (earlyFits && lateFits) utc = Math.min(early, late);
      else if (earlyFits) utc = early;
      else if (lateFits) utc = late;
      // Skipped by a DST change: read with the offset from before it.
      else utc = early;
      return Math.floor(utc / 1000);
    },
    toLocal(seconds) {
      const utc = seconds * 1000;
      const wall = new Date(utc + offsetAt(utc));
      return {
        year: wall.getUTCFullYear(),
        month: wall.getUTCMonth() + 1,
        day: wall.getUTCDate(),
        hour: wall.getUTCHours(),
        minute: wall.getUTCMinutes(),
        second: wall.getUTCSeconds(),
      };
    },
  };
}

/** A wall-clock time read as if it were UTC, in ms. (Date.UTC would read years 0–99 as 1900–1999.) */
function wallClockMs(t: LocalDateTime): number {
  const date = new Date(0);
  date.setUTCFullYear(t.year, t.month - 1, t.day);
  date.setUTCHours(t.hour, t.minute, t.second, 0);
  return date.getTime();
}

/**
 * BioStar's default period, which it shows for a user without limits. rollcall writes it
 * for 0 ("no limit"), since BioStar hides users whose start is empty, and reads it back as 0.
 */
export const NO_LIMIT_START: LocalDateTime = { year: 2001, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
export const NO_LIMIT_EXPIRY: LocalDateTime = { year: 2037, month: 12, day: 31, hour: 23, minute: 59, second: 59 };

export type PeriodEnd = 'start' | 'expiry';
export type PeriodRead = { ok: true; seconds: number } | { ok: false; reason: string };

/**
 * A start_datetime or expiry_datetime cell → Unix seconds (0 = no limit). A date without a
 * time means the whole day: the start at 00:00:00, the expiry at 23:59:59.
 */
export function readPeriodCell(end: PeriodEnd, text: string, options: { dayFirst: boolean; zone: Zone }): PeriodRead {
  const parsed = parseLocalDateTime(text, options);
  if (!parsed.ok) return parsed;
  const local = parsed.hasTime || end === 'start' ? parsed.local : { ...parsed.local, hour: 23, minute: 59, second: 59 };
  if (end === 'start' && sameWallTime(local, NO_LIMIT_START)) return { ok: true, seconds: 0 };
  // Minutes are enough: BioStar's UI edits the expiry to the minute.
  if (end === 'expiry' && sameWallTime({ ...local, second: 59 }, NO_LIMIT_EXPIRY)) return { ok: true, seconds: 0 };
  const seconds = options.zone.toUnixSeconds(local);
  if (seconds < 0) return { ok: false, reason: `date "${text}" is before 1970-01-01 00:00:00 UTC` };
  if (seconds > MAX_DEVICE_TIME) return { ok: false, reason: `date "${text}" is after 2106-02-07 06:28:15 UTC, the last time a device can hold` };
  return { ok: true, seconds };
}

export type PeriodCellReader = (end: PeriodEnd, text: string) => PeriodRead;

/**
 * readPeriodCell with a memory: a file repeats a handful of dates over thousands of rows,
 * and reading one through Intl costs far more than a lookup. One per file being read.
 */
export function periodCellReader(options: { dayFirst: boolean; zone: Zone }): PeriodCellReader {
  const memo = new Map<string, PeriodRead>();
  return (end, text) => {
    const key = `${end} ${text}`;
    let read = memo.get(key);
    if (read === undefined) {
      read = readPeriodCell(end, text, options);
      if (memo.size >= 10_000) memo.clear();
      memo.set(key, read);
    }
    return read;
  };
}

/** Unix seconds → the text of a start_datetime or expiry_datetime cell. */
export function writePeriodCell(end: PeriodEnd, seconds: number, zone: Zone): string {
  if (seconds === 0) return formatLocalDateTime(end === 'start' ? NO_LIMIT_START : NO_LIMIT_EXPIRY);
  return formatLocalDateTime(zone.toLocal(seconds));
}

function sameWallTime(a: LocalDateTime, b: LocalDateTime): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
}
