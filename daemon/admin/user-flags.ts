/**
 * `rollcall users set`: the user to send, from flags or from a JSON/YAML file. Pure, apart
 * from the caller reading the file. A plaintext PIN is split off the user into its own
 * field of the request, to be hashed by the daemon and dropped.
 */
import { parse as parseYaml } from 'yaml';
import { CardType } from '../model/user.js';
import { readCsn } from '../model/csn.js';
import { readValidity } from './time-input.js';

export interface UserSetFlags {
  name?: string;
  department?: string;
  title?: string;
  phone?: string;
  email?: string;
  group?: string;
  start?: string;
  end?: string;
  disable?: boolean;
  enable?: boolean;
  securityLevel?: string;
  accessGroups?: string;
  csn?: string[];
  clearCards?: boolean;
  clearPin?: boolean;
  custom?: string[];
}

/** One user of the request: its JSON and an optional plaintext PIN. */
export interface UserItem {
  json: string;
  pin: string;
}

export type Built = { ok: true; items: UserItem[] } | { ok: false; reason: string };

/** The user object the flags describe (only the fields given). */
export function userFromFlags(id: string, flags: UserSetFlags): { ok: true; user: Record<string, unknown> } | { ok: false; reason: string } {
  const user: Record<string, unknown> = { id };
  const text = { name: 'name', department: 'department', title: 'title', phone: 'phone', email: 'email', group: 'userGroup' } as const;
  for (const [flag, field] of Object.entries(text) as [keyof typeof text, string][]) {
    if (flags[flag] !== undefined) user[field] = flags[flag];
  }
  if (flags.start !== undefined) {
    const read = readValidity(flags.start, 'start');
    if (!read.ok) return { ok: false, reason: `--start: ${read.reason}` };
    user.startTime = read.seconds;
  }
  if (flags.end !== undefined) {
    const read = readValidity(flags.end, 'end');
    if (!read.ok) return { ok: false, reason: `--end: ${read.reason}` };
    user.endTime = read.seconds;
  }
  if (flags.disable && flags.enable) return { ok: false, reason: '--disable and --enable contradict each other' };
  if (flags.disable) user.disabled = true;
  if (flags.enable) user.disabled = false;
  if (flags.securityLevel !== undefined) {
    if (!/^[0-5]$/.test(flags.securityLevel)) return { ok: false, reason: `--security-level: must be 0 (device default) to 5, got ${JSON.stringify(flags.securityLevel)}` };
    user.securityLevel = Number(flags.securityLevel);
  }
  if (flags.accessGroups !== undefined) {
    const parts = flags.accessGroups.split(',').map((p) => p.trim()).filter((p) => p !== '');
    if (parts.some((p) => !/^\d+$/.test(p))) return { ok: false, reason: `--access-groups: a comma-separated list of group numbers (or "" for none), got ${JSON.stringify(flags.accessGroups)}` };
    user.accessGroups = parts.map(Number);
  }
  if (flags.clearCards && flags.csn?.length) return { ok: false, reason: '--clear-cards and --csn contradict each other' };
  if (flags.clearCards) user.cards = [];
  if (flags.csn?.length) {
    const cards = [];
    for (const csn of flags.csn) {
      const read = readCsn(csn.trim());
      if (!read.ok) return { ok: false, reason: `--csn: ${read.reason}` };
      cards.push({ type: CardType.CSN, data: read.data });
    }
    user.cards = cards;
  }
  if (flags.clearPin) user.pinHash = null;
  if (flags.custom?.length) {
    const custom: Record<string, string> = {};
    for (const entry of flags.custom) {
      const eq = entry.indexOf('=');
      if (eq <= 0) return { ok: false, reason: `--custom: expected NAME=VALUE, got ${JSON.stringify(entry)}` };
      custom[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    user.custom = custom;
  }
  return { ok: true, user };
}

/** Whether any flag that sets a field was given (a bare `users set ID` changes nothing). */
export function anyField(flags: UserSetFlags): boolean {
  return Object.entries(flags).some(([key, value]) => key !== 'replace' && value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0));
}

/** Splits a plaintext `pin` off one user object. */
function splitPin(user: Record<string, unknown>, where: string): { ok: true; item: UserItem } | { ok: false; reason: string } {
  const { pin, ...rest } = user;
  if (pin !== undefined && pin !== null && typeof pin !== 'string') {
    return { ok: false, reason: `${where}pin: write the PIN as a quoted string ("0123"); as a number it loses its leading zeros` };
  }
  return { ok: true, item: { json: JSON.stringify(rest), pin: typeof pin === 'string' ? pin : '' } };
}

/** The users in a JSON or YAML file: one user object, or a list of them. */
export function usersFromFile(text: string): Built {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    return { ok: false, reason: `not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}` };
  }
  const users = Array.isArray(value) ? value : [value];
  if (users.length === 0) return { ok: false, reason: 'the file holds no user' };
  const items: UserItem[] = [];
  for (const [i, user] of users.entries()) {
    const where = Array.isArray(value) ? `[${i}].` : '';
    if (typeof user !== 'object' || user === null || Array.isArray(user)) return { ok: false, reason: `${where || 'the file '}must be a user object (or a list of them)` };
    const split = splitPin(user as Record<string, unknown>, where);
    if (!split.ok) return split;
    items.push(split.item);
  }
  return { ok: true, items };
}
