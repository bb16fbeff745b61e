/**
 * PIN hashes know where they came from (issue 13 item 8), end to end: a real daemon (child
 * process, LevelDB in a temp dir) on one simulated gateway, then restarted on another whose
 * GetPINHash is another scheme (simulator pinHashSalt). The users whose hash the first made
 * are counted by `rollcall status`, listed by `rollcall users list --foreign-pin-hash`, sent
 * to the new gateway's device without their PIN, and rehashed when the plaintext is set
 * again (admin) or imported again (CSV, preserve mode, otherwise unchanged rows).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PIN_HASH_PROBE, pinHashSchemeId } from '../../daemon/model/pin-provenance.js';
import { startSimulator, standInPinHash, type RunningSimulator } from '../../simulator/index.js';
import { DaemonProcess, freePort, runCli } from '../helpers/daemon-process.js';
import { until } from '../helpers/ingest-spool.js';

const SALT = 'another-gateway';

interface StatusJson {
  store: { users: number; foreignPinHashes: number; pinHashScheme: string | null };
}
interface ListJson {
  users: { id: string; pinHashScheme?: string; credentials: { pin: boolean } }[];
  total: number;
}

describe('PIN hash provenance across a gateway switch', () => {
  test('foreign hashes are counted, listed, kept off the new devices, and rehashed when the PIN is offered again', { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-pin-switch-'));
    const simA = await startSimulator({ devices: [{ id: 7101 }], port: 0 });
    const simB = await startSimulator({ devices: [{ id: 7201 }], port: 0, pinHashSalt: SALT });
    const socket = join(dir, 'admin.sock');
    const spool = join(dir, 'spool');
    const httpPort = await freePort();
    const schemeA = pinHashSchemeId(standInPinHash(PIN_HASH_PROBE));
    const schemeB = pinHashSchemeId(standInPinHash(PIN_HASH_PROBE, SALT));
    assert.notEqual(schemeA, schemeB);
    let daemon: DaemonProcess | undefined;
    const start = async (sim: RunningSimulator): Promise<DaemonProcess> => {
      const config = join(dir, 'rollcall.yaml');
      await writeFile(
        config,
        [
          `dataDir: ${join(dir, 'state')}`,
          `http:\n  listen: 127.0.0.1:${httpPort}`,
          `gateway:\n  address: ${sim.address}\n  insecure: true`,
          `admin:\n  socket: ${socket}`,
          `spool:\n  dir: ${spool}\n  stableMs: 50`,
          'watchers:\n  enabled: [csv]',
          '',
        ].join('\n'),
      );
      const child = new DaemonProcess(['run', '--config', config]);
      await child.waitForLine((l) => l['msg'] === 'rollcall is running', 60_000);
      return child;
    };
    const cli = async <T>(args: string[]): Promise<T> => {
      const result = await runCli([...args, '--socket', socket, '--json']);
      assert.equal(result.code, 0, `rollcall ${args.join(' ')}: ${result.stderr}${result.stdout}`);
      return JSON.parse(result.stdout) as T;
    };
    const gauge = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('rollcall_users_pin_hash_foreign '));
      assert.ok(line, 'the gauge is served');
      return Number(line.split(' ')[1]);
    };
    const pinOn = (sim: RunningSimulator, device: number, id: string): Buffer | undefined => {
      const pin = sim.device(device).user(id)?.PIN;
      return pin === undefined ? undefined : Buffer.from(pin);
    };
    try {
      // On gateway A: two users get a PIN hashed by A, one has none.
      daemon = await start(simA);
      await cli(['users', 'set', '9001', '--name', 'Admin Pin', '--pin', '1234']);
      await cli(['users', 'set', '9002', '--name', 'Csv Pin', '--pin', '5678']);
      await cli(['users', 'set', '9003', '--name', 'No Pin']);
      await until('the users reached gateway A\'s device with A\'s hashes', () => pinOn(simA, 7101, '9002')?.equals(standInPinHash('5678')) === true, 60_000);
      assert.deepEqual(pinOn(simA, 7101, '9001'), standInPinHash('1234'));
      const onA = await cli<StatusJson>(['status']);
      assert.equal(onA.store.pinHashScheme, schemeA);
      assert.equal(onA.store.foreignPinHashes, 0);
      const shown = await cli<{ pinHashScheme?: string }>(['users', 'show', '9001']);
      assert.equal(shown.pinHashScheme, schemeA);
      daemon.child.kill('SIGTERM');
      assert.equal((await daemon.exited).code, 0);

      // The switch: the same store on gateway B.
      daemon = await start(simB);
      const warned = await daemon.waitForLine((l) => typeof l['msg'] === 'string' && (l['msg'] as string).includes('PIN hash made by another gateway'), 30_000);
      assert.equal(warned['users'], 2);
      const onB = await cli<StatusJson>(['status']);
      assert.equal(onB.store.pinHashScheme, schemeB);
      assert.equal(onB.store.foreignPinHashes, 2);
      assert.equal(await gauge(), 2);
      const listed = await cli<ListJson>(['users', 'list', '--foreign-pin-hash']);
      assert.deepEqual(listed.users.map((u) => [u.id, u.pinHashScheme]), [['9001', schemeA], ['9002', schemeA]]);
      assert.equal(listed.total, 2);
      // Sent to B's device, but without a hash B's devices would never match.
      await until('the users reached gateway B\'s device', () => ['9001', '9002', '9003'].every((id) => simB.device(7201).user(id) !== undefined), 60_000);
      assert.equal(pinOn(simB, 7201, '9001')?.length ?? 0, 0);
      assert.equal(pinOn(simB, 7201, '9002')?.length ?? 0, 0);

      // The plaintext offered again: by the admin, and in a CSV under preserve with nothing else changed.
      await cli(['users', 'set', '9001', '--pin', '1234']);
      await mkdir(join(spool, 'incoming'), { recursive: true });
      await writeFile(join(spool, 'incoming', 'again.csv'), 'user_id,name,pin\r\n9002,Csv Pin,5678\r\n9003,No Pin,\r\n');
      await until('the PINs reached B\'s device as B hashes them', () => pinOn(simB, 7201, '9001')?.equals(standInPinHash('1234', SALT)) === true && pinOn(simB, 7201, '9002')?.equals(standInPinHash('5678', SALT)) === true, 60_000);
      const after = await cli<StatusJson>(['status']);
      assert.equal(after.store.foreignPinHashes, 0);
      assert.equal(after.store.users, 3);
      assert.equal(await gauge(), 0);
      assert.deepEqual((await cli<ListJson>(['users', 'list', '--foreign-pin-hash'])).users, []);
      const rehashed = await cli<{ name: string; pinHashScheme?: string }>(['users', 'show', '9002']);
      assert.deepEqual([rehashed.name, rehashed.pinHashScheme], ['Csv Pin', schemeB]);
      daemon.child.kill('SIGTERM');
      assert.equal((await daemon.exited).code, 0);
    } finally {
      await daemon?.kill();
      await simA.stop();
      await simB.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
