/**
 * The heart of the ledger design: a daemon killed with SIGKILL in the middle of a large
 * import, started again on the same store and spool, ends with every row exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { pino } from 'pino';
import type { ImportReport } from '../../../daemon/ingest/types.js';
import { LevelStore } from '../../../plugins/storage/level/level-store.js';

const CHILD = fileURLToPath(new URL('../../helpers/ingest-crash-child.js', import.meta.url));
const ROWS = 200_000;
/** Every this-many-th row has a bad e-mail address and must land in the error CSV once. */
const BAD_EVERY = 997;
const KILL_AFTER = 50_000;

function generate(rows: number): string {
  const lines = ['user_id,name,department,email'];
  for (let i = 1; i <= rows; i++) {
    lines.push(`${i},User ${i},Dept ${i % 50},${i % BAD_EVERY === 0 ? `not-an-email-${i}` : `u${i}@example.com`}`);
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** How long one run may take before the test gives up on it (and kills it, so nothing is left behind). */
const RUN_DEADLINE_MS = 120_000;

interface Run {
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  progress: number[];
  report?: ImportReport;
  kill(): void;
}

/** Starts the child; `onProgress` may kill it. */
function run(spool: string, db: string, onProgress?: (handled: number, kill: () => void) => void): Run {
  const child = spawn(process.execPath, [CHILD, spool, db], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not finish within ${RUN_DEADLINE_MS} ms`));
    }, RUN_DEADLINE_MS);
  });
  const result: Run = {
    exit: Promise.race([exited, late]).finally(() => clearTimeout(timer)),
    progress: [],
    kill: () => child.kill('SIGKILL'),
  };
  // A failed assertion must not leave a child behind to keep the test process alive.
  children.add(result);
  void exited.then(() => children.delete(result));
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    if (line.startsWith('progress ')) {
      const handled = Number(line.slice('progress '.length));
      result.progress.push(handled);
      onProgress?.(handled, () => child.kill('SIGKILL'));
    } else if (line.startsWith('report ')) {
      result.report = JSON.parse(line.slice('report '.length)) as ImportReport;
    }
  });
  return result;
}

const children = new Set<Run>();

async function openStore(db: string): Promise<LevelStore> {
  const store = new LevelStore({ location: db, logger: pino({ level: 'silent' }) });
  await store.start();
  return store;
}

test(`a SIGKILL in the middle of a ${ROWS}-row import resumes with every row exactly once`, { timeout: 180_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'rollcall-crash-'));
  const spool = join(root, 'spool');
  const db = join(root, 'leveldb');
  try {
    await mkdir(join(spool, 'incoming'), { recursive: true });
    await writeFile(join(spool, 'incoming', 'big.csv'), generate(ROWS));

    // First run: killed once a few checkpoints are committed.
    let killed = false;
    const first = run(spool, db, (handled, kill) => {
      if (!killed && handled >= KILL_AFTER) {
        killed = true;
        kill();
      }
    });
    const firstExit = await first.exit;
    assert.equal(firstExit.signal, 'SIGKILL', 'the first run was killed, not finished');
    assert.equal(first.report, undefined);

    // Between the runs: the ledger holds a running import with a checkpoint mid-file.
    const between = await openStore(db);
    const [running] = await between.listImports({ state: 'running' });
    const checkpoint = running?.checkpoint ?? 0;
    const usersAtKill = await between.countUsers();
    await between.stop();
    assert.ok(checkpoint >= KILL_AFTER && checkpoint < ROWS, `checkpoint ${checkpoint} is mid-file`);
    assert.equal(usersAtKill, checkpoint - Math.floor(checkpoint / BAD_EVERY), 'the store holds exactly the rows up to the checkpoint');

    // Second run: resumes from processing/ and finishes.
    const second = run(spool, db);
    const secondExit = await second.exit;
    assert.equal(secondExit.code, 0);
    const report = second.report;
    assert.ok(report, 'the second run reported the file');
    assert.ok(second.progress[0]! > checkpoint, 'the second run started after the checkpoint');

    const bad = Math.floor(ROWS / BAD_EVERY);
    const good = ROWS - bad;
    assert.equal(report.state, 'done');
    assert.deepEqual(report.rows, { imported: good, unchanged: 0, failed: bad });
    assert.ok(report.notes.some((note) => note.startsWith(`resumed after an interruption, after record ${checkpoint}`)), JSON.stringify(report.notes));

    // The store: every good row once. Each putUser takes a seq, so a batch applied twice
    // would show in the seq even though overwrite would leave the users the same.
    const store = await openStore(db);
    try {
      assert.equal(await store.countUsers(), good);
      assert.equal(store.currentSeq(), good, 'no row was committed twice');
      let seen = 0;
      for await (const user of store.scanUsers()) {
        const i = Number(user.id);
        assert.ok(i % BAD_EVERY !== 0, `bad row ${i} was not imported`);
        if (user.name !== `User ${i}` || user.email !== `u${i}@example.com` || user.department !== `Dept ${i % 50}`) {
          assert.fail(`user ${user.id} has the wrong content: ${JSON.stringify(user)}`);
        }
        seen++;
      }
      assert.equal(seen, good);
      const ledger = await store.getImport(report.hash);
      assert.deepEqual({ state: ledger?.state, checkpoint: ledger?.checkpoint, counts: ledger?.counts }, {
        state: 'done',
        checkpoint: ROWS,
        counts: { ok: good, skipped: 0, failed: bad },
      });
      const events = await store.queryEvents({ kind: 'import.' });
      assert.equal(events.length, 1, 'one summary event for the file');
    } finally {
      await store.stop();
    }

    // The error CSV: each bad row once, in row order, with its line number.
    const errors = parse(await readFile(join(spool, report.errorsCsv!)), { bom: true }) as string[][];
    assert.deepEqual(errors[0], ['user_id', 'name', 'department', 'email', 'Error_Description', 'Row']);
    const rows = errors.slice(1);
    const expected = Array.from({ length: bad }, (_, k) => (k + 1) * BAD_EVERY);
    assert.deepEqual(rows.map((row) => Number(row[0])), expected);
    assert.deepEqual(rows.map((row) => Number(row[5])), expected.map((i) => i + 1), 'Row is the line in the file');
    assert.ok(rows.every((row) => row[4]!.startsWith('email:')), rows[0]?.[4]);
  } finally {
    for (const child of children) child.kill();
    await rm(root, { recursive: true, force: true });
  }
});
