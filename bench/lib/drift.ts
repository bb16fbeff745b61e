/**
 * The drift of the reconcile benchmark: which users a device lost, holds in another
 * version, or holds without the database knowing them. Deterministic, spread evenly over
 * the ID range.
 */
import { csnToCardData } from '../../daemon/model/csn.js';
import { CardType, type User } from '../../daemon/model/user.js';
import { siteUser } from './site-users.js';

export interface Drift {
  /** In the database, deleted from the device. */
  missing: string[];
  /** On the device with another card count (what the cheap check compares). */
  changed: User[];
  /** On the device, unknown to the database. */
  extra: User[];
}

/** `share` of `users` drifted, spread evenly over the ID range, in three equal kinds. */
export function driftOf(users: readonly User[], share: number): Drift {
  const count = Math.round(users.length * share);
  const drift: Drift = { missing: [], changed: [], extra: [] };
  for (let j = 0; j < count; j++) {
    const base = users[Math.floor((j * users.length) / count)]!;
    if (j % 3 === 0) drift.missing.push(base.id);
    else if (j % 3 === 1) drift.changed.push({ ...base, cards: [...base.cards, { type: CardType.CSN, data: csnToCardData(BigInt(9_000_000 + j)) }] });
    else drift.extra.push(siteUser(users.length + j));
  }
  return drift;
}
