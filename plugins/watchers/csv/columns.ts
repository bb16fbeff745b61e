/**
 * Header → BioStar field mapping (spec §1.1, §1.4 "Auto-mapping" and "Remap").
 *
 * A header matches a field key case- and space-insensitively: `User ID`, `user_id` and
 * ` USER_ID ` are all user_id. Resolution order: `remap` (by normalized header), then
 * `customFields` (exact header names, kept as custom fields under that name), then the
 * field keys. Columns BioStar knows but rollcall does not import are ignored with their
 * reason; other unknown columns are ignored too. BioStar refuses a file with a column it
 * does not know; rollcall is more forgiving and says so once per file instead.
 * Two columns that map to the same field refuse the file: which one wins would be a guess.
 *
 * A header is *recognised* when at least one of its cells names a column rollcall knows: a
 * field key, a custom field, a header named in `remap`, or a BioStar column rollcall does
 * not import. A header with no recognised cell is most likely the first data row of a file
 * without a header, so the refusal counts its cells and never quotes them: they may hold a
 * PIN (or anything else the file holds).
 */
import { isFieldKey, type FieldKey } from './fields.js';

export type ColumnTarget = { kind: 'field'; key: FieldKey } | { kind: 'custom'; name: string };

export interface MappedColumn {
  /** 0-based cell index. */
  index: number;
  /** The header as written in the file. */
  header: string;
  target: ColumnTarget;
}

export interface IgnoredColumn {
  index: number;
  header: string;
  reason: string;
  /** Whether the header names a column rollcall knows (see the file header); false for blank and unknown ones. */
  recognised: boolean;
}

export interface ColumnMap {
  columns: MappedColumn[];
  ignored: IgnoredColumn[];
}

export type ColumnMapping = { ok: true; map: ColumnMap } | { ok: false; reason: string };

export interface ColumnConfig {
  /** Normalized or literal header → field key, or 'ignore' to leave a column unmapped. */
  remap: Readonly<Record<string, FieldKey | 'ignore'>>;
  /** Exact header names kept as custom fields. */
  customFields: readonly string[];
}

/** Lowercase, trimmed, runs of spaces, hyphens and underscores as one '_'. */
export function normalizeHeader(header: string): string {
  return header.trim().toLowerCase().replace(/[\s\-_]+/g, '_');
}

/** BioStar columns rollcall does not import, by normalized header, with the reason. */
const NOT_IMPORTED: Readonly<Record<string, string>> = {
  csn_mobile: 'mobile cards are issued by BioStar (each costs an Airfob credit); rollcall does not issue them',
  mobile_start_datetime: 'the validity of a mobile card, which rollcall does not issue',
  mobile_expiry_datetime: 'the validity of a mobile card, which rollcall does not issue',
  qr: 'QR credentials are not imported from CSV',
  access_on_card: 'smart cards (access on card) are issued by BioStar, not imported',
  secure_credential: 'smart cards (secure credential) are issued by BioStar, not imported',
  photo: 'photos are not imported from CSV',
  error_description: 'written by an error report; ignored when a corrected error file is dropped again',
};

function notImportedReason(header: string, normalized: string): string | undefined {
  const known = NOT_IMPORTED[normalized];
  if (known) return known;
  if (/^face_image_file\d*$/.test(normalized)) return 'face images are not imported from CSV';
  if (normalized.startsWith('tom_')) return 'Template-on-Mobile columns belong to BioStar';
  // Wiegand formats are headed by the format's name: "26 bit SIA Standard-H10301", "HID Corporate 1000", ...
  if (/\d+\s*bit\b/i.test(header) || /corporate\s*1000/i.test(header) || /\bh10\d{3}\b/i.test(header)) {
    return 'Wiegand-format cards are not imported; only the csn column is';
  }
  return undefined;
}

/** What one header maps to under a config, before duplicates are checked. */
export function resolveHeader(header: string, config: ColumnConfig): ColumnTarget | { kind: 'ignored'; reason: string; recognised: boolean } {
  const normalized = normalizeHeader(header);
  if (normalized === '') return { kind: 'ignored', reason: 'the header cell is blank', recognised: false };
  const remapped = remapOf(header, normalized, config.remap);
  if (remapped === 'ignore') return { kind: 'ignored', reason: 'unmapped by watchers.csv.remap', recognised: true };
  if (remapped !== undefined) return { kind: 'field', key: remapped };
  if (config.customFields.includes(header.trim())) return { kind: 'custom', name: header.trim() };
  if (isFieldKey(normalized)) return { kind: 'field', key: normalized };
  const reason = notImportedReason(header, normalized);
  if (reason) return { kind: 'ignored', reason, recognised: true };
  return {
    kind: 'ignored',
    reason: 'not a field rollcall reads; list it in watchers.csv.customFields to keep it as a custom field, or remap it',
    recognised: false,
  };
}

/** Whether any cell of a header names a column rollcall knows (see the file header). */
export function isRecognisedHeader(header: readonly string[], config: ColumnConfig): boolean {
  return header.some((cell) => {
    const target = resolveHeader(cell, config);
    return target.kind !== 'ignored' || target.recognised;
  });
}

function remapOf(header: string, normalized: string, remap: ColumnConfig['remap']): FieldKey | 'ignore' | undefined {
  const exact = remap[header] ?? remap[header.trim()];
  if (exact !== undefined) return exact;
  for (const [from, to] of Object.entries(remap)) {
    if (normalizeHeader(from) === normalized) return to;
  }
  return undefined;
}

/** Maps a header row, or says why the file must be refused. */
export function mapColumns(header: readonly string[], config: ColumnConfig): ColumnMapping {
  const columns: MappedColumn[] = [];
  const ignored: IgnoredColumn[] = [];
  const taken = new Map<string, MappedColumn>();
  for (const [index, text] of header.entries()) {
    const target = resolveHeader(text, config);
    if (target.kind === 'ignored') {
      ignored.push({ index, header: text, reason: target.reason, recognised: target.recognised });
      continue;
    }
    const column: MappedColumn = { index, header: text, target };
    const slot = target.kind === 'field' ? `field:${target.key}` : `custom:${target.name}`;
    const earlier = taken.get(slot);
    if (earlier) {
      const what = target.kind === 'field' ? target.key : `the custom field "${target.name}"`;
      return {
        ok: false,
        reason: `columns ${earlier.index + 1} ("${earlier.header}") and ${index + 1} ("${text}") both map to ${what}`,
      };
    }
    taken.set(slot, column);
    columns.push(column);
  }
  if (columns.length === 0 && ignored.every((column) => !column.recognised)) {
    return {
      ok: false,
      reason:
        `the header row names no column rollcall knows (${header.length} ${header.length === 1 ? 'cell' : 'cells'}, not shown: they may be data): ` +
        'a file without a header row, or the wrong watchers.csv.startRow? The first row read must name the columns, among them user_id',
    };
  }
  if (!taken.has('field:user_id')) {
    return { ok: false, reason: `there is no user_id column (the header is: ${header.map((h) => JSON.stringify(h)).join(', ')})` };
  }
  return { ok: true, map: { columns, ignored } };
}

/** Columns named in one note before the rest are counted. */
const NOTE_COLUMNS_MAX = 20;

/**
 * The report's notes about a mapped header's ignored columns, one per reason:
 * `columns 5 "Shoe Size", 7 "Hat" not imported: not a field rollcall reads; …`. Only for a
 * header that mapped (so a recognised one): a refused header is never quoted this way.
 */
export function ignoredColumnNotes(ignored: readonly IgnoredColumn[]): string[] {
  const byReason = new Map<string, IgnoredColumn[]>();
  for (const column of ignored) byReason.set(column.reason, [...(byReason.get(column.reason) ?? []), column]);
  return [...byReason].map(([reason, columns]) => {
    const named = columns.slice(0, NOTE_COLUMNS_MAX).map((c) => `${c.index + 1} ${JSON.stringify(c.header)}`);
    const more = columns.length > NOTE_COLUMNS_MAX ? ` and ${columns.length - NOTE_COLUMNS_MAX} more` : '';
    return `${columns.length === 1 ? 'column' : 'columns'} ${named.join(', ')}${more} not imported: ${reason}`;
  });
}
