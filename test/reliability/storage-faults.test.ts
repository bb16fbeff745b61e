/**
 * Reliability suite 3, storage faults: the disk under the store and the spool fills in the
 * middle of an import. A real small file system (tmpfs, mounted for the test: this needs
 * root and mount, and the test skips saying so without them), not an injected error: LevelDB,
 * the reject journal and the spool all meet the real ENOSPC where they would.
 *
 * Pass: the failure is reported clearly; nothing is half-applied (the users stored are
 * exactly the rows of the committed batches, each once); once space returns, the import
 * resumes and ends with every row exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { levelStoreAt } from '../helpers/stores.js';
import { SpoolHarness, until } from '../helpers/ingest-spool.js';

const ROWS = 30_000;
/** Room for the file and the first part of its import, not for all of it. */
const SMALL = '3m';
const LARGE = '256m';
/**
 * The reject limits opened up (spool.rejects): here the journal must grow until the disk is
 * full, and the error CSV must list every bad row; with the defaults a file whose every row
 * is an error is refused after 1,000 rows and the error CSV keeps the first 1,000.
 */
const NO_REJECT_LIMITS = { maxRows: ROWS, maxShare: 1, minRows: 1, errorCsvRows: ROWS };

function canMount(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SMALL}`, 'tmpfs', dir], { stdio: 'ignore' });
    // If the test is ended early (an unhandled rejection ends it before its finally runs),
    // the mount must still go when the process does.
    process.once('exit', () => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
        execFileSync('rmdir', [dir], { stdio: 'ignore' });
      } catch {
        // already unmounted and removed by the test
      }
    });
    return true;
  } catch {
    return false;
  }
}

function csv(rows: number, badEvery: number): string {
  const lines = ['user_id,name,department,email'];
  for (let i = 1; i <= rows; i++) lines.push(`${i},User ${i},Dept ${i % 50},${badEvery && i % badEvery === 0 ? `not-an-email-${i}` : `u${i}.${'x'.repeat(30)}@example.com`}`);
  return `${lines.join('\n')}\n`;
}

// Without bad rows only the store writes during the import; with them the reject journal
// (fsynced before each commit) writes too, so the disk can fill under either; with every
// row an error, only the journal grows.
for (const badEvery of [0, 7, 1]) {
test(`the disk fills during an import${badEvery === 1 ? ' where every row is an error' : badEvery ? ' with row errors' : ''}: a clear failure, nothing half-applied, and the import resumes once space returns`, { timeout: 180_000 }, async (t) => {
  const bad = badEvery ? Math.floor(ROWS / badEvery) : 0;
  const mountPoint = await mkdtemp(join(tmpdir(), 'rollcall-diskfull-'));
  if (!canMount(mountPoint)) {
    await rm(mountPoint, { recursive: true, force: true });
    t.skip('needs root and `mount -t tmpfs` (a small real file system); not available here');
    return;
  }
  let first: SpoolHarness | undefined;
  let second: SpoolHarness | undefined;
  try {
    const spoolDir = join(mountPoint, 'spool');
    const db = join(mountPoint, 'leveldb');
    await mkdir(join(spoolDir, 'incoming'), { recursive: true });
    const content = csv(ROWS, badEvery);
    await writeFile(join(spoolDir, 'incoming', 'big.csv'), content);

    const stored = await levelStoreAt(db);
    first = await SpoolHarness.start({ stored, spoolDir, stableMs: 50, csv: { batchSize: 500 }, rejectLimits: NO_REJECT_LIMITS });
    // The failure: a report, or the folder giving up on the file with a logged error.
    await until('the import failed for lack of space', () => first!.reports.length > 0 || first!.logLines.some((l) => /\bENOSPC\b|no space left/i.test(l)), 120_000);
    const report = first.reports[0];
    const errorLines = first.logLines.filter((l) => /\bENOSPC\b|no space left/i.test(l)).map((l) => JSON.parse(l) as Record<string, unknown>);
    console.log(`# storage faults: at ${SMALL}: report ${report ? JSON.stringify({ state: report.state, reason: report.reason, rows: report.rows }) : 'none'}; ${errorLines.length} log lines name ENOSPC, first: ${JSON.stringify(errorLines[0]?.['msg'])}`);
    assert.ok(report?.state !== 'done', 'the import could not finish in the space there was');
    assert.ok(errorLines.length > 0 || /\bENOSPC\b|no space left/i.test(report?.reason ?? ''), 'the failure names the full disk');
    await first.folder.stop().catch(() => undefined);
    await stored.store.stop().catch(() => undefined);
    first = undefined;

    // Space returns.
    execFileSync('mount', ['-o', `remount,size=${LARGE}`, mountPoint]);

    // Nothing half-applied: the store holds whole batches only, each row once.
    const between = await levelStoreAt(db);
    const users = await between.store.countUsers();
    const seq = between.store.currentSeq();
    const [running] = await between.store.listImports({});
    await between.store.stop();
    console.log(`# storage faults: after the failure: ${users} users stored, seq ${seq}, ledger ${JSON.stringify({ state: running?.state, checkpoint: running?.checkpoint })}`);
    assert.equal(seq, users, 'each stored row committed once');
    const checkpoint = running?.checkpoint ?? 0;
    assert.equal(users % 500, 0, 'whole batches of 500 users only');
    assert.equal(users, checkpoint - (badEvery ? Math.floor(checkpoint / badEvery) : 0), 'the store holds exactly the good rows up to the checkpoint');

    // Restart on the same store and spool: the import resumes (or, if it was refused whole,
    // is dropped again by the operator) and ends with every row exactly once.
    const again = await levelStoreAt(db);
    second = await SpoolHarness.start({ stored: again, spoolDir, stableMs: 50, csv: { batchSize: 500 }, rejectLimits: NO_REJECT_LIMITS });
    if (report?.state === 'failed') await second.drop('big-again.csv', content);
    const [final] = await second.reportsAtLeast(1, 120_000);
    console.log(`# storage faults: after space returned: ${JSON.stringify({ state: final!.state, rows: final!.rows, notes: final!.notes })}`);
    assert.equal(final!.state, 'done', JSON.stringify(final));
    assert.deepEqual(final!.rows, { imported: ROWS - bad, unchanged: 0, failed: bad }, 'the report counts the whole file, both runs');
    if (bad > 0) {
      const errors = parse(await readFile(join(spoolDir, final!.errorsCsv!)), { bom: true }) as string[][];
      assert.deepEqual(errors.slice(1).map((row) => Number(row[0])), Array.from({ length: bad }, (_, k) => (k + 1) * badEvery), 'each bad row in the error CSV once, in order');
    }
    assert.equal(await second.store.countUsers(), ROWS - bad);
    assert.equal(second.store.currentSeq(), ROWS - bad, 'no row applied twice');
  } finally {
    await first?.folder.stop().catch(() => undefined);
    await second?.stop().catch(() => undefined);
    try {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
    } catch {
      // not mounted (skipped) or already gone
    }
    await rm(mountPoint, { recursive: true, force: true });
  }
});
}
