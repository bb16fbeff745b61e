/**
 * Times as operators type them on the command line. Pure: `now` is passed in. Dates and
 * times without a zone are the local time of the machine the CLI runs on.
 */

const DURATION = /^(\d+)\s*(s|m|h|d|w)$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export type TimeRead = { ok: true; ms: number } | { ok: false; reason: string };

function localDate(y: string, mo: string, d: string, h = '0', mi = '0', s = '0'): number | undefined {
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // new Date rolls 2026-02-30 over to March; such a date was a typo. (A local time skipped by
  // a DST change is moved forward, which is what people mean.)
  if (date.getFullYear() !== Number(y) || date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d)) return undefined;
  return date.getTime();
}

/**
 * A point in time: a duration back from now ("90s", "15m", "2h", "3d", "1w"), "today",
 * "yesterday", a date ("2026-11-23", local midnight), a local date and time
 * ("2026-11-23 10:00", "2026-11-23T10:00:30") or ISO 8601 with a zone.
 */
export function readTime(text: string, now: number): TimeRead {
  const t = text.trim();
  const duration = DURATION.exec(t);
  if (duration) return { ok: true, ms: now - Number(duration[1]) * UNIT_MS[duration[2]!.toLowerCase()]! };
  if (t === 'today' || t === 'yesterday') {
    const d = new Date(now);
    d.setHours(0, 0, 0, 0);
    if (t === 'yesterday') d.setDate(d.getDate() - 1);
    return { ok: true, ms: d.getTime() };
  }
  const date = DATE.exec(t);
  if (date) {
    const ms = localDate(date[1]!, date[2]!, date[3]!);
    return ms === undefined ? { ok: false, reason: `${JSON.stringify(text)} is not a date` } : { ok: true, ms };
  }
  const dateTime = DATE_TIME.exec(t);
  if (dateTime) {
    const ms = localDate(dateTime[1]!, dateTime[2]!, dateTime[3]!, dateTime[4], dateTime[5], dateTime[6] ?? '0');
    return ms === undefined ? { ok: false, reason: `${JSON.stringify(text)} is not a date and time` } : { ok: true, ms };
  }
  if (/^\d{4}-\d{2}-\d{2}T.+(Z|[+-]\d{2}:?\d{2})$/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return { ok: true, ms };
  }
  return { ok: false, reason: `${JSON.stringify(text)} is not a time: use a duration back from now (15m, 2h, 3d), today, yesterday, a date (2026-11-23) or a date and time (2026-11-23 10:00)` };
}

export type SecondsRead = { ok: true; seconds: number } | { ok: false; reason: string };

/**
 * A user's validity bound in Unix seconds: 0 or "none" for no limit, a date, or a local
 * date and time. A date alone as the end of the period means the end of that day.
 */
export function readValidity(text: string, bound: 'start' | 'end'): SecondsRead {
  const t = text.trim();
  if (t === '0' || t.toLowerCase() === 'none') return { ok: true, seconds: 0 };
  const date = DATE.exec(t);
  if (date) {
    const ms = localDate(date[1]!, date[2]!, date[3]!, bound === 'end' ? '23' : '0', bound === 'end' ? '59' : '0', bound === 'end' ? '59' : '0');
    if (ms !== undefined) return { ok: true, seconds: Math.floor(ms / 1000) };
  }
  const dateTime = DATE_TIME.exec(t);
  if (dateTime) {
    const ms = localDate(dateTime[1]!, dateTime[2]!, dateTime[3]!, dateTime[4], dateTime[5], dateTime[6] ?? '0');
    if (ms !== undefined) return { ok: true, seconds: Math.floor(ms / 1000) };
  }
  if (/^\d{4}-\d{2}-\d{2}T.+(Z|[+-]\d{2}:?\d{2})$/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return { ok: true, seconds: Math.floor(ms / 1000) };
  }
  return { ok: false, reason: `${JSON.stringify(text)} is not a date: use 2026-11-23, 2026-11-23 08:00, or 0 for no limit` };
}
