import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CSV_HEADER, csvRow, writeBiostarCsv } from '../../../bench/lib/biostar-csv.js';
import { decodeText } from '../../../plugins/watchers/csv/decode.js';
import { mapColumns } from '../../../plugins/watchers/csv/columns.js';
import { configSchema } from '../../../plugins/watchers/csv/schema.js';
import { readCsv } from '../../../plugins/watchers/csv/reader.js';

test('the generated CSV is BioStar-shaped, deterministic, and read whole by the CSV reader', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-bench-csv-test-'));
  try {
    const file = join(dir, 'users.csv');
    const bytes = await writeBiostarCsv(file, 2500);
    assert.equal((await stat(file)).size, bytes);
    const raw = await readFile(file);
    assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    assert.ok(raw.toString('utf8').includes('\r\n'), 'CRLF');

    const again = join(dir, 'again.csv');
    await writeBiostarCsv(again, 2500);
    assert.ok(raw.equals(await readFile(again)), 'the same bytes every time');

    let header: string[] | undefined;
    const rows: string[][] = [];
    for await (const event of readCsv(decodeText(createReadStream(file)), { delimiter: ',', startRow: 2 })) {
      if (event.kind === 'header') header = event.cells;
      else if (event.kind === 'row') rows.push(event.cells);
      else assert.fail(`row error at ${event.row}: ${event.reason}`);
    }
    assert.deepEqual(header, CSV_HEADER);
    assert.equal(rows.length, 2500);
    assert.deepEqual(rows[1234], csvRow(1234));
    const mapping = mapColumns(header!, configSchema.parse({}));
    assert.ok(mapping.ok && mapping.map.ignored.length === 0, 'every column maps to a BioStar field');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
