/**
 * The reading half of a CSV import: the file's text → its header and every row mapped to
 * a UserPatch or rejected with its reason, in file order. No sink, no store: it runs in the
 * parse worker (parse-worker.ts), off the daemon's event loop, and hands its events over.
 *
 * It also writes the kept copy of a file with a PIN column in this same pass (kept-copy.ts),
 * rows skipped on resume included, and skips the first `resumeFrom` records (blank lines
 * not counted), which an interrupted earlier run handled. Rows it hands on never carry a
 * PIN in `raw` (redact.ts); a `record` carries the plaintext in `patch.pin`, for the host
 * to hash and drop.
 */
import { createReadStream } from 'node:fs';
import type { UserPatch } from '../../../daemon/plugins/api.js';
import { RollcallError } from '../../../daemon/errors.js';
import { mapColumns, type ColumnMap, type IgnoredColumn } from './columns.js';
import { periodCellReader, timeZone } from './dates.js';
import { decodeText } from './decode.js';
import { KeptCopyWriter } from './kept-copy.js';
import { readCsv } from './reader.js';
import { redactCells, redactionOf, type RowRedaction } from './redact.js';
import { mapRow } from './row.js';
import type { CsvConfig } from './schema.js';

export interface RowSourceOptions {
  path: string;
  /** The file's name as dropped, for the detail of a refusal. */
  name: string;
  config: CsvConfig;
  /** Records handled by an earlier run of this import: skipped (but copied). */
  resumeFrom: number;
  /** Where to write the kept copy when the file has a PIN column. */
  keptCopy?: string;
}

export type RowEvent =
  | { kind: 'header'; row: number; cells: string[]; ignored: IgnoredColumn[] }
  | { kind: 'record'; row: number; patch: UserPatch; raw: string[] }
  | { kind: 'rejected'; row: number; raw: string[]; reason: string }
  /** The last event: how many records were skipped as handled before. */
  | { kind: 'end'; resumed: number };

/** Reads of a large file: fewer, bigger chunks cost less per byte. */
const READ_CHUNK = 256 * 1024;

/**
 * Yields the file's events. The file's encoding was checked before (the whole file), so
 * the text is decoded without checking it again. Throws ROLLCALL_ERR_IMPORT_REFUSED when
 * the header cannot be mapped (or readCsv's refusals).
 */
export async function* csvRowEvents(options: RowSourceOptions): AsyncGenerator<RowEvent> {
  const { config } = options;
  const rowOptions = { periods: periodCellReader({ dayFirst: config.dayFirst, zone: timeZone(config.timeZone) }) };
  let map: ColumnMap | undefined;
  let redaction: RowRedaction | undefined;
  let records = 0;
  let resumed = 0;
  let copy: KeptCopyWriter | undefined;
  const rows = readCsv(decodeText(createReadStream(options.path, { highWaterMark: READ_CHUNK }), { checked: true }), {
    delimiter: config.delimiter,
    startRow: config.startRow,
  });
  try {
    for await (const event of rows) {
      if (event.kind === 'header') {
        const mapping = mapColumns(event.cells, config);
        if (!mapping.ok) throw new RollcallError('ROLLCALL_ERR_IMPORT_REFUSED', mapping.reason, { detail: { file: options.name, line: event.row } });
        map = mapping.map;
        redaction = redactionOf(event.cells, config);
        if (options.keptCopy !== undefined && redaction.pins.size > 0) copy = new KeptCopyWriter(options.keptCopy, config.delimiter, event.cells);
        yield { kind: 'header', row: event.row, cells: event.cells, ignored: map.ignored };
        continue;
      }
      records++;
      const raw = redactCells(event.cells, redaction!);
      // Rows the parser could not split are left out of the copy, as redactedCopy does.
      if (copy !== undefined && !(event.kind === 'error' && event.cells.length === 0)) await copy.row(raw);
      if (records <= options.resumeFrom) {
        resumed++;
        continue;
      }
      if (event.kind === 'error') {
        yield { kind: 'rejected', row: event.row, raw, reason: event.reason };
        continue;
      }
      const mapped = mapRow(event.cells, map!, rowOptions);
      if (mapped.ok) yield { kind: 'record', row: event.row, patch: mapped.patch, raw };
      else yield { kind: 'rejected', row: event.row, raw, reason: mapped.reason };
    }
    await copy?.finish();
    copy = undefined;
  } finally {
    await copy?.abandon();
  }
  yield { kind: 'end', resumed };
}
