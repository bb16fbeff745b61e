/**
 * The CSV watcher: reads one dropped file and feeds its rows to the ingest host's sink.
 *
 * The file's encoding is checked from the first byte to the last before any row is
 * committed, so a file with invalid bytes is refused whole. Under the ingest host that
 * check rides along the host's read for the content hash (`scanner()`, handed back as
 * `file.scan`); called on its own, `ingest` reads the file once more for it. The rows are
 * then read in one pass, which also writes the copy the drop folder keeps when the file
 * has a PIN column (`file.keptCopy`: the PIN cells blanked, as `redactedCopy` writes it).
 * Both reads stream; memory does not grow with the file. The rows are read, mapped and
 * redacted in a worker thread (worker-rows.ts, row-source.ts), off the event loop that
 * commits them and fans them out to the devices; a few chunks ahead at most, and the sink
 * still sees one call at a time, in file order.
 *
 * Records are counted in file order, rejected ones included and blank lines not; the
 * first `sink.resumeFrom` of them were handled by an interrupted earlier run and are
 * skipped. Rows handed to the sink (accepted or rejected) never carry a PIN in `raw`: PIN
 * cells are blanked as they are read (redact.ts, misaligned rows included), so the rejection journal
 * and the error CSV cannot leak one. Header cells reach a reason, a note or a log only
 * when the header is recognised (columns.ts): the first row of a file without a header is
 * data, perhaps a PIN. Ignored columns are listed in the report's notes.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Writable } from 'node:stream';
import { RollcallError } from '../../../daemon/errors.js';
import type { User } from '../../../daemon/model/user.js';
import type { ImportMergeOptions } from '../../../daemon/merge/import-merge.js';
import type {
  ContentScanner,
  HealthReport,
  IngestFile,
  IngestRecord,
  IngestSink,
  KeptCopy,
  PluginContext,
  WatcherInstance,
} from '../../../daemon/plugins/api.js';
import { ignoredColumnNotes, isRecognisedHeader } from './columns.js';
import { timeZone } from './dates.js';
import { checkEncoding, decodeText, EncodingScan, type TextFormat } from './decode.js';
import { exportCsv, type ExportSummary } from './export.js';
import { readCsv } from './reader.js';
import { pinIndexes, redactCells, redactionOf } from './redact.js';
import { configSchema, type CsvConfig } from './schema.js';
import { csvRowEvents } from './row-source.js';
import { workerRowEvents } from './worker-rows.js';

export class CsvWatcher implements WatcherInstance {
  readonly patterns = ['*.csv', '*.CSV'];
  readonly format = 'csv';
  private config: CsvConfig;

  constructor(
    private readonly ctx: PluginContext,
    config: CsvConfig,
  ) {
    this.config = config;
  }

  /** How the ingest host merges this watcher's records into stored users. */
  get mergeOptions(): ImportMergeOptions {
    return { mode: this.config.mode, blankClears: this.config.blankClears };
  }

  reload(config: unknown): void {
    this.config = configSchema.parse(config);
  }

  health(): HealthReport {
    return { ok: true };
  }

  /** The encoding check, fed by the host's read for the content hash. */
  scanner(): ContentScanner {
    return new EncodingScan();
  }

  async ingest(file: IngestFile, sink: IngestSink, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    // A reload during an import applies from the next file.
    const config = this.config;
    let encoding: TextFormat;
    if (file.scan !== undefined) {
      // The host's read for the hash checked the bytes (scanner()); a refusal is thrown here.
      if (!file.scan.ok) throw file.scan.error;
      encoding = file.scan.value as TextFormat;
    } else {
      encoding = await checkEncoding(createReadStream(file.path, { signal, highWaterMark: READ_CHUNK }));
    }
    this.ctx.logger.info({ file: file.name, encoding: encoding.encoding, bom: encoding.bom }, 'reading CSV');

    let batch: IngestRecord[] = [];
    const counts = { accepted: 0, rejected: 0, resumed: 0 };
    // Read, mapped and redacted (row-source.ts), writing the kept copy in this same pass when
    // the file has a PIN column: in a worker thread (worker-rows.ts) for a large file, here
    // for a small one, where starting a worker would cost more than the parse.
    const source = { path: file.path, name: file.name, config, resumeFrom: sink.resumeFrom, ...(file.keptCopy !== undefined ? { keptCopy: file.keptCopy } : {}) };
    const events = file.size >= WORKER_MIN_BYTES ? workerRowEvents(source, config.batchSize, signal) : csvRowEvents(source);
    // The batch being committed: the next one is read meanwhile (the commit waits on
    // LevelDB's threads, not on this one). The sink still sees one call at a time, in file
    // order: every other call waits for the commit in flight first.
    let committing: Promise<void> | undefined;
    const settled = async (): Promise<void> => {
      const pending = committing;
      committing = undefined;
      await pending;
    };
    try {
      for await (const event of events) {
        signal.throwIfAborted();
        switch (event.kind) {
          case 'header':
            if (event.ignored.length > 0) {
              this.ctx.logger.warn(
                { file: file.name, ignored: event.ignored.map((c) => ({ column: c.index + 1, header: c.header, reason: c.reason })) },
                'ignored columns (BioStar would refuse this file; rollcall imports the other columns)',
              );
              for (const note of ignoredColumnNotes(event.ignored)) sink.note?.(note);
            }
            sink.setHeader(event.cells);
            break;
          case 'rejected':
            counts.rejected++;
            await settled();
            await sink.reject({ row: event.row, raw: event.raw, reason: event.reason });
            break;
          case 'record':
            batch.push({ row: event.row, patch: event.patch, raw: event.raw });
            if (batch.length >= config.batchSize) {
              counts.accepted += batch.length;
              await settled();
              committing = sink.accept(batch);
              // Seen by the next settled(); this only keeps it from counting as unhandled meanwhile.
              committing.catch(() => undefined);
              batch = [];
            }
            break;
          case 'end':
            counts.resumed = event.resumed;
            break;
        }
      }
      await settled();
      if (batch.length > 0) {
        counts.accepted += batch.length;
        await sink.accept(batch);
      }
    } catch (error) {
      // Nothing is handed back to the host while a commit is still in flight.
      await committing?.catch(() => undefined);
      // The worker may have finished the copy already: a failed read keeps none.
      if (file.keptCopy !== undefined) await removeCopy(file.keptCopy);
      throw error;
    }
    this.ctx.logger.info({ file: file.name, ...counts }, 'CSV read');
  }

  /**
   * The copy of a handled file that the drop folder keeps in done/ or failed/: when the
   * file has a PIN column, its header and rows with the PIN cells blanked (misaligned rows
   * as redact.ts says; UTF-8 with BOM, CRLF), so no plaintext PIN stays on disk; rows the
   * parser could not split are left out. 'as-dropped' when there is no PIN column. A file
   * whose header row is not recognised (most likely a file without a header) may hold
   * PINs in any column: 'withheld'. A file that cannot be read as CSV (an encoding error,
   * a broken header, anywhere in the file) cannot be blanked: it is 'withheld' when a line
   * near its start names a PIN column, and kept as dropped otherwise.
   */
  async redactedCopy(from: string, to: string): Promise<KeptCopy> {
    const config = this.config;
    const headerOf = async (): Promise<string[]> => {
      for await (const event of readCsv(decodeText(createReadStream(from)), { delimiter: config.delimiter, startRow: config.startRow })) {
        if (event.kind === 'header') return event.cells;
      }
      return [];
    };
    const unreadable = async (): Promise<KeptCopy> => ((await namesPinColumn(from, config.delimiter, config.remap)) ? 'withheld' : 'as-dropped');
    let header: string[];
    try {
      header = await headerOf();
    } catch (error) {
      if (error instanceof RollcallError) return unreadable();
      throw error;
    }
    if (!isRecognisedHeader(header, config)) return 'withheld';
    const redaction = redactionOf(header, config);
    if (redaction.pins.size === 0) return 'as-dropped';
    const temporary = `${to}.partial`;
    const rows = async function* (): AsyncGenerator<string[]> {
      for await (const event of readCsv(decodeText(createReadStream(from)), { delimiter: config.delimiter, startRow: config.startRow })) {
        if (event.kind === 'error' && event.cells.length === 0) continue;
        yield event.kind === 'header' ? event.cells : redactCells(event.cells, redaction);
      }
    };
    try {
      const out = createWriteStream(temporary, { mode: 0o640 });
      out.write('\uFEFF');
      await pipeline(Readable.from(rows()), stringify({ record_delimiter: '\r\n', delimiter: config.delimiter }), out);
      await rename(temporary, to);
      return 'redacted';
    } catch (error) {
      await rm(temporary, { force: true });
      // Unreadable past its header (e.g. a byte that is not UTF-8 further down): no copy.
      if (error instanceof RollcallError) return 'withheld';
      throw error;
    }
  }

  /**
   * Writes users as a BioStar-style CSV with this watcher's time zone, export columns and
   * custom fields, and ends `out`. The export trigger (schedule, CLI) calls it.
   */
  async exportUsers(users: AsyncIterable<User>, out: Writable, signal?: AbortSignal): Promise<ExportSummary> {
    const config = this.config;
    return exportCsv(users, out, {
      zone: timeZone(config.timeZone),
      ...(config.export.columns ? { columns: config.export.columns } : {}),
      customFields: config.customFields,
      ...(signal ? { signal } : {}),
    });
  }
}

/** Reads of a large file: fewer, bigger chunks cost less per byte. */
const READ_CHUNK = 256 * 1024;
/** Files from this size on are parsed in a worker thread (about 7,500 BioStar rows). */
export const WORKER_MIN_BYTES = 1024 * 1024;
/** A kept copy (or its partial file) that will not be used. */
async function removeCopy(path: string): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.partial`, { force: true });
}

/** How much of the start of an unreadable file is searched for a PIN column, and how many lines of it. */
const PIN_SEARCH_BYTES = 64 * 1024;
const PIN_SEARCH_LINES = 50;

/**
 * Whether one of the first lines of a file that cannot be read as CSV names a PIN column
 * (as the header would, remap included). Read leniently: as Latin-1, which never fails and
 * keeps ASCII names, and as UTF-16 when the bytes look like it.
 */
async function namesPinColumn(path: string, delimiter: string, remap: CsvConfig['remap']): Promise<boolean> {
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(PIN_SEARCH_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, PIN_SEARCH_BYTES, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const texts = [head.toString('latin1')];
  if (head.includes(0)) {
    const even = head.subarray(0, head.length - (head.length % 2));
    texts.push(even.toString('utf16le'), Buffer.from(even).swap16().toString('utf16le'));
  }
  return texts.some((text) =>
    text
      .split(/\r\n|\n|\r/)
      .slice(0, PIN_SEARCH_LINES)
      .some((line) => pinIndexes(line.split(delimiter).map((cell) => cell.replace(/^[\s"\uFEFF]+|[\s"]+$/g, '')), remap).size > 0),
  );
}
