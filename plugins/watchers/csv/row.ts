/**
 * One CSV row → a UserPatch, with BioStar's row rules and human reasons that name the
 * column (the reasons go into the error CSV's Error_Description).
 *
 * - Cells are trimmed and a formula-defusing quote is undone (defuse.ts).
 * - A blank cell sets nothing: its field goes to `patch.blank`, and the merge decides
 *   (a blank never wipes anything unless blankClears). A blank custom-field cell is kept
 *   in `values.custom` as '' and `custom` is listed in `blank`, so the merge can tell
 *   which custom field was blank.
 * - Line breaks are refused in every cell rather than flattened: BioStar splits a row
 *   there (spec §1.3), and a silently changed name is worse than a row to fix.
 * - The PIN goes to `patch.pin` as it was written, to be hashed by the gateway. Its value
 *   is never put into a reason; redact.ts blanks it in rows kept for reports.
 *
 * The user ID and the name are checked with the device rules of daemon/model/validate.ts
 * (IDs as on a site with alphanumeric IDs, the wider of the two rules). Whether the site
 * takes only numeric IDs, and credential counts, depend on the merged user and the devices:
 * the ingest host checks those after the merge.
 */
import type { UserPatch } from '../../../daemon/plugins/api.js';
import { CardType, type User } from '../../../daemon/model/user.js';
import { fieldIssues } from '../../../daemon/model/validate.js';
import type { ColumnMap } from './columns.js';
import { readCsn } from './csn.js';
import type { PeriodCellReader } from './dates.js';
import { undefuseCell } from './defuse.js';
import { USER_FIELD_OF, type FieldKey } from './fields.js';

export interface RowOptions {
  /** Reads date cells with the file's dayFirst and time zone (dates.ts `periodCellReader`). */
  periods: PeriodCellReader;
}

export type RowMapping = { ok: true; patch: UserPatch } | { ok: false; reason: string };

/** BioStar's limit (spec §4); devices do not hold departments. */
export const MAX_DEPARTMENT_CHARS = 64;
/** BioStar 2 takes PINs of 4 to 16 digits; a device stores at most 32 bytes. */
export const PIN_DIGITS = { min: 4, max: 16 } as const;

const LINE_BREAK = /[\n\r\u2028\u2029\u0085]/;
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Either of the two: one test per cell in the common case of neither. */
const SUSPECT = /[\u0000-\u001f\u007f\u2028\u2029\u0085]/;

export function mapRow(cells: readonly string[], map: ColumnMap, options: RowOptions): RowMapping {
  const problems: string[] = [];
  const values: Partial<Omit<User, 'id'>> = {};
  const blank = new Set<keyof User>();
  let id: string | undefined;
  let pin: string | undefined;
  let custom: Record<string, string> | undefined;

  for (const column of map.columns) {
    const text = undefuseCell((cells[column.index] ?? '').trim());
    const target = column.target;
    const label = target.kind === 'field' ? target.key : column.header.trim();
    const shape = !SUSPECT.test(text)
      ? undefined
      : LINE_BREAK.test(text)
        ? 'contains a line break (BioStar splits rows there; remove it)'
        : CONTROL.test(text)
          ? 'contains a control character'
          : undefined;
    if (shape) {
      problems.push(`${label}: ${shape}`);
      continue;
    }
    if (target.kind === 'custom') {
      custom ??= {};
      custom[target.name] = text;
      if (text === '') blank.add('custom');
      continue;
    }
    if (text === '') {
      if (target.key === 'user_id') problems.push('user_id: blank');
      else blank.add(USER_FIELD_OF[target.key]);
      continue;
    }
    const problem = setField(target.key, text, values, options);
    if (typeof problem === 'string') problems.push(`${label}: ${problem}`);
    else if (target.key === 'user_id') id = text;
    else if (target.key === 'pin') pin = text;
  }

  if (values.startTime && values.endTime && values.endTime < values.startTime) {
    problems.push('expiry_datetime: before start_datetime');
  }
  if (problems.length > 0 || id === undefined) return { ok: false, reason: problems.join('; ') || 'user_id: blank' };
  if (custom) values.custom = custom;
  const patch: UserPatch = { id, values, blank: [...blank] };
  if (pin !== undefined) patch.pin = pin;
  return { ok: true, patch };
}

/** Sets one field from its (non-blank) text, or returns why it cannot. */
function setField(key: FieldKey, text: string, values: Partial<Omit<User, 'id'>>, options: RowOptions): string | undefined {
  switch (key) {
    case 'user_id':
      return deviceRuleProblem('id', text);
    case 'name':
      return deviceRuleProblem('name', text) ?? setText(values, 'name', text);
    case 'department':
      return setText(values, 'department', text, MAX_DEPARTMENT_CHARS);
    case 'user_title':
      return setText(values, 'title', text);
    case 'phone':
      return setText(values, 'phone', text);
    case 'user_group':
      return setText(values, 'userGroup', text);
    case 'email':
      if (!/^[^\s@]+@[^\s@]+$/.test(text)) return `"${text}" is not an email address`;
      values.email = text;
      return undefined;
    case 'start_datetime':
    case 'expiry_datetime': {
      const read = options.periods(key === 'start_datetime' ? 'start' : 'expiry', text);
      if (!read.ok) return read.reason;
      values[key === 'start_datetime' ? 'startTime' : 'endTime'] = read.seconds;
      return undefined;
    }
    case 'csn': {
      const read = readCsn(text);
      if (!read.ok) return read.reason;
      values.cards = [{ type: CardType.CSN, data: read.data }];
      return undefined;
    }
    case 'pin':
      // Never echo the value: this text ends up in reports and logs.
      if (!/^\d+$/.test(text) || text.length < PIN_DIGITS.min || text.length > PIN_DIGITS.max) {
        return `must be ${PIN_DIGITS.min} to ${PIN_DIGITS.max} digits (the value is not shown)`;
      }
      return undefined;
    case 'disabled': {
      const flag = readFlag(text);
      if (flag === undefined) return `"${text}" is not one of true, false, 1, 0, yes, no`;
      values.disabled = flag;
      return undefined;
    }
    case 'security_level':
      if (!/^[0-5]$/.test(text)) return `"${text}" is not a level from 0 (device default) to 5`;
      values.securityLevel = Number(text);
      return undefined;
  }
}

/** What validateUser says about the ID or the name, without the field's own prefix. */
function deviceRuleProblem(field: 'id' | 'name', text: string): string | undefined {
  const issues = fieldIssues(field, text, { alphanumericIds: true });
  if (issues.length === 0) return undefined;
  return issues.map((issue) => issue.message.replace(`${field}: `, '')).join(', ');
}

type TextField = 'name' | 'department' | 'title' | 'phone' | 'userGroup';

function setText(values: Partial<Omit<User, 'id'>>, field: TextField, text: string, maxChars?: number): string | undefined {
  // Characters are code points; only a value longer in UTF-16 units can be too long.
  if (maxChars !== undefined && text.length > maxChars) {
    let length = 0;
    for (const _ of text) length++;
    if (length > maxChars) return `${length} characters; at most ${maxChars}`;
  }
  values[field] = text;
  return undefined;
}

function readFlag(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  if (['true', '1', 'yes', 'y'].includes(lower)) return true;
  if (['false', '0', 'no', 'n'].includes(lower)) return false;
  return undefined;
}
