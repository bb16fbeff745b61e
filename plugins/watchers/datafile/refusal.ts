/**
 * The two ways a data file is turned away as a whole. ARCHIVE_HOSTILE: the archive holds
 * something a data file never holds (links, devices, paths that leave the archive, names
 * outside the layout, sizes past a cap). IMPORT_REFUSED: it is damaged, truncated, not a
 * rollcall data file, of another template format, or does not match its own manifest.
 * Every message names the member it is about (or the last good one, when the damage sits
 * between members), so an operator knows where to look.
 */
import { RollcallError } from '../../../daemon/errors.js';

/** Where in the archive a problem sits. */
export type Place = { member: string } | { after: string | undefined };

/**
 * A member name as it may appear in a message: quoted, escaped, bounded. Names come from
 * the archive, so they may hold control characters meant for a terminal.
 */
export function quoteMember(name: string): string {
  const shown = name.length > 120 ? `${name.slice(0, 120)}…` : name;
  return `'${JSON.stringify(shown).slice(1, -1)}'`;
}

export function describePlace(place: Place): string {
  if ('member' in place) return `member ${quoteMember(place.member)}`;
  return place.after === undefined ? 'before the first member' : `after member ${quoteMember(place.after)}`;
}

function detailOf(place: Place, extra: Record<string, unknown> | undefined): Record<string, unknown> {
  const where = 'member' in place ? { member: place.member } : { after: place.after ?? null };
  return { ...where, ...extra };
}

export function hostile(place: Place, why: string, extra?: Record<string, unknown>): RollcallError {
  return new RollcallError('ROLLCALL_ERR_ARCHIVE_HOSTILE', `${describePlace(place)}: ${why}`, {
    detail: detailOf(place, extra),
  });
}

export function refused(place: Place, why: string, extra?: Record<string, unknown>): RollcallError {
  return new RollcallError('ROLLCALL_ERR_IMPORT_REFUSED', `${describePlace(place)}: ${why}`, {
    detail: detailOf(place, extra),
  });
}
