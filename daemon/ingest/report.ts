/**
 * NAME.report.json: the outcome of one file as the admin API, the CLI and an operator
 * reading the spool see it (types.ts, ImportReport). Pure: file-import.ts writes the JSON.
 */
import type { ImportRecord } from '../plugins/api.js';
import { rowsOf } from './ledger.js';
import type { ImportReport } from './types.js';

export interface ReportPlaces {
  /** Paths relative to the spool directory. */
  path: string;
  reportJson: string;
  errorsCsv?: string;
}

/** The report of a file whose ledger record is finished (done or failed). */
export function finishedReport(record: ImportRecord, notes: readonly string[], places: ReportPlaces): ImportReport {
  const finishedAt = record.finishedAt ?? record.startedAt;
  return {
    file: record.file,
    format: record.format,
    hash: record.hash,
    state: record.state === 'failed' ? 'failed' : 'done',
    rows: rowsOf(record),
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    notes: [...notes],
    startedAt: new Date(record.startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: Math.max(0, finishedAt - record.startedAt),
    ...places,
  };
}

/** The report of a file whose content was imported before: nothing of it was applied. */
export function duplicateReport(
  file: string,
  format: string,
  earlier: ImportRecord,
  startedAt: number,
  finishedAt: number,
  places: ReportPlaces,
): ImportReport {
  const when = new Date(earlier.finishedAt ?? earlier.startedAt).toISOString();
  const as = earlier.file === file ? '' : ` as ${earlier.file}`;
  return {
    file,
    format,
    hash: earlier.hash,
    state: 'duplicate',
    rows: { imported: 0, unchanged: 0, failed: 0 },
    reason: `the same content was imported on ${when}${as}; nothing was applied`,
    notes: [],
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: Math.max(0, finishedAt - startedAt),
    ...places,
  };
}

/** The report of a file refused before it had a ledger record (unreadable, no watcher). */
export function unreadableReport(
  file: string,
  format: string,
  reason: string,
  startedAt: number,
  finishedAt: number,
  places: ReportPlaces,
  hash = '',
): ImportReport {
  return {
    file,
    format,
    hash,
    state: 'failed',
    rows: { imported: 0, unchanged: 0, failed: 0 },
    reason,
    notes: [],
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: Math.max(0, finishedAt - startedAt),
    ...places,
  };
}

export function reportJson(report: ImportReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
