/**
 * What the drop folder reports, shared by the ingest host, the admin API and the CLI.
 */

/** The outcome of one file. */
export interface ImportReport {
  /** The name as dropped. */
  file: string;
  /** The watcher that read it ('csv', 'datafile'). */
  format: string;
  /** sha256 of the content, hex: the ledger key. */
  hash: string;
  /**
   * done: every row was handled (some may have failed; see rows.failed);
   * failed: the file was refused as a whole (reason says why);
   * duplicate: the same content was imported before and was skipped.
   */
  state: 'done' | 'failed' | 'duplicate';
  rows: {
    /** Users created or changed. */
    imported: number;
    /** Rows equal to what was stored, or skipped under preserve. */
    unchanged: number;
    failed: number;
  };
  reason?: string;
  /** Remarks about the file (ignored columns and the like). */
  notes: string[];
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Where the file ended up (done/YYYY-MM-DD/NAME or failed/NAME). */
  path?: string;
  /** The error CSV beside it, when any row failed. */
  errorsCsv?: string;
  /** The report JSON beside it. */
  reportJson?: string;
}

export interface ExportResult {
  format: string;
  /** The finished file (renamed from its temporary name). */
  path: string;
  users: number;
}

/** Where an import stands, after each committed batch (for the admin API's progress). */
export interface ImportProgress {
  file: string;
  format: string;
  hash: string;
  /** Records handled so far (the checkpoint), rejected ones included. */
  handled: number;
  /** Where this run started: a resumed import skipped this many records. */
  resumedFrom: number;
  rows: ImportReport['rows'];
}
