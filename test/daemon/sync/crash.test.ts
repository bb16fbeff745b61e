/**
 * The daemon killed with SIGKILL in the middle of a fan-out: after a restart every device
 * converges to its expected state, and no cursor is ever ahead of the store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, freePort } from '../../helpers/daemon-process.js';
import { startSimulator } from '../../../simulator/index.js';
import { LevelStore } from '../../../plugins/storage/level/level-store.js';
import { pino } from 'pino';

const USERS = 3000;
const DEVICES = 6;

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('SIGKILL during a fan-out: after restart every device converges and no cursor is ahead of the store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-crash-'));
  const sim = await startSimulator({ devices: Array.from({ length: DEVICES }, (_, i) => ({ id: 3001 + i })), port: 0 });
  let daemon: DaemonProcess | undefined;
  try {
    const seeds = Array.from({ length: USERS }, (_, i) => `    - { id: "${i + 1}", name: "User ${i + 1}", csn: "${5000000 + i}" }`).join('\n');
    const config = join(dir, 'rollcall.yaml');
    const write = async (port: number) =>
      writeFile(
        config,
        `dataDir: ${join(dir, 'state')}\nhttp:\n  listen: 127.0.0.1:${port}\ngateway:\n  address: ${sim.address}\n  insecure: true\nsync:\n  mode: all-devices\n  batch:\n    maxUsers: 100\n  concurrency: 2\nwatchers:\n  enabled: []\nseed:\n  users:\n${seeds}\n`,
      );
    await write(await freePort());
    daemon = new DaemonProcess(['run', '--config', config]);
    const held = () => sim.deviceIds.map((id) => sim.device(id).users().length);
    // Kill once the fan-out is under way but not finished.
    await until('fan-out started', () => held().some((n) => n >= 300));
    daemon.child.kill('SIGKILL');
    const killed = await daemon.exited;
    assert.equal(killed.signal, 'SIGKILL');
    const atKill = held();
    assert.ok(atKill.some((n) => n < USERS), `the kill came mid-fan-out (${atKill.join(',')})`);

    // Restart on the same state: the seed is not applied twice, everything converges.
    await write(await freePort());
    daemon = new DaemonProcess(['run', '--config', config]);
    await until('every device holds every user', () => held().every((n) => n === USERS), 90_000);
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0);

    const store = new LevelStore({ location: join(dir, 'state', 'plugins', 'storage', 'level', 'leveldb'), logger: pino({ level: 'silent' }) });
    await store.start();
    try {
      assert.equal(await store.countUsers(), USERS);
      const head = store.currentSeq();
      for (const id of sim.deviceIds) {
        const cursor = await store.cursor(id);
        assert.ok(cursor <= head, `device ${id}: cursor ${cursor} ahead of the store's seq ${head}`);
      }
      // Each device holds exactly the database's users, card for card.
      for (const id of sim.deviceIds) {
        const users = sim.device(id).users();
        for (const info of users.slice(0, 50)) {
          const stored = await store.getUser(info.hdr!.ID);
          assert.equal(stored?.name, info.name);
        }
        assert.equal(new Set(users.map((u) => u.hdr!.ID)).size, USERS);
      }
    } finally {
      await store.stop();
    }
  } finally {
    await daemon?.kill();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
