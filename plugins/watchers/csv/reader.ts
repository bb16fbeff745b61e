/**
 * Reads CSV text into rows with their line numbers, streamed (csv-parse 6).
 *
 * RFC 4180 quoting, any mix of CRLF, LF and CR line ends. A row the parser cannot read
 * (a quote inside an unquoted cell, text after a closing quote, a quote never closed) is
 * reported with the line it starts on, and reading starts again on the line after that
 * line, so the good rows before and after it are kept. A quote never closed is caught
 * after `maxRecordBytes` at the latest, which also bounds memory.
 *
 * Line numbers are counted here from the bytes of each record rather than taken from
 * csv-parse's `info.lines`, which counts a CRLF inside a quoted cell as two lines.
 */
import { Parser, type CsvError } from 'csv-parse';
import { RollcallError } from '../../../daemon/errors.js';

export interface ReadOptions {
  /** One character; ',' for BioStar. */
  delimiter: string;
  /** 1-based line where data starts; the record on the line before it is the header. */
  startRow: number;
  /** A record longer than this is a broken row (most likely an unterminated quote). */
  maxRecordBytes?: number;
}

export type ReadEvent =
  /** The header row: comes once, before any other event. */
  | { kind: 'header'; row: number; cells: string[] }
  | { kind: 'row'; row: number; cells: string[] }
  /** A row that could not be read; `cells` is empty when the parser could not split it. */
  | { kind: 'error'; row: number; cells: string[]; reason: string };

export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;

/**
 * Yields the header, then every data row or row error in file order. Blank rows (no cell
 * with content, as spreadsheets leave at the end of a sheet) are skipped. Throws
 * ROLLCALL_ERR_IMPORT_REFUSED when there is no readable header.
 */
export async function* readCsv(text: AsyncIterable<string | Uint8Array>, options: ReadOptions): AsyncGenerator<ReadEvent> {
  const splitter = new RecordSplitter(options.delimiter, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
  const headerLine = options.startRow - 1;
  let header: string[] | undefined;

  function* classify(pieces: Piece[]): Generator<ReadEvent> {
    for (const piece of pieces) {
      if (header === undefined) {
        if (piece.kind === 'broken') {
          if (piece.line >= headerLine) throw refused(`the header row (line ${piece.line}) cannot be read: ${piece.reason}`, piece.line);
          continue;
        }
        // Lines above the header (titles, notes) are not read.
        if (piece.lastLine < headerLine) continue;
        header = piece.cells;
        yield { kind: 'header', row: piece.line, cells: piece.cells };
        continue;
      }
      if (piece.kind === 'broken') {
        yield { kind: 'error', row: piece.line, cells: [], reason: piece.reason };
        continue;
      }
      const cells = piece.cells;
      if (cells.every((cell) => cell.trim() === '')) continue;
      const width = header.length;
      // Cells past the header's width are tolerated when empty: trailing delimiters are
      // a common spreadsheet artefact; content there means the row is misaligned.
      if (cells.length < width || cells.slice(width).some((cell) => cell !== '')) {
        yield { kind: 'error', row: piece.line, cells, reason: `the row has ${cells.length} cells but the header has ${width}` };
        continue;
      }
      yield { kind: 'row', row: piece.line, cells: cells.length === width ? cells : cells.slice(0, width) };
    }
  }

  for await (const chunk of text) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    yield* classify(await splitter.push(bytes));
  }
  yield* classify(await splitter.end());
  if (header === undefined) throw refused(`there is no header row at line ${headerLine}`, headerLine);
}

function refused(message: string, line: number): RollcallError {
  return new RollcallError('ROLLCALL_ERR_IMPORT_REFUSED', message, { detail: { line } });
}

type Piece =
  | { kind: 'record'; line: number; lastLine: number; cells: string[] }
  | { kind: 'broken'; line: number; reason: string };

const EMPTY = Buffer.alloc(0);
const CR = 0x0d;
const LF = 0x0a;

/**
 * Splits bytes into records with one csv-parse parser at a time. After a parse error the
 * parser is dropped and a new one starts on the line after the broken record's first
 * line, fed from the bytes kept since the last complete record.
 */
class RecordSplitter {
  private parser: Parser | undefined;
  /** Records csv-parse handed over during the last write: cells and the byte offset just past them. */
  private fresh: { cells: string[]; end: number }[] = [];
  /** The bytes fed to the parser from the start of the record in progress on. */
  private held: Buffer = EMPTY;
  /** Offset (in this parser's input) of held[0]. */
  private heldStart = 0;
  /** Line where the record in progress starts. */
  private line = 1;
  /** Throwing bytes away up to the end of a broken record's first line. */
  private skipping = false;
  /** That line ended in a CR at the end of a chunk: an LF starting the next one belongs to it. */
  private dropLeadingLf = false;
  private out: Piece[] = [];

  constructor(
    private readonly delimiter: string,
    private readonly maxRecordBytes: number,
  ) {}

  async push(bytes: Buffer): Promise<Piece[]> {
    await this.feed(bytes);
    return this.drain();
  }

  async end(): Promise<Piece[]> {
    while (this.parser !== undefined) {
      const parser = this.parser;
      const error = await new Promise<Error | undefined>((resolve) => parser.end((err?: Error | null) => resolve(err ?? undefined)));
      this.collect();
      this.parser = undefined;
      if (error === undefined) break;
      // The rest may hold good rows: feed it to a new parser, which this loop then ends.
      await this.feed(this.recover(error));
    }
    return this.drain();
  }

  private async feed(bytes: Buffer): Promise<void> {
    let input = bytes;
    while (input.length > 0) {
      if (this.dropLeadingLf) {
        this.dropLeadingLf = false;
        if (input[0] === LF) input = input.subarray(1);
        continue;
      }
      if (this.skipping) {
        const rest = afterFirstLineBreak(input);
        if (rest === undefined) return;
        this.skipping = false;
        this.dropLeadingLf = rest.length === 0 && input[input.length - 1] === CR;
        input = rest;
        continue;
      }
      const parser = (this.parser ??= this.newParser());
      this.held = this.held.length === 0 ? input : Buffer.concat([this.held, input]);
      const error = await new Promise<Error | undefined>((resolve) => parser.write(input, (err?: Error | null) => resolve(err ?? undefined)));
      this.collect();
      if (error === undefined) return;
      this.parser = undefined;
      input = this.recover(error);
    }
  }

  private newParser(): Parser {
    this.fresh = [];
    this.heldStart = 0;
    this.held = EMPTY;
    const fresh = this.fresh;
    const parser = new Parser({
      delimiter: this.delimiter,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      skip_empty_lines: false,
      max_record_size: this.maxRecordBytes,
      // Records are taken here, synchronously, with the byte offset just past them;
      // returning null keeps them out of the stream, which nobody reads.
      on_record: (record: string[], context) => {
        fresh.push({ cells: record, end: context.bytes });
        return null;
      },
    });
    lightRecordContext(parser);
    // Errors arrive through the write and end callbacks; this keeps the event quiet.
    parser.on('error', () => {});
    parser.resume();
    return parser;
  }

  /** Turns the records of the last write into pieces with their lines, and drops their bytes. */
  private collect(): void {
    for (const { cells, end } of this.fresh) {
      const length = end - this.heldStart;
      const raw = this.held.subarray(0, length);
      const breaks = countLineBreaks(raw);
      const last = raw[raw.length - 1];
      const terminated = last === LF || last === CR;
      this.out.push({ kind: 'record', line: this.line, lastLine: this.line + Math.max(0, breaks - (terminated ? 1 : 0)), cells });
      this.line += breaks;
      this.held = this.held.subarray(length);
      this.heldStart = end;
    }
    this.fresh.length = 0;
  }

  /** Reports the broken record and returns the bytes after its first line (or starts skipping). */
  private recover(error: Error): Buffer {
    this.out.push({ kind: 'broken', line: this.line, reason: describeParseError(error as CsvError, this.maxRecordBytes) });
    const held = this.held;
    this.held = EMPTY;
    this.heldStart = 0;
    this.line++;
    const rest = afterFirstLineBreak(held);
    if (rest === undefined) {
      this.skipping = true;
      return EMPTY;
    }
    this.dropLeadingLf = rest.length === 0 && held[held.length - 1] === CR;
    return rest;
  }

  private drain(): Piece[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/**
 * csv-parse builds the context it hands `on_record` by spreading its whole `info` object
 * and more (some twenty properties) for every record: at 500k rows that is most of the
 * parser's garbage. Only `bytes` is read here, so the parser's record context is cut down
 * to it. The parser keeps this builder on its `api` object (csv-parse 5 and 6); where it
 * does not, nothing is changed and the full context is used.
 */
function lightRecordContext(parser: Parser): void {
  const api = (parser as unknown as { api?: { info?: { bytes?: unknown }; __infoRecord?: unknown } }).api;
  if (api === undefined || typeof api.__infoRecord !== 'function' || typeof api.info?.bytes !== 'number') return;
  api.__infoRecord = function (this: { info: { bytes: number } }) {
    return { bytes: this.info.bytes };
  };
}

/** The bytes after the first CRLF, LF or CR; undefined when there is none. */
function afterFirstLineBreak(bytes: Buffer): Buffer | undefined {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === LF) return bytes.subarray(i + 1);
    if (byte === CR) return bytes.subarray(bytes[i + 1] === LF ? i + 2 : i + 1);
  }
  return undefined;
}

function countLineBreaks(bytes: Buffer): number {
  let count = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === LF) count++;
    else if (byte === CR) {
      count++;
      if (bytes[i + 1] === LF) i++;
    }
  }
  return count;
}

/** csv-parse's own messages quote cell values (a PIN, perhaps), so reasons are written here. */
function describeParseError(error: CsvError, maxRecordBytes: number): string {
  const column = typeof (error as { column?: unknown }).column === 'number' ? (error as unknown as { column: number }).column + 1 : undefined;
  const cell = column === undefined ? 'a cell' : `cell ${column}`;
  switch (error.code) {
    case 'INVALID_OPENING_QUOTE':
      return `${cell} has a quote inside an unquoted value; quote the whole cell and double the quote ("")`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `${cell}: a closing quote must be followed by the delimiter or the end of the line`;
    case 'CSV_QUOTE_NOT_CLOSED':
      return `${cell} opens a quote that is never closed; the row was skipped up to the end of its first line`;
    case 'CSV_MAX_RECORD_SIZE':
      return `the row is longer than ${maxRecordBytes} bytes (most likely an unterminated quote); it was skipped up to the end of its first line`;
    default:
      return `the row cannot be read (${String(error.code ?? 'parse error')})`;
  }
}
