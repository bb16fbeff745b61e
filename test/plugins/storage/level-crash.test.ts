/**
 * A LevelDB store survives SIGKILL: a child commits in a loop and is killed mid-stream;
 * reopened, the store holds exactly a prefix of whole commits, at least every commit the
 * child saw resolve, and all its parts agree with one another. A kill lands at a random
 * point of a commit, so each test kills the same store several times.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { LevelStore } from '../../../plugins/storage/level/level-store.js';

const writer = fileURLToPath(new URL('./level-crash-writer.js', import.meta.url));

/** Runs the writer until it has reported `atLeast` commits, kills it, returns the last one reported. */
async function writeAndKill(location: string, perCommit: number, atLeast: number): Promise<number> {
  const child = spawn(process.execPath, [writer, location, String(perCommit)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let reported = 0;
  let buffered = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) reported = Number(line);
    if (reported >= atLeast && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `the writer ended on its own: ${stderr}`);
  assert.ok(reported >= atLeast, `the writer reported only ${reported} commits: ${stderr}`);
  return reported;
}

/** Checks the store after a kill and returns how many commits it holds. */
async function checkConsistent(location: string, perCommit: number, reported: number, last: boolean): Promise<number> {
  const store = new LevelStore({ location, logger: pino({ level: 'silent' }) });
  await store.start();
  try {
    const seq = store.currentSeq();
    assert.equal(seq % perCommit, 0, 'whole commits only');
    const commits = seq / perCommit;
    assert.ok(commits >= reported, `commit ${reported} resolved before the kill but the store has ${commits}`);

    assert.equal(await store.countUsers(), seq, 'the counter equals the seq (one user per seq)');
    let scanned = 0;
    for await (const user of store.scanUsers()) {
      scanned += 1;
      assert.equal(user.id, `user-${String(scanned).padStart(8, '0')}`);
    }
    assert.equal(scanned, seq, 'the counter equals the scan');

    const changes = await store.changesSince(0);
    assert.equal(changes.length, seq);
    changes.forEach((change, i) => {
      assert.equal(change.seq, i + 1);
      assert.equal(change.userId, `user-${String(i + 1).padStart(8, '0')}`);
      assert.equal(change.op, 'upsert');
    });

    const events = await store.queryEvents();
    assert.deepEqual(
      events.map((e) => e.detail?.['n']),
      Array.from({ length: commits }, (_, i) => i + 1),
    );
    assert.equal(await store.cursor(1), seq - perCommit);
    assert.equal((await store.getDevice(1))?.lastEventId, commits);

    if (last) {
      // And it goes on from there.
      await store.commit([{ type: 'deleteUser', userId: 'user-00000001', origin: { kind: 'admin' } }]);
      assert.equal(store.currentSeq(), seq + 1);
    }
    return commits;
  } finally {
    await store.stop();
  }
}

for (const [name, perCommit, commitsPerRound, rounds] of [
  ['small commits', 1, 40, 3],
  ['commits of 200 users', 200, 3, 2],
] as const) {
  test(`SIGKILL during ${name} leaves a consistent prefix of whole commits`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-crash-'));
    try {
      const location = join(dir, 'leveldb');
      let commits = 0;
      for (let round = 1; round <= rounds; round++) {
        const reported = await writeAndKill(location, perCommit, commits + commitsPerRound);
        commits = await checkConsistent(location, perCommit, reported, round === rounds);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
