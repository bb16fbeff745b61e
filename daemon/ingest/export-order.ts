/**
 * The order an export lists users in: BioStar's, numeric IDs by number (1, 2, …, 1001),
 * then alphanumeric IDs in text order.
 *
 * The store scans users in key order, which is text order (1, 1001, 2, …), and keys stay
 * as they are (the change feed, the cursors and the admin API's paging rely on them). So
 * the IDs alone are read first and sorted, then the users are read in pages of that order:
 * memory holds the IDs (at most 32 ASCII bytes each; about 20 MB for 500,000) and one page
 * of users, never every user. A user deleted between the two reads is left out; one added
 * after the IDs were read waits for the next export.
 */
import type { Store } from '../plugins/api.js';
import type { User } from '../model/user.js';

/** Users read per page in ID order. */
export const EXPORT_PAGE_USERS = 256;

/** BioStar's order of user IDs: numeric ones by number, then the others as text. */
export function compareUserIds(a: string, b: string): number {
  const numericA = isNumeric(a);
  const numericB = isNumeric(b);
  if (numericA !== numericB) return numericA ? -1 : 1;
  if (numericA) {
    // Same number of digits without leading zeros: text order is number order.
    const x = withoutLeadingZeros(a);
    const y = withoutLeadingZeros(b);
    if (x.length !== y.length) return x.length - y.length;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every user of `store` in BioStar's ID order (compareUserIds). */
export async function* usersInIdOrder(
  store: Pick<Store, 'scanUsers' | 'getUsers'>,
  options: { pageSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<User> {
  const { signal } = options;
  const pageSize = options.pageSize ?? EXPORT_PAGE_USERS;
  const ids: string[] = [];
  for await (const user of store.scanUsers()) {
    ids.push(user.id);
    if (ids.length % pageSize === 0) signal?.throwIfAborted();
  }
  ids.sort(compareUserIds);
  for (let start = 0; start < ids.length; start += pageSize) {
    signal?.throwIfAborted();
    for (const user of await store.getUsers(ids.slice(start, start + pageSize))) {
      if (user !== undefined) yield user;
    }
  }
}

function isNumeric(id: string): boolean {
  if (id.length === 0) return false;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

function withoutLeadingZeros(id: string): string {
  let i = 0;
  while (i < id.length - 1 && id.charCodeAt(i) === 48) i++;
  return i === 0 ? id : id.slice(i);
}
