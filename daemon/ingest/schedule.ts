/**
 * When a scheduled export is due. Three forms, as the watchers' configs write them:
 *
 * - an interval, `90s`, `15m`, `6h`, `1d`: every so often, counted from the daemon's start
 *   (or the last run), not aligned to the clock;
 * - daily times, `"02:30"` or a list of them: every day at that wall-clock time;
 * - a five-field cron expression, `0 2 * * 1-5`: minute, hour, day of month, month, day
 *   of week (0 or 7 is Sunday), each `*`, a number, a range `a-b`, a step (`a-b/n`, `a/n`,
 *   or `*` followed by `/n`), or a comma list of those. As in Vixie cron, when both day fields are
 *   restricted a day matching either one fires. Names (MON, JAN) and `@daily`-style
 *   shortcuts are not read.
 *
 * Times are the server's local time. A time the clock skips when DST starts does not
 * fire that day for cron, and an hour later for the daily form (02:30 becomes 03:30); a
 * time in the hour repeated when DST ends fires once. Pure: the caller passes `now`.
 */

export type ExportSchedule =
  | { kind: 'interval'; ms: number }
  | { kind: 'daily'; times: { hour: number; minute: number }[] }
  | { kind: 'cron'; cron: CronFields };

export interface CronFields {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  /** Whether the day-of-month and day-of-week fields were `*` (Vixie's either-day rule). */
  anyDay: boolean;
  anyWeekday: boolean;
}

const INTERVAL = /^(\d+)([smhd])$/;
const DAILY = /^([01]\d|2[0-3]):([0-5]\d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** A cron expression that does not fire within this many years never will (30 February). */
const CRON_HORIZON_YEARS = 9;

/**
 * Reads a schedule; throws a RangeError saying what is wrong. A list is daily times (the
 * datafile watcher's form); a string is an interval, one daily time or a cron expression.
 */
export function parseSchedule(spec: string | readonly string[]): ExportSchedule {
  if (typeof spec !== 'string') {
    if (spec.length === 0) throw new RangeError('no export times given');
    return { kind: 'daily', times: spec.map(parseDaily) };
  }
  const text = spec.trim();
  const interval = INTERVAL.exec(text);
  if (interval) {
    const ms = Number(interval[1]) * UNIT_MS[interval[2] as keyof typeof UNIT_MS];
    if (ms < 1000) throw new RangeError(`interval ${JSON.stringify(spec)} is shorter than a second`);
    return { kind: 'interval', ms };
  }
  if (DAILY.test(text)) return { kind: 'daily', times: [parseDaily(text)] };
  const fields = text.split(/\s+/);
  if (fields.length !== 5) {
    throw new RangeError(`schedule ${JSON.stringify(spec)} is neither an interval (90s, 15m, 6h, 1d), a time (HH:MM) nor a five-field cron expression`);
  }
  const [minute, hour, day, month, weekday] = fields as [string, string, string, string, string];
  const weekdays = cronField(weekday, 0, 7, 'day of week');
  if (weekdays.has(7)) weekdays.add(0);
  const schedule: ExportSchedule = {
    kind: 'cron',
    cron: {
      minutes: cronField(minute, 0, 59, 'minute'),
      hours: cronField(hour, 0, 23, 'hour'),
      days: cronField(day, 1, 31, 'day of month'),
      months: cronField(month, 1, 12, 'month'),
      weekdays,
      anyDay: day === '*',
      anyWeekday: weekday === '*',
    },
  };
  if (nextCron(schedule.cron, new Date(2000, 0, 1)) === undefined) {
    throw new RangeError(`cron expression ${JSON.stringify(spec)} never fires (no such day)`);
  }
  return schedule;
}

/**
 * The next time the schedule fires strictly after `now`; for an interval, `now` plus the
 * interval. Undefined only for a cron expression that never fires.
 */
export function nextFire(schedule: ExportSchedule, now: Date): Date | undefined {
  switch (schedule.kind) {
    case 'interval':
      return new Date(now.getTime() + schedule.ms);
    case 'daily':
      return nextDaily(schedule.times, now);
    case 'cron':
      return nextCron(schedule.cron, now);
  }
}

function parseDaily(time: string): { hour: number; minute: number } {
  const match = DAILY.exec(time.trim());
  if (!match) throw new RangeError(`export time ${JSON.stringify(time)} is not HH:MM (24-hour)`);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

function nextDaily(times: readonly { hour: number; minute: number }[], now: Date): Date {
  let next: Date | undefined;
  for (const { hour, minute } of times) {
    const at = new Date(now.getFullYear(), now.getMonth(), now.getDate(), hour, minute, 0, 0);
    // setDate, not +24 h: a day across a DST change is 23 or 25 hours long.
    if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
    if (next === undefined || at.getTime() < next.getTime()) next = at;
  }
  return next!;
}

function cronField(text: string, min: number, max: number, what: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new RangeError(`cron ${what} ${JSON.stringify(part)} is not *, N, N-M or a step of those`);
    const step = match[4] === undefined ? 1 : Number(match[4]);
    if (step < 1) throw new RangeError(`cron ${what} step in ${JSON.stringify(part)} must be at least 1`);
    let from = min;
    let to = max;
    if (match[1] !== '*') {
      from = Number(match[2]);
      // `a/n` runs from a to the end of the range, as in Vixie cron.
      to = match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? max : from;
    }
    if (from < min || to > max || from > to) {
      throw new RangeError(`cron ${what} ${JSON.stringify(part)} is outside ${min}-${max} or runs backwards`);
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

function dayMatches(cron: CronFields, at: Date): boolean {
  const day = cron.days.has(at.getDate());
  const weekday = cron.weekdays.has(at.getDay());
  if (cron.anyDay && cron.anyWeekday) return true;
  if (cron.anyDay) return weekday;
  if (cron.anyWeekday) return day;
  return day || weekday;
}

function nextCron(cron: CronFields, now: Date): Date | undefined {
  const at = new Date(now.getTime());
  at.setSeconds(0, 0);
  at.setMinutes(at.getMinutes() + 1);
  const horizon = new Date(now.getTime());
  horizon.setFullYear(horizon.getFullYear() + CRON_HORIZON_YEARS);
  // Local-time setters step by wall-clock fields, so a skipped hour is stepped over and a
  // repeated hour is visited once.
  while (at.getTime() <= horizon.getTime()) {
    if (!cron.months.has(at.getMonth() + 1)) {
      at.setMonth(at.getMonth() + 1, 1);
      at.setHours(0, 0, 0, 0);
    } else if (!dayMatches(cron, at)) {
      at.setDate(at.getDate() + 1);
      at.setHours(0, 0, 0, 0);
    } else if (!cron.hours.has(at.getHours())) {
      at.setHours(at.getHours() + 1, 0, 0, 0);
    } else if (!cron.minutes.has(at.getMinutes())) {
      at.setMinutes(at.getMinutes() + 1, 0, 0);
    } else {
      return at;
    }
  }
  return undefined;
}
