/**
 * Users → a BioStar-style CSV (spec §1.6): BioStar's column order, then the configured
 * custom fields sorted by name; UTF-8 with a BOM; CRLF; `YYYY-MM-DD HH:MM:SS` in the
 * configured time zone, both dates always written (BioStar hid users with an empty start
 * before 2.9.8); formula cells defused; line breaks in values flattened to spaces, since
 * BioStar splits rows there. There is no pin column: rollcall holds only PIN hashes.
 *
 * One csn cell per user: the user's first CSN card (that a csn cell can express). BioStar documents no way to put several
 * cards in one cell (spec §7.1); on import, a csn the user already holds changes nothing,
 * so an export read back does not drop the other cards.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { CardType, type User } from '../../../daemon/model/user.js';
import { cardDataToCsn } from './csn.js';
import { writePeriodCell, type Zone } from './dates.js';
import { DEFUSED_CELL, defuseCell } from './defuse.js';
import { BIOSTAR_EXPORT_COLUMNS, type ExportFieldKey } from './fields.js';

export interface ExportOptions {
  zone: Zone;
  /** Field columns in order; BioStar's ten by default. */
  columns?: readonly ExportFieldKey[];
  /** Custom field names to write after the field columns (sorted here). */
  customFields?: readonly string[];
  delimiter?: string;
  signal?: AbortSignal;
}

export interface ExportSummary {
  users: number;
}

/** The header row an export writes. */
export function exportHeader(options: Pick<ExportOptions, 'columns' | 'customFields'>): string[] {
  return [...(options.columns ?? BIOSTAR_EXPORT_COLUMNS), ...sortedCustom(options.customFields)];
}

/** One user's row, cell by cell, defused and flattened. */
export function exportCells(user: User, options: Pick<ExportOptions, 'zone' | 'columns' | 'customFields'>): string[] {
  const fields = (options.columns ?? BIOSTAR_EXPORT_COLUMNS).map((key) => fieldCell(user, key, options.zone));
  const custom = sortedCustom(options.customFields).map((name) => user.custom?.[name] ?? '');
  return [...fields, ...custom].map((cell) => defuseCell(cell.replace(/\r\n|[\r\n\u2028\u2029\u0085]/g, ' ')));
}

/**
 * Writes every user as one row and ends `out`. Resolves once `out` has finished; rejects
 * (and destroys `out`) on a failure or when `signal` aborts.
 */
export async function exportCsv(users: AsyncIterable<User>, out: Writable, options: ExportOptions): Promise<ExportSummary> {
  const summary: ExportSummary = { users: 0 };
  async function* rows(): AsyncGenerator<string[]> {
    yield exportHeader(options);
    for await (const user of users) {
      summary.users++;
      yield exportCells(user, options);
    }
  }
  const csv = stringify({
    bom: true,
    record_delimiter: 'windows',
    delimiter: options.delimiter ?? ',',
    // OWASP: quote defused cells as well as prefixing them.
    quoted_match: DEFUSED_CELL,
  });
  await pipeline(Readable.from(rows()), csv, out, options.signal ? { signal: options.signal } : {});
  return summary;
}

function sortedCustom(names: readonly string[] | undefined): string[] {
  return [...new Set(names ?? [])].sort();
}

function fieldCell(user: User, key: ExportFieldKey, zone: Zone): string {
  switch (key) {
    case 'user_id':
      return user.id;
    case 'name':
      return user.name;
    case 'department':
      return user.department ?? '';
    case 'user_title':
      return user.title ?? '';
    case 'phone':
      return user.phone ?? '';
    case 'email':
      return user.email ?? '';
    case 'user_group':
      return user.userGroup ?? '';
    case 'start_datetime':
      return writePeriodCell('start', user.startTime, zone);
    case 'expiry_datetime':
      return writePeriodCell('expiry', user.endTime, zone);
    case 'csn': {
      // The first CSN card that a csn cell can express (1 … 2^80−1).
      for (const card of user.cards) {
        const value = card.type === CardType.CSN ? cardDataToCsn(card.data) : undefined;
        if (value !== undefined) return value.toString();
      }
      return '';
    }
    case 'disabled':
      return user.disabled ? 'true' : 'false';
    case 'security_level':
      return String(user.securityLevel);
  }
}
