/**
 * When the next scheduled export is due. Times are "HH:MM" in the server's local time,
 * every day: operators think of "the nightly export at 02:30", not of intervals.
 */
import { RollcallError } from '../../../daemon/errors.js';

export const EXPORT_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** The earliest of `times` strictly after `now`. `times` must be non-empty and valid. */
export function nextExportAt(now: Date, times: readonly string[]): Date {
  let next: Date | undefined;
  for (const time of times) {
    const match = EXPORT_TIME.exec(time);
    if (!match) throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `export time ${JSON.stringify(time)} is not HH:MM`);
    const at = new Date(now.getFullYear(), now.getMonth(), now.getDate(), Number(match[1]), Number(match[2]), 0, 0);
    // setDate, not +24 h: a day across a DST change is 23 or 25 hours long.
    if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
    if (next === undefined || at.getTime() < next.getTime()) next = at;
  }
  if (next === undefined) throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', 'no export times given');
  return next;
}
