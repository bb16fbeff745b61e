/**
 * The error CSV beside a partly failed file (BioStar's style): the failed rows as they
 * were, each followed by `Error_Description` and `Row`, UTF-8 with a BOM, CRLF line ends.
 *
 * Rows shorter than the header are padded so the two added columns line up; a row longer
 * than the header keeps its extra cells and the two columns follow them (its reason says
 * the row has too many cells). A cell starting with `=`, `+`, `-`, `@`, a tab or a CR gets
 * a leading `'` (OWASP's defence against formula injection when the file is opened in a
 * spreadsheet); the CSV watcher drops that quote again when a corrected file is dropped.
 * Cells that already start with such a quote are left alone, so they read back as before.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { IngestRejection } from '../plugins/api.js';
import { journalLines, scanJournal } from './reject-journal.js';

export const ERROR_COLUMNS = ['Error_Description', 'Row'] as const;

const FORMULA_START = /^[=+\-@\t\r]/;
const QUOTED = /^'/;

export function defuseErrorCell(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** One line of the error CSV, cell by cell. */
export function errorCsvRow(rejection: IngestRejection, headerLength: number): string[] {
  const cells = [...rejection.raw];
  while (cells.length < headerLength) cells.push('');
  cells.push(rejection.reason, String(rejection.row));
  return cells.map(defuseErrorCell);
}

export function errorCsvHeader(header: readonly string[] | undefined, width: number): string[] {
  // A file refused before its header was read has no names for its cells.
  const names = header ?? Array.from({ length: width }, (_, i) => `column_${i + 1}`);
  return [...names, ...ERROR_COLUMNS].map(defuseErrorCell);
}

/**
 * Writes the error CSV of the first `rows` rejections of a journal to `path` (a new file,
 * mode 0640). Streams: the journal is read once for the widest row, once for the rows.
 * Returns how many rows it holds (fewer than `rows` when the journal was lost).
 */
export async function writeErrorCsv(journalPath: string, rows: number, path: string): Promise<number> {
  let width = 0;
  const scanned = await scanJournal(journalPath, rows, (rejection) => {
    width = Math.max(width, rejection.raw.length);
  });
  const header = scanned?.header;
  const headerLength = header?.length ?? width;
  const kept = scanned?.rejections ?? 0;
  async function* lines(): AsyncGenerator<string[]> {
    yield errorCsvHeader(header, headerLength);
    let written = 0;
    if (kept === 0) return;
    for await (const { line } of journalLines(journalPath)) {
      if (line === undefined) return;
      if ('header' in line) continue;
      yield errorCsvRow(line, headerLength);
      if (++written === kept) return;
    }
  }
  const csv = stringify({ bom: true, record_delimiter: 'windows', quoted_match: QUOTED });
  await pipeline(Readable.from(lines()), csv, createWriteStream(path, { flags: 'wx', mode: 0o640 }));
  return kept;
}
