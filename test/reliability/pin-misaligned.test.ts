/**
 * Reliability suite 5b, PINs in rows that do not line up with their header (issue 15 item 3).
 *
 * PIN cells are found by column position, so a row with more or fewer cells than its
 * header, or a file without a header (its first row taken as the header), could carry a
 * plaintext PIN past the blanking into the error CSV, the copy kept in done/ or failed/,
 * the report, the ledger, the event log and the log. Real files are dropped into a real
 * spool with a real LevelDB store; afterwards every file under the spool and the store
 * directory, every captured log line, every event and every ledger record is searched for
 * the planted PINs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolHarness } from '../helpers/ingest-spool.js';
import { tempLevelStore } from '../helpers/stores.js';
import { scanDir, searchText, type ScanResult } from './secret-scan.js';

/** Planted PINs: digit strings that appear in nothing else the flows write. */
const PIN_GOOD = '61830572';
const PIN_LONG_ROW = '91827463';
const PIN_SHORT_ROW = '91827551';
const PIN_QUOTED_ROW = '40518263';
const PIN_HEADERLESS_FIRST = '83716204';
const PIN_HEADERLESS_NEXT = '27064915';
const PINS = [PIN_GOOD, PIN_LONG_ROW, PIN_SHORT_ROW, PIN_QUOTED_ROW, PIN_HEADERLESS_FIRST, PIN_HEADERLESS_NEXT];

function needles(): { label: string; needle: Buffer }[] {
  return PINS.flatMap((pin) => [
    { label: `PIN ${pin}`, needle: Buffer.from(pin) },
    { label: `PIN ${pin} (base64)`, needle: Buffer.from(Buffer.from(pin).toString('base64').replace(/=+$/, '')) },
  ]);
}

describe('reliability: PINs in misaligned rows and headerless files', () => {
  test('no planted PIN in the spool, the store, the ledger, the event log or the logs', { timeout: 60_000 }, async () => {
    const stored = await tempLevelStore();
    const spoolDir = await mkdtemp(join(tmpdir(), 'rollcall-pin-misaligned-'));
    let h: SpoolHarness | undefined;
    try {
      h = await SpoolHarness.start({ stored, spoolDir });
      // An unquoted comma in a name (one cell too many), a row with cells left out (too
      // few), and a quote the parser can read but that moves the PIN one cell on.
      const misaligned = [
        'user_id,name,department,pin',
        `9001,Good Row,Ops,${PIN_GOOD}`,
        `9002,Smith, John,Ops,${PIN_LONG_ROW}`,
        `9003,${PIN_SHORT_ROW}`,
        `9004,"Lee",Ops,x,${PIN_QUOTED_ROW}`,
        '',
      ].join('\r\n');
      await h.drop('misaligned.csv', misaligned);
      const headerless = [`9101,Jones,Ops,${PIN_HEADERLESS_FIRST}`, `9102,Kim,Ops,${PIN_HEADERLESS_NEXT}`, ''].join('\r\n');
      await h.drop('headerless.csv', headerless);
      const [first, second] = await h.reportsAtLeast(2);
      const byFile = new Map([first!, second!].map((r) => [r.file, r]));
      const aligned = byFile.get('misaligned.csv')!;
      const refused = byFile.get('headerless.csv')!;

      // The flows did what they should, so the scan below looks at real output.
      assert.equal(aligned.state, 'done', JSON.stringify(aligned));
      assert.deepEqual(aligned.rows, { imported: 1, unchanged: 0, failed: 3 });
      assert.ok((await stored.store.getUser('9001'))?.pinHash, 'the good row was imported with its PIN hashed');
      assert.ok(aligned.errorsCsv, 'the misaligned rows are in an error CSV');
      const errorsCsv = await h.read(aligned.errorsCsv);
      assert.match(errorsCsv, /^9002,/m, 'a row with a cell too many keeps its user ID');
      assert.match(errorsCsv, /the row has 5 cells but the header has 4/);
      assert.equal(refused.state, 'failed', JSON.stringify(refused));
      assert.match(refused.reason ?? '', /4 cells/);
      assert.equal(refused.path, undefined, 'a headerless file is not kept: any of its cells may be a PIN');
      await h.folder.stop();

      const logResult: ScanResult = { files: 0, bytes: 0, hits: [] };
      searchText('log', Buffer.from(h.logLines.join('')), needles(), logResult);
      searchText('events', Buffer.from(JSON.stringify(await stored.store.queryEvents())), needles(), logResult);
      searchText('ledger', Buffer.from(JSON.stringify(await stored.store.listImports())), needles(), logResult);
      searchText('reports', Buffer.from(JSON.stringify(h.reports)), needles(), logResult);
      await stored.store.stop();
      const spoolResult = await scanDir(spoolDir, needles());
      const storeResult = await scanDir(stored.dir, needles());
      console.log(`# pin-misaligned: logs (${h.logLines.length} lines), events, ledger, reports: ${logResult.bytes} bytes, ${logResult.hits.length} hits`);
      console.log(`# pin-misaligned: spool: ${spoolResult.files} files, ${spoolResult.bytes} bytes, ${spoolResult.hits.length} hits`);
      console.log(`# pin-misaligned: LevelDB directory: ${storeResult.files} files, ${storeResult.bytes} bytes, ${storeResult.hits.length} hits`);
      assert.deepEqual([...logResult.hits, ...spoolResult.hits, ...storeResult.hits], []);
    } finally {
      await h?.folder.stop();
      await stored.cleanup();
      await rm(spoolDir, { recursive: true, force: true });
    }
  });
});
