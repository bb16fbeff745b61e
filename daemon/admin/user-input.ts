/**
 * A user as an operator sends it (JSON in the shape of daemon/model/user.ts) → the user to
 * store. Pure. Every problem is named by its field: shape problems here (unknown keys,
 * server-only fields), device rules by validateUser. Values of secrets (card data,
 * templates, the PIN hash, the photo) are never quoted.
 */
import { DEVICE_FIELDS, SERVER_FIELDS, emptyUser, type User } from '../model/user.js';
import { validateUser } from '../model/validate.js';
import type { RequestIssue } from './request-error.js';

type UserKey = keyof User;

const DEVICE_KEYS = ['id', ...DEVICE_FIELDS] as const;
const SERVER_KEYS = SERVER_FIELDS;
const KNOWN_KEYS: ReadonlySet<string> = new Set<string>([...DEVICE_KEYS, ...SERVER_KEYS]);
/** Keys a null removes. */
const OPTIONAL_KEYS: ReadonlySet<string> = new Set<string>(['pinHash', 'photo', ...SERVER_KEYS]);

/**
 * Server-only text limits. BioStar documents 64 characters for department; the others have
 * no documented limit, so these only keep a record sane.
 */
export const SERVER_TEXT_MAX_CHARS: Readonly<Record<'department' | 'title' | 'phone' | 'email' | 'userGroup', number>> = {
  department: 64,
  title: 128,
  phone: 64,
  email: 320,
  userGroup: 128,
};
export const MAX_CUSTOM_FIELDS = 64;
export const MAX_CUSTOM_NAME_CHARS = 64;
export const MAX_CUSTOM_VALUE_CHARS = 256;

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** What one user of a SetUser request asks for. */
export interface UserPatchInput {
  id: string;
  /** Fields to set, as sent (types are checked after they are applied). */
  set: Partial<Record<UserKey, unknown>>;
  /** Optional fields sent as null: removed. */
  remove: UserKey[];
}

export type ReadUserInput = { ok: true; input: UserPatchInput } | { ok: false; issues: RequestIssue[] };

function issue(field: string, rule: string, text: string): RequestIssue {
  return { field, rule, message: `${field}: ${text}` };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses one user's JSON. The ID must be present; keys must be User fields. */
export function readUserInput(json: string): ReadUserInput {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, issues: [issue('user', 'json', `is not valid JSON (${(error as Error).message})`)] };
  }
  if (!isPlainObject(value)) return { ok: false, issues: [issue('user', 'type', 'must be a JSON object')] };
  const issues: RequestIssue[] = [];
  const set: Partial<Record<UserKey, unknown>> = {};
  const remove: UserKey[] = [];
  for (const [key, field] of Object.entries(value)) {
    if (key === 'pin') {
      issues.push(issue('pin', 'unknown', 'a plaintext PIN goes in the request\'s pin field (rollcall users set --pin), not in the user'));
      continue;
    }
    if (!KNOWN_KEYS.has(key)) {
      issues.push(issue(key, 'unknown', `unknown field (known: ${[...KNOWN_KEYS].join(', ')})`));
      continue;
    }
    if (field === null) {
      if (OPTIONAL_KEYS.has(key)) remove.push(key as UserKey);
      else issues.push(issue(key, 'required', 'cannot be null (only optional fields can be removed)'));
      continue;
    }
    set[key as UserKey] = field;
  }
  const id = value.id;
  if (typeof id !== 'string' || id === '') issues.push(issue('id', 'required', 'a user ID (a string) is required'));
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, input: { id: id as string, set, remove } };
}

/**
 * The user to store: `current` (or an empty user when there is none or `replace`) with the
 * input applied. `auth` and `custom` merge key by key (a custom value of null removes that
 * key); every other field is replaced whole.
 */
export function applyUserInput(current: User | undefined, input: UserPatchInput, replace: boolean): User {
  const user: User = replace || !current ? emptyUser(input.id) : structuredClone(current);
  const record = user as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(input.set)) {
    if (key === 'auth' && isPlainObject(value)) {
      user.auth = { ...user.auth, ...(value as Partial<User['auth']>) };
    } else if (key === 'custom' && isPlainObject(value)) {
      const custom: Record<string, unknown> = { ...user.custom };
      for (const [name, text] of Object.entries(value)) {
        if (text === null) delete custom[name];
        else custom[name] = text;
      }
      if (Object.keys(custom).length > 0) record.custom = custom;
      else delete user.custom;
    } else {
      record[key] = value;
    }
  }
  for (const key of input.remove) delete record[key];
  return user;
}

/** Every rule `user` breaks: the device rules (validateUser) and the server-only fields. */
export function userIssues(user: User): RequestIssue[] {
  // The site's ID rule is checked per device at placement (a device with alphanumeric IDs off
  // leaves such a user alone, with a reason); here only what no device would take is refused.
  const issues: RequestIssue[] = validateUser(user, undefined, { alphanumericIds: true }).map(({ field, rule, message }) => ({ field, rule, message }));
  issues.push(...serverFieldIssues(user), ...nestedKeyIssues(user));
  const unknownAuth = Object.keys(isPlainObject(user.auth) ? user.auth : {}).filter((k) => !['biometric', 'card', 'id', 'faceExt', 'fingerExt', 'cardExt', 'idExt'].includes(k));
  for (const key of unknownAuth) issues.push(issue(`auth.${key}`, 'unknown', 'unknown auth mode (known: biometric, card, id, faceExt, fingerExt, cardExt, idExt)'));
  return issues;
}

/** The keys each element of a credential list may have; anything else would be stored as junk. */
const ELEMENT_KEYS: Readonly<Record<'cards' | 'fingers' | 'faces' | 'jobCodes', readonly string[]>> = {
  cards: ['type', 'data'],
  fingers: ['index', 'flag', 'templates'],
  faces: ['index', 'flag', 'templates', 'imageData', 'irTemplates', 'irImageData'],
  jobCodes: ['code', 'label'],
};

function nestedKeyIssues(user: User): RequestIssue[] {
  const issues: RequestIssue[] = [];
  for (const [list, allowed] of Object.entries(ELEMENT_KEYS)) {
    const elements: unknown = (user as unknown as Record<string, unknown>)[list];
    if (!Array.isArray(elements)) continue;
    elements.forEach((element: unknown, i) => {
      if (!isPlainObject(element)) return;
      for (const key of Object.keys(element)) {
        if (!allowed.includes(key)) issues.push(issue(`${list}[${i}].${key}`, 'unknown', `unknown field (known: ${allowed.join(', ')})`));
      }
    });
  }
  return issues;
}

function characters(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function serverFieldIssues(user: User): RequestIssue[] {
  const issues: RequestIssue[] = [];
  for (const key of ['department', 'title', 'phone', 'email', 'userGroup'] as const) {
    const value: unknown = user[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      issues.push(issue(key, 'type', 'must be a string'));
      continue;
    }
    const max = SERVER_TEXT_MAX_CHARS[key];
    const length = characters(value);
    if (length > max) issues.push(issue(key, 'max-chars', `at most ${max} characters (got ${length})`));
    if (/[\u0000-\u001f\u007f]/.test(value)) issues.push(issue(key, 'charset', 'must not contain control characters or line breaks'));
    if (key === 'email' && value !== '' && !EMAIL.test(value)) issues.push(issue(key, 'format', 'is not an email address'));
  }
  const custom: unknown = user.custom;
  if (custom !== undefined) {
    if (!isPlainObject(custom)) {
      issues.push(issue('custom', 'type', 'must be an object of field name → text'));
    } else {
      const names = Object.keys(custom);
      if (names.length > MAX_CUSTOM_FIELDS) issues.push(issue('custom', 'max-count', `at most ${MAX_CUSTOM_FIELDS} custom fields (got ${names.length})`));
      for (const name of names) {
        const field = `custom.${name}`;
        if (name === '' || characters(name) > MAX_CUSTOM_NAME_CHARS) issues.push(issue(field, 'max-chars', `a custom field name is 1 to ${MAX_CUSTOM_NAME_CHARS} characters`));
        const text = custom[name];
        if (typeof text !== 'string') issues.push(issue(field, 'type', 'must be a string'));
        else if (characters(text) > MAX_CUSTOM_VALUE_CHARS) issues.push(issue(field, 'max-chars', `at most ${MAX_CUSTOM_VALUE_CHARS} characters (got ${characters(text)})`));
      }
    }
  }
  return issues;
}
