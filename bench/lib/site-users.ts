/**
 * The users the benchmarks sync: deterministic, and shaped like a card-and-PIN site's
 * (a name, one CSN card, a PIN hash, one access group; about 100 bytes on the wire), the
 * same shape the simulator's own measurements use.
 */
import { createHash } from 'node:crypto';
import { CardType, emptyUser, type User } from '../../daemon/model/user.js';
import { csnToCardData } from '../../daemon/model/csn.js';

/** User IDs start here so that every ID has the same number of digits in a run. */
export const FIRST_USER_ID = 100_000;

/** A stand-in for the 32-byte hash the gateway's GetPINHash returns, fixed per user. */
function pinHashOf(n: number): string {
  return createHash('sha256').update(`bench-pin-${n}`).digest('base64');
}

/** The site user number `n` (IDs FIRST_USER_ID + n); `variant` changes the name, as an edit would. */
export function siteUser(n: number, variant = 0): User {
  const id = String(FIRST_USER_ID + n);
  return {
    ...emptyUser(id),
    name: variant === 0 ? `User ${id}` : `User ${id} v${variant}`,
    cards: [{ type: CardType.CSN, data: csnToCardData(BigInt(1_000_000 + n)) }],
    accessGroups: [1],
    pinHash: pinHashOf(n),
  };
}

export function siteUsers(count: number, first = 0): User[] {
  return Array.from({ length: count }, (_, i) => siteUser(first + i));
}
