/**
 * The copy of a CSV with a PIN column that the drop folder keeps in done/ (api.ts,
 * IngestFile.keptCopy), written while the file is read: what the watcher's redactedCopy
 * writes (UTF-8 with a BOM, CRLF, the header, then every row the parser could split with
 * its PIN cells blanked), under `.partial` until the last row, then renamed.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { stringify as stringifyRows } from 'csv-stringify/sync';

/** Rows of the kept copy turned into text at once. */
const COPY_ROWS = 1000;

export class KeptCopyWriter {
  readonly #path: string;
  readonly #delimiter: string;
  readonly #out: WriteStream;
  #rows: string[][] = [];
  #failed: unknown;

  constructor(path: string, delimiter: string, header: readonly string[]) {
    this.#path = path;
    this.#delimiter = delimiter;
    this.#out = createWriteStream(`${path}.partial`, { mode: 0o640 });
    this.#out.on('error', (error) => (this.#failed ??= error));
    this.#out.write('\uFEFF');
    this.#rows.push([...header]);
  }

  async row(cells: string[]): Promise<void> {
    this.#rows.push(cells);
    if (this.#rows.length >= COPY_ROWS) await this.#flush();
  }

  async finish(): Promise<void> {
    await this.#flush();
    this.#out.end();
    if (this.#failed === undefined) await once(this.#out, 'close').catch(() => undefined);
    if (this.#failed !== undefined) {
      // No copy then: the host falls back to redactedCopy, which reads the file again.
      await rm(`${this.#path}.partial`, { force: true });
      return;
    }
    await rename(`${this.#path}.partial`, this.#path);
  }

  async abandon(): Promise<void> {
    this.#out.destroy();
    await rm(`${this.#path}.partial`, { force: true });
  }

  async #flush(): Promise<void> {
    if (this.#rows.length === 0 || this.#failed !== undefined) return;
    const text = stringifyRows(this.#rows, { record_delimiter: '\r\n', delimiter: this.#delimiter });
    this.#rows = [];
    // once() also settles (rejecting) on 'error', and takes its listeners off either way.
    if (!this.#out.write(text)) await once(this.#out, 'drain').catch(() => undefined);
  }
}
