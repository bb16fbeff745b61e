/**
 * The import ledger: one ImportRecord per file content (sha256), committed with the rows
 * it covers. What a file in processing/ needs is decided from its record and from whether
 * its rejection journal still exists (see README.md, "Resume"). Pure.
 */
import type { ImportRecord } from '../plugins/api.js';
import type { ImportReport } from './types.js';

/** The PIN hash scheme of the gateway now; 'unknown' when it cannot be asked. */
export type PinSchemeNow = string | 'unknown';

/**
 * Whether `record` may need its file's PINs hashed again: a finished import whose PINs a
 * gateway hashed (asked only then, as it costs a gateway call).
 */
export function asksPinScheme(record: ImportRecord | undefined, journalExists: boolean): boolean {
  return record?.state === 'done' && !journalExists && record.pinHashScheme !== undefined && (record.pinRefused ?? 0) === 0;
}

export type ImportPlan =
  /** Content never seen, refused before, or with rows the gateway would not hash: (again) from the start. */
  | { action: 'start' }
  /** An import of this content was interrupted: go on after its checkpoint. */
  | { action: 'resume'; record: ImportRecord }
  /** Its end (done or failed) is committed but the file was not yet moved: move it. */
  | { action: 'finish'; record: ImportRecord }
  /** The same content was imported before: skip it. */
  | { action: 'duplicate'; record: ImportRecord };

/**
 * The journal exists from the first commit of an import until its file has left
 * processing/, so a finished record with a journal is an import whose last steps were cut
 * short, and a finished record without one is content dropped a second time.
 */
export function planImport(record: ImportRecord | undefined, journalExists: boolean, pinSchemeNow?: PinSchemeNow): ImportPlan {
  if (record === undefined) return { action: 'start' };
  switch (record.state) {
    case 'running':
      return { action: 'resume', record };
    case 'done':
      if (journalExists) return { action: 'finish', record };
      // Rows whose PIN the gateway would not hash were lost through no fault of the file:
      // dropped again, it is imported again (rows imported before count as unchanged).
      if ((record.pinRefused ?? 0) > 0) return { action: 'start' };
      // Its PINs were hashed by a gateway of another scheme (or this one's cannot be told
      // now): imported again, so they are hashed again (the import waits for the gateway).
      if (record.pinHashScheme !== undefined && pinSchemeNow !== undefined && pinSchemeNow !== record.pinHashScheme) return { action: 'start' };
      return { action: 'duplicate', record };
    case 'failed':
      return journalExists ? { action: 'finish', record } : { action: 'start' };
  }
}

export function startRecord(hash: string, file: string, format: string, now: number): ImportRecord {
  return { hash, file, format, state: 'running', startedAt: now, checkpoint: 0, counts: { ok: 0, failed: 0, skipped: 0 } };
}

/** The ledger's counts in the report's words: ok users were imported, skipped rows unchanged. */
export function rowsOf(record: ImportRecord): ImportReport['rows'] {
  return { imported: record.counts.ok, unchanged: record.counts.skipped, failed: record.counts.failed };
}

export function countsOf(rows: ImportReport['rows']): ImportRecord['counts'] {
  return { ok: rows.imported, skipped: rows.unchanged, failed: rows.failed };
}
