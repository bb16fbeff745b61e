/**
 * Checks a User against what a device accepts (spec/gsdk-wire.md §2 and §5,
 * spec/biostar-domain.md §1.1), so a bad record is refused with a reason at the door (import,
 * admin API, merge) instead of failing later on every device it is pushed to.
 *
 * Pure: no I/O, no clock. Every broken rule is reported, not only the first. Messages name
 * the field and the rule and never quote a secret (card data, PIN hash, templates, photos).
 * About 400 lines: one rule list of the User record, field by field; split, the rules of one
 * record would have to be read in several places.
 */
import { RollcallError } from '../errors.js';
import type { User } from './user.js';
import {
  DEFAULT_DEVICE_LIMITS,
  FACE_FLAG_EX,
  FINGER_TEMPLATES,
  MAX_NUMERIC_USER_ID,
  PIN_HASH_BYTES,
  resolveDeviceLimits,
  type DeviceLimits,
} from './limits.js';

/** Stable rule identifiers; reports and tests match on these, not on message text. */
export type ValidationRule =
  /** The value has the wrong JavaScript type or shape. */
  | 'type'
  /** A value that must be present is missing or empty. */
  | 'required'
  | 'max-bytes'
  | 'max-chars'
  | 'max-count'
  /** A list must have an exact number of entries (a finger's two templates). */
  | 'count'
  /** The user ID is not a number while alphanumeric IDs are off. */
  | 'numeric'
  /** A number is outside its allowed range. */
  | 'range'
  /** The user ID has a character outside A-Z a-z 0-9 - _ . */
  | 'charset'
  /** The user ID is 0 (or all zeros), the devices' invalid ID. */
  | 'zero'
  /** Text that cannot be written as UTF-8 (a lone surrogate). */
  | 'encoding'
  | 'base64'
  /** Binary data of a fixed size has another size (the PIN hash). */
  | 'exact-bytes'
  | 'uint32'
  | 'int32'
  | 'duplicate'
  | 'end-before-start'
  | 'auth-mode'
  | 'flag';

export interface ValidationIssue {
  /** Path of the offending value, e.g. 'cards[2].data', 'auth.card', 'id'. */
  field: string;
  rule: ValidationRule;
  /** For people: names the field and the rule, e.g. "cards: at most 8 cards per user (got 9)". */
  message: string;
}

export interface ValidationOptions {
  /** The device has SystemConfig.useAlphanumericID on; otherwise IDs are numbers. */
  alphanumericIds?: boolean;
}

const AUTH_MODE_KEYS = ['biometric', 'card', 'id', 'faceExt', 'fingerExt', 'cardExt', 'idExt'] as const;
const AUTH_MODE_MAX = 49;
const AUTH_MODE_PROHIBITED = 0xfe;
const AUTH_MODE_UNDEFINED = 0xff;
const SECURITY_LEVEL_MAX = 5;

const NUMERIC_ID = /^[0-9]+$/;
const ALPHANUMERIC_ID = /^[A-Za-z0-9._-]+$/;
const ALL_ZEROS = /^0+$/;
// With the u flag a surrogate pair is one code point, so this finds only lone halves.
const LONE_SURROGATE = /\p{Cs}/u;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every rule `user` breaks on a device with `limits`; empty when the device would take it. */
export function validateUser(user: User, limits?: Partial<DeviceLimits>, options: ValidationOptions = {}): ValidationIssue[] {
  // No overrides (the import's case, per row): the frozen defaults, not a fresh copy per call.
  const check = new Checker(limits === undefined ? DEFAULT_DEVICE_LIMITS : resolveDeviceLimits(limits));
  if (!isObject(user)) {
    check.issue('user', 'type', 'must be an object');
    return check.issues;
  }
  check.id(user.id, options.alphanumericIds === true);
  check.name(user.name);
  if (typeof user.disabled !== 'boolean') check.issue('disabled', 'type', 'must be true or false');
  check.period(user.startTime, user.endTime);
  check.auth(user.auth);
  if (!Number.isInteger(user.securityLevel) || user.securityLevel < 0 || user.securityLevel > SECURITY_LEVEL_MAX) {
    check.issue('securityLevel', 'range', `must be a whole number from 0 (device default) to ${SECURITY_LEVEL_MAX} (got ${show(user.securityLevel)})`);
  }
  check.cards(user.cards);
  check.fingers(user.fingers);
  check.faces(user.faces);
  check.accessGroups(user.accessGroups);
  check.jobCodes(user.jobCodes);
  check.pinHash(user.pinHash);
  if (user.pinHashScheme !== undefined && (typeof user.pinHashScheme !== 'string' || !/^[0-9a-z-]{1,64}$/.test(user.pinHashScheme))) {
    check.issue('pinHashScheme', 'type', 'the PIN hash scheme must be a gateway scheme id (lowercase hex, at most 64 characters)');
  }
  check.optionalBinary('photo', user.photo, check.limits.maxPhotoBytes, 'a photo');
  return check.issues;
}

/**
 * What validateUser says about the user ID or the name alone (default limits), without
 * building and checking a whole user: the CSV import checks these two cells of every row.
 */
export function fieldIssues(field: 'id' | 'name', value: unknown, options: ValidationOptions = {}): ValidationIssue[] {
  const check = new Checker(DEFAULT_DEVICE_LIMITS);
  if (field === 'id') check.id(value, options.alphanumericIds === true);
  else check.name(value);
  return check.issues.filter((issue) => issue.field === field);
}

/** Throws ROLLCALL_ERR_USER_INVALID listing every issue when `user` breaks a device rule. */
export function assertValidUser(user: User, limits?: Partial<DeviceLimits>, options?: ValidationOptions): void {
  const issues = validateUser(user, limits, options);
  if (issues.length === 0) return;
  const id = isObject(user) && typeof user.id === 'string' ? user.id : undefined;
  const who = id === undefined ? 'user' : `user ${clip(id)}`;
  throw new RollcallError('ROLLCALL_ERR_USER_INVALID', `${who} breaks a device rule: ${formatIssues(issues)}`, {
    detail: { userId: id, issues },
  });
}

/** One line for an error CSV cell or a log message, at most `max` issues spelled out. */
export function formatIssues(issues: readonly ValidationIssue[], max = 5): string {
  const shown = issues.slice(0, max).map((issue) => issue.message);
  if (issues.length > max) shown.push(`and ${issues.length - max} more`);
  return shown.join('; ');
}

class Checker {
  readonly issues: ValidationIssue[] = [];
  readonly limits: Readonly<DeviceLimits>;

  constructor(limits: Readonly<DeviceLimits>) {
    this.limits = limits;
  }

  issue(field: string, rule: ValidationRule, text: string): void {
    this.issues.push({ field, rule, message: `${field}: ${text}` });
  }

  id(id: unknown, alphanumeric: boolean): void {
    if (typeof id !== 'string') return this.issue('id', 'type', 'the user ID must be a string');
    if (id === '') return this.issue('id', 'required', 'a user ID is required');
    const bytes = utf8Bytes(id);
    if (bytes > this.limits.maxUserIdBytes) {
      this.issue('id', 'max-bytes', `the user ID must be at most ${this.limits.maxUserIdBytes} bytes (got ${bytes})`);
    }
    if (ALL_ZEROS.test(id)) return this.issue('id', 'zero', 'the user ID must not be 0 or all zeros (the devices\' invalid ID)');
    if (alphanumeric) {
      if (!ALPHANUMERIC_ID.test(id)) this.issue('id', 'charset', 'the user ID may contain only A-Z a-z 0-9 - _ .');
      return;
    }
    if (!NUMERIC_ID.test(id)) {
      return this.issue('id', 'numeric', `the user ID must be a number from 1 to ${MAX_NUMERIC_USER_ID} unless the device has alphanumeric IDs on`);
    }
    // Past 15 digits Number() rounds, but such a value is far above the limit either way.
    if (Number(id) > MAX_NUMERIC_USER_ID) this.issue('id', 'range', `the user ID must be at most ${MAX_NUMERIC_USER_ID}`);
  }

  name(name: unknown): void {
    if (typeof name !== 'string') return this.issue('name', 'type', 'the name must be a string');
    this.text('name', name, { maxChars: this.limits.maxNameChars, maxBytes: this.limits.maxNameBytes, what: 'the name' });
  }

  period(start: unknown, end: unknown): void {
    const startOk = this.uint32('startTime', start, 'must be Unix seconds from 0 (no limit) to 4294967295');
    const endOk = this.uint32('endTime', end, 'must be Unix seconds from 0 (no limit) to 4294967295');
    if (startOk && endOk && (start as number) > 0 && (end as number) > 0 && (end as number) < (start as number)) {
      this.issue('endTime', 'end-before-start', 'the validity period ends (endTime) before it starts (startTime)');
    }
  }

  auth(auth: unknown): void {
    if (!isObject(auth)) return this.issue('auth', 'type', 'must be an object of private auth modes');
    for (const key of AUTH_MODE_KEYS) {
      const mode = auth[key];
      const valid =
        Number.isInteger(mode) &&
        (((mode as number) >= 0 && (mode as number) <= AUTH_MODE_MAX) || mode === AUTH_MODE_PROHIBITED || mode === AUTH_MODE_UNDEFINED);
      if (!valid) {
        this.issue(
          `auth.${key}`,
          'auth-mode',
          `must be an auth mode from 0 to ${AUTH_MODE_MAX}, 254 (prohibited) or 255 (device default) (got ${show(mode)})`,
        );
      }
    }
  }

  cards(cards: unknown): void {
    if (!this.list('cards', cards, this.limits.maxCards, 'cards per user')) return;
    cards.forEach((card, i) => {
      const field = `cards[${i}]`;
      if (!isObject(card)) return this.issue(field, 'type', 'a card must be an object');
      this.uint32(`${field}.type`, card.type, 'must be a card type number');
      this.binary(`${field}.data`, card.data, this.limits.maxCardDataBytes, 'card data');
    });
  }

  fingers(fingers: unknown): void {
    if (!this.list('fingers', fingers, this.limits.maxFingers, 'fingers per user')) return;
    fingers.forEach((finger, i) => {
      const field = `fingers[${i}]`;
      if (!isObject(finger)) return this.issue(field, 'type', 'a finger must be an object');
      this.int32(`${field}.index`, finger.index);
      if (finger.flag !== 0 && finger.flag !== 1) {
        this.issue(`${field}.flag`, 'flag', `must be 0 (none) or 1 (duress) (got ${show(finger.flag)})`);
      }
      const templates = finger.templates;
      if (!Array.isArray(templates)) return this.issue(`${field}.templates`, 'type', 'must be a list of templates');
      if (templates.length !== FINGER_TEMPLATES) {
        this.issue(`${field}.templates`, 'count', `a finger needs exactly ${FINGER_TEMPLATES} templates (got ${templates.length})`);
      }
      templates.forEach((template, t) => {
        this.binary(`${field}.templates[${t}]`, template, this.limits.maxTemplateBytes, 'a fingerprint template');
      });
    });
  }

  faces(faces: unknown): void {
    if (!this.list('faces', faces, this.limits.maxFaces, 'faces per user')) return;
    faces.forEach((face, i) => {
      const field = `faces[${i}]`;
      if (!isObject(face)) return this.issue(field, 'type', 'a face must be an object');
      this.int32(`${field}.index`, face.index);
      const flagOk = this.uint32(`${field}.flag`, face.flag, 'must be a face flag bit set');
      const visual = flagOk && ((face.flag as number) & FACE_FLAG_EX) !== 0;
      const kind = visual ? 'visual face' : 'face';

      const templates = face.templates;
      if (!Array.isArray(templates)) {
        this.issue(`${field}.templates`, 'type', 'must be a list of templates');
      } else {
        const max = visual ? this.limits.maxVisualFaceTemplates : this.limits.maxFaceTemplates;
        if (templates.length > max) {
          this.issue(`${field}.templates`, 'max-count', `at most ${max} templates per ${kind} (got ${templates.length})`);
        }
        // An IR face template's size is not published, so only visual templates are sized.
        const maxBytes = visual ? this.limits.maxVisualFaceTemplateBytes : undefined;
        templates.forEach((template, t) => this.binary(`${field}.templates[${t}]`, template, maxBytes, `a ${kind} template`));
      }
      // The visual-face image limit (~40 KB) is marked "to confirm" in the SDK header; only
      // the IR image limit is enforced.
      const imageMax = visual ? undefined : this.limits.maxFaceImageBytes;
      const hasImage = this.optionalBinary(`${field}.imageData`, face.imageData, imageMax, `a ${kind} image`);

      if (face.irTemplates !== undefined) {
        const irTemplates = face.irTemplates;
        if (!Array.isArray(irTemplates)) {
          this.issue(`${field}.irTemplates`, 'type', 'must be a list of templates');
        } else {
          if (irTemplates.length > this.limits.maxVisualFaceIrTemplates) {
            this.issue(
              `${field}.irTemplates`,
              'max-count',
              `at most ${this.limits.maxVisualFaceIrTemplates} IR templates per face (got ${irTemplates.length})`,
            );
          }
          irTemplates.forEach((template, t) => this.binary(`${field}.irTemplates[${t}]`, template, undefined, 'an IR face template'));
        }
      }
      this.optionalBinary(`${field}.irImageData`, face.irImageData, undefined, 'an IR face image');

      if (Array.isArray(templates) && templates.length === 0 && !hasImage) {
        this.issue(`${field}.templates`, 'required', 'a face needs templates or an image');
      }
    });
  }

  accessGroups(groups: unknown): void {
    if (!this.list('accessGroups', groups, this.limits.maxAccessGroups, 'access groups per user')) return;
    const seen = new Set<number>();
    groups.forEach((group, i) => {
      const field = `accessGroups[${i}]`;
      if (!this.uint32(field, group, 'must be an access group ID (0 to 4294967295)')) return;
      if (seen.has(group as number)) this.issue(field, 'duplicate', `access group ${group as number} is listed more than once`);
      seen.add(group as number);
    });
  }

  jobCodes(jobCodes: unknown): void {
    if (!this.list('jobCodes', jobCodes, this.limits.maxJobCodes, 'job codes per user')) return;
    jobCodes.forEach((jobCode, i) => {
      const field = `jobCodes[${i}]`;
      if (!isObject(jobCode)) return this.issue(field, 'type', 'a job code must be an object');
      this.uint32(`${field}.code`, jobCode.code, 'must be a job code number (0 to 4294967295)');
      if (typeof jobCode.label !== 'string') return this.issue(`${field}.label`, 'type', 'the label must be a string');
      this.text(`${field}.label`, jobCode.label, { maxBytes: this.limits.maxJobLabelBytes, what: 'a job code label' });
    });
  }

  pinHash(pinHash: unknown): void {
    if (pinHash === undefined || pinHash === '') return;
    if (typeof pinHash !== 'string') return this.issue('pinHash', 'type', 'the PIN hash must be a base64 string');
    const bytes = base64Bytes(pinHash);
    if (bytes === undefined) return this.issue('pinHash', 'base64', 'the PIN hash is not valid base64');
    if (bytes !== PIN_HASH_BYTES) {
      this.issue(
        'pinHash',
        'exact-bytes',
        `the PIN hash must be exactly ${PIN_HASH_BYTES} bytes (got ${bytes}); it is the gateway's GetPINHash result, never a PIN`,
      );
    }
  }

  /** Checks an optional base64 value; returns whether it is present (non-empty). */
  optionalBinary(field: string, value: unknown, maxBytes: number | undefined, what: string): boolean {
    if (value === undefined || value === '') return false;
    this.binary(field, value, maxBytes, what);
    return true;
  }

  /** A required, non-empty base64 value of at most `maxBytes` decoded bytes. */
  private binary(field: string, value: unknown, maxBytes: number | undefined, what: string): void {
    if (typeof value !== 'string') return this.issue(field, 'type', `${what} must be a base64 string`);
    if (value === '') return this.issue(field, 'required', `${what} must not be empty`);
    const bytes = base64Bytes(value);
    if (bytes === undefined) return this.issue(field, 'base64', `${what} is not valid base64`);
    if (maxBytes !== undefined && bytes > maxBytes) {
      this.issue(field, 'max-bytes', `${what} must be at most ${maxBytes} bytes (got ${bytes})`);
    }
  }

  private text(field: string, value: string, limits: { maxChars?: number; maxBytes: number; what: string }): void {
    if (LONE_SURROGATE.test(value)) this.issue(field, 'encoding', `${limits.what} is not valid Unicode (a lone surrogate)`);
    if (limits.maxChars !== undefined) {
      const chars = codePoints(value);
      if (chars > limits.maxChars) {
        this.issue(field, 'max-chars', `${limits.what} must be at most ${limits.maxChars} characters (got ${chars})`);
      }
    }
    const bytes = utf8Bytes(value);
    if (bytes > limits.maxBytes) {
      this.issue(field, 'max-bytes', `${limits.what} must be at most ${limits.maxBytes} bytes of UTF-8 (got ${bytes})`);
    }
  }

  private list(field: string, value: unknown, max: number, what: string): value is unknown[] {
    if (!Array.isArray(value)) {
      this.issue(field, 'type', 'must be a list');
      return false;
    }
    if (value.length > max) this.issue(field, 'max-count', `at most ${max} ${what} (got ${value.length})`);
    return true;
  }

  private uint32(field: string, value: unknown, text: string): boolean {
    if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffffffff) return true;
    this.issue(field, 'uint32', `${text} (got ${show(value)})`);
    return false;
  }

  private int32(field: string, value: unknown): boolean {
    if (Number.isInteger(value) && (value as number) >= -0x80000000 && (value as number) <= 0x7fffffff) return true;
    this.issue(field, 'int32', `must be a whole number that fits 32 bits (got ${show(value)})`);
    return false;
  }
}

/** Decoded size of standard base64 (padding optional), or undefined when it is not base64. */
function base64Bytes(value: string): number | undefined {
  if (!BASE64.test(value)) return undefined;
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  if (padding > 0 && value.length % 4 !== 0) return undefined;
  const body = value.length - padding;
  // One leftover character carries 6 bits: less than a byte, so no encoder writes it.
  if (body % 4 === 1) return undefined;
  return Math.floor((body * 3) / 4);
}

function utf8Bytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-secret value for a message: numbers and short type names only. */
function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return typeof value;
}

function clip(id: string): string {
  return id.length > 40 ? `${id.slice(0, 40)}…` : id;
}
