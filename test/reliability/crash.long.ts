/**
 * Reliability suite 1, crash: the daemon's working parts in a child process (crash-child.ts)
 * import a 100,000-row CSV and fan it out to 10 simulated devices, and are killed with
 * SIGKILL at ≥ 20 seeded random points, restarted on the same store and spool each time. The
 * simulator runs in this process, so it outlives every kill.
 *
 * Pass: every row imported exactly once or reported (the bad rows in the error CSV, once);
 * the store equals a clean run's, user by user; every device equals the store; after every
 * kill no device cursor is ahead of what the device holds (every user committed up to a
 * device's cursor is on that device, as stored).
 *
 * ROLLCALL_CRASH_ROWS, ROLLCALL_CRASH_KILLS and ROLLCALL_CRASH_SEED change the figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { pino } from 'pino';
import type { ImportReport } from '../../daemon/ingest/types.js';
import { deviceProjectionHash } from '../../daemon/model/projection.js';
import type { User } from '../../daemon/model/user.js';
import { LevelStore } from '../../plugins/storage/level/level-store.js';
import { fromUserInfo } from '../../plugins/transports/gsdk/user-info.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { seededRandom } from '../../simulator/faults.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const ROWS = Number(process.env.ROLLCALL_CRASH_ROWS ?? 100_000);
const KILLS = Number(process.env.ROLLCALL_CRASH_KILLS ?? 20);
const SEED = Number(process.env.ROLLCALL_CRASH_SEED ?? 8);
const DEVICES = Array.from({ length: 10 }, (_, i) => 7001 + i);
/** Every this-many-th row has a bad e-mail address: reported in the error CSV, once. */
const BAD_EVERY = 997;
const BAD = Math.floor(ROWS / BAD_EVERY);
const GOOD = ROWS - BAD;
/** Users per device checked against its cursor after each kill (a seeded sample). */
const SAMPLE = 1500;

function generate(rows: number): string {
  const lines = ['user_id,name,department,email,csn'];
  for (let i = 1; i <= rows; i++) {
    lines.push(`${i},User ${i},Dept ${i % 50},${i % BAD_EVERY === 0 ? `not-an-email-${i}` : `u${i}@example.com`},${7_000_000 + i}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

interface Run {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  started: Promise<void>;
  progress: number[];
  reports: ImportReport[];
}

const children = new Set<ChildProcess>();

function start(spool: string, db: string, gateway: string): Run {
  const child = spawn(process.execPath, [CHILD, spool, db, gateway], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const run: Run = { child, exited, started: Promise.resolve(), progress: [], reports: [] };
  run.started = new Promise<void>((resolve, reject) => {
    void exited.then(() => reject(new Error('the child exited before it started')));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'started') resolve();
      else if (line.startsWith('progress ')) run.progress.push(Number(line.slice(9)));
      else if (line.startsWith('report ')) run.reports.push(JSON.parse(line.slice(7)) as ImportReport);
    });
  });
  return run;
}

async function openStore(db: string): Promise<LevelStore> {
  const store = new LevelStore({ location: db, logger: pino({ level: 'silent' }) });
  await store.start();
  return store;
}

function deviceUsers(sim: RunningSimulator, id: number): Map<string, User> {
  return new Map(sim.device(id).users().map((info) => [info.hdr!.ID, fromUserInfo(info)]));
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * No cursor ahead of committed data: every user whose last change is at or before a device's
 * cursor is on that device as stored (checked on a seeded sample of users).
 */
async function checkCursors(store: LevelStore, sim: RunningSimulator, random: () => number): Promise<{ checked: number; cursors: number[] }> {
  const head = store.currentSeq();
  const ids: string[] = [];
  for await (const user of store.scanUsers()) ids.push(user.id);
  const sample = ids.length <= SAMPLE ? ids : Array.from({ length: SAMPLE }, () => ids[Math.floor(random() * ids.length)]!);
  const users = new Map((await store.getUsers(sample)).filter((u): u is User => u !== undefined).map((u) => [u.id, u]));
  let checked = 0;
  const cursors: number[] = [];
  for (const id of DEVICES) {
    const cursor = await store.cursor(id);
    cursors.push(cursor);
    assert.ok(cursor <= head, `device ${id}: cursor ${cursor} ahead of the store's seq ${head}`);
    const pending = new Set((await store.changesSince(cursor)).map((c) => c.userId));
    const held = deviceUsers(sim, id);
    for (const user of users.values()) {
      if (pending.has(user.id)) continue;
      const theirs = held.get(user.id);
      assert.ok(theirs && deviceProjectionHash(theirs) === deviceProjectionHash(user), `device ${id}: cursor ${cursor} covers user ${user.id}, which the device ${theirs ? 'holds differently' : 'lacks'}`);
      checked++;
    }
  }
  return { checked, cursors };
}

test(`crash: ${KILLS} SIGKILLs during a ${ROWS}-row import and fan-out to ${DEVICES.length} devices`, { timeout: 1_500_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'rollcall-crash-suite-'));
  const sim = await startSimulator({ devices: DEVICES.map((id) => ({ id })), port: 0 });
  const cleanSim = await startSimulator({ devices: [{ id: 7901 }], port: 0 });
  const random = seededRandom(SEED);
  const started = Date.now();
  try {
    const content = generate(ROWS);
    const spool = join(root, 'spool');
    const db = join(root, 'leveldb');
    await mkdir(join(spool, 'incoming'), { recursive: true });
    await writeFile(join(spool, 'incoming', 'users.csv'), content);

    // The killed runs. The first half are killed after a seeded delay (they land in the
    // import); the rest once the import is reported, after a seeded amount of fan-out, so
    // the kills cover the fan-out too.
    const kills: string[] = [];
    let reportsSeen: ImportReport[] = [];
    let cursorChecks = 0;
    const totalHeld = () => DEVICES.reduce((sum, id) => sum + sim.device(id).userCount, 0);
    for (let k = 0; k < KILLS; k++) {
      const run = start(spool, db, sim.address);
      await run.started;
      const t0 = Date.now();
      if (k < Math.ceil(KILLS / 2)) {
        await new Promise((r) => setTimeout(r, Math.round(150 + random() * (600 + 250 * k))));
      } else {
        if (reportsSeen.length === 0) await until('the import is reported', () => run.reports.length > 0, 600_000);
        const step = Math.round(1000 + random() * 40_000);
        const base = totalHeld();
        await until('fan-out progress', () => totalHeld() >= Math.min(base + step, GOOD * DEVICES.length), 120_000).catch(() => undefined);
      }
      const delay = Date.now() - t0;
      run.child.kill('SIGKILL');
      const exit = await run.exited;
      assert.equal(exit.signal, 'SIGKILL', `run ${k} was killed, not ended (${JSON.stringify(exit)})`);
      reportsSeen = [...reportsSeen, ...run.reports];
      const store = await openStore(db);
      try {
        const users = await store.countUsers();
        const [ledger] = await store.listImports({});
        const { checked, cursors } = await checkCursors(store, sim, random);
        cursorChecks += checked;
        const held = DEVICES.map((id) => sim.device(id).userCount);
        const phase = reportsSeen.length === 0 ? 'import' : held.every((n) => n === GOOD) ? 'idle' : 'fan-out';
        kills.push(`#${k + 1} after ${delay} ms (${phase}): ${users} users, ledger ${ledger?.state}@${ledger?.checkpoint}, cursors ${Math.min(...cursors)}..${Math.max(...cursors)}, devices hold ${Math.min(...held)}..${Math.max(...held)}`);
        // A running import holds exactly the good rows up to its checkpoint.
        if (ledger?.state === 'running') assert.equal(users, ledger.checkpoint - Math.floor(ledger.checkpoint / BAD_EVERY), `kill ${k + 1}: users match the checkpoint`);
      } finally {
        await store.stop();
      }
    }

    // The last run: not killed; ends once every device holds every user, with a clean stop.
    const last = start(spool, db, sim.address);
    await last.started;
    await until('the import is reported', () => reportsSeen.length + last.reports.length > 0, 600_000);
    await until('every device holds every user', () => DEVICES.every((id) => sim.device(id).userCount === GOOD), 900_000);
    last.child.kill('SIGTERM');
    assert.equal((await last.exited).code, 0, 'a clean stop');
    const reports = [...reportsSeen, ...last.reports];
    assert.equal(reports.length, 1, `one report for the file: ${JSON.stringify(reports)}`);
    const report = reports[0]!;
    assert.equal(report.state, 'done');
    assert.deepEqual(report.rows, { imported: GOOD, unchanged: 0, failed: BAD }, 'every row imported once or reported');
    const errors = parse(await readFile(join(spool, report.errorsCsv!)), { bom: true }) as string[][];
    assert.deepEqual(errors.slice(1).map((row) => Number(row[0])), Array.from({ length: BAD }, (_, i) => (i + 1) * BAD_EVERY), 'each bad row reported once, in order');

    // The clean run: the same file into another store, no kills.
    const cleanSpool = join(root, 'clean-spool');
    const cleanDb = join(root, 'clean-leveldb');
    await mkdir(join(cleanSpool, 'incoming'), { recursive: true });
    await writeFile(join(cleanSpool, 'incoming', 'users.csv'), content);
    const clean = start(cleanSpool, cleanDb, cleanSim.address);
    await clean.started;
    await until('the clean import is reported', () => clean.reports.length > 0, 600_000);
    clean.child.kill('SIGTERM');
    assert.equal((await clean.exited).code, 0);

    const store = await openStore(db);
    const reference = await openStore(cleanDb);
    try {
      assert.equal(await store.countUsers(), GOOD);
      assert.equal(await reference.countUsers(), GOOD);
      const ledger = await store.getImport(report.hash);
      assert.deepEqual({ state: ledger?.state, checkpoint: ledger?.checkpoint, counts: ledger?.counts }, { state: 'done', checkpoint: ROWS, counts: { ok: GOOD, skipped: 0, failed: BAD } });
      const mine = store.scanUsers()[Symbol.asyncIterator]();
      let compared = 0;
      for await (const theirs of reference.scanUsers()) {
        const next = await mine.next();
        assert.ok(!next.done, `the crashed store lacks user ${theirs.id}`);
        const user = next.value;
        assert.equal(user.id, theirs.id);
        assert.deepEqual(
          { hash: deviceProjectionHash(user), email: user.email, department: user.department },
          { hash: deviceProjectionHash(theirs), email: theirs.email, department: theirs.department },
          `user ${user.id} differs from the clean run's`,
        );
        compared++;
      }
      assert.ok((await mine.next()).done, 'the crashed store has users the clean run has not');
      // Every device equals the store.
      const byId = new Map<string, string>();
      for await (const user of store.scanUsers()) byId.set(user.id, deviceProjectionHash(user));
      for (const id of DEVICES) {
        const held = deviceUsers(sim, id);
        assert.equal(held.size, GOOD, `device ${id} holds ${held.size} users`);
        for (const [userId, user] of held) assert.equal(deviceProjectionHash(user), byId.get(userId), `device ${id}: user ${userId} differs from the store`);
        const cursor = await store.cursor(id);
        assert.ok(cursor <= store.currentSeq());
      }
      console.log(`# crash: ${KILLS} kill points survived (seed ${SEED}), ${ROWS} rows (${GOOD} imported once, ${BAD} reported once), ${DEVICES.length} devices equal to the store`);
      console.log(`# crash: ${compared} users equal to the clean run's; ${cursorChecks} user/cursor checks after kills; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
      for (const line of kills) console.log(`#   kill ${line}`);
    } finally {
      await store.stop();
      await reference.stop();
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await sim.stop();
    await cleanSim.stop();
    await rm(root, { recursive: true, force: true });
  }
});
