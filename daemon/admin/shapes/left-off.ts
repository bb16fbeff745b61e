/**
 * Credentials a device's copies of users leave off (daemon/model/device-copy.ts), as the
 * admin API shows them: the engine's totals → the wire's LeftOff → the objects in --json.
 * One list of fields, used by checks (verify, sync --full), plans and `users show`.
 */
import { leftOffText, type LeftOff, type LeftOffTotal } from '../../model/device-copy.js';
import type { LeftOff as WireLeftOff } from '../../../proto/gen/rollcall/admin/v1/admin.js';
import type { Field } from './field.js';

export interface LeftOffJson {
  credential: string;
  reason: string;
  count: number;
  users: number;
  text: string;
}

function toWire(item: LeftOff | LeftOffTotal): WireLeftOff {
  return { credential: item.what, reason: item.reason, count: item.count, users: 'users' in item ? item.users : 1, text: leftOffText(item) };
}

function toJson(item: WireLeftOff): LeftOffJson {
  return { credential: item.credential, reason: item.reason, count: item.count, users: item.users, text: item.text };
}

/** A repeated LeftOff field (absent in the daemon's value: none). */
export const leftOffList: Field<readonly (LeftOff | LeftOffTotal)[] | undefined, WireLeftOff[], LeftOffJson[]> = {
  toWire: (value) => (value ?? []).map(toWire),
  toJson: (value) => value.map(toJson),
};

/** One line per kind and reason, for human output. */
export function leftOffLines(items: readonly LeftOffJson[], indent: string): string[] {
  return items.map((item) => `${indent}left off: ${item.text}${item.users > 1 ? ` for ${item.users} users` : ''}`);
}
