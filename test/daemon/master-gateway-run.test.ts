/**
 * `rollcall run` against a G-SDK master gateway stops at start with
 * ROLLCALL_ERR_GATEWAY_UNSUPPORTED and exit 78 (EX_CONFIG), saying that only the device
 * gateway is supported: the daemon process as systemd runs it, not the exit-code mapping
 * alone, against a stand-in for a master gateway (helpers/master-gateway.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DaemonProcess, freePort } from '../helpers/daemon-process.js';
import { bareGrpcServer, type BareGateway } from '../helpers/master-gateway.js';

/** A config whose gateway is `address` (plaintext: the stand-in has no TLS). */
async function configFor(dir: string, address: string): Promise<string> {
  const path = join(dir, 'rollcall.yaml');
  await writeFile(path, [`dataDir: ${join(dir, 'state')}`, 'http:', `  listen: 127.0.0.1:${await freePort()}`, 'gateway:', `  address: ${address}`, '  insecure: true', ''].join('\n'));
  return path;
}

/** Waits for the daemon's exit (killed after `ms`) and checks it is the refusal: 78, the code, the reason. */
async function assertRefused(daemon: DaemonProcess, ms: number): Promise<string> {
  const timer = setTimeout(() => daemon.child.kill('SIGKILL'), ms);
  const exit = await daemon.exited;
  clearTimeout(timer);
  const everything = JSON.stringify(daemon.lines) + daemon.stderr;
  assert.deepEqual(exit, { code: 78, signal: null }, everything.slice(-3000));
  assert.match(everything, /ROLLCALL_ERR_GATEWAY_UNSUPPORTED/);
  assert.match(everything, /only the device gateway is supported/);
  return everything;
}

test('rollcall run against a master gateway exits 78 with ROLLCALL_ERR_GATEWAY_UNSUPPORTED, naming the address', async () => {
  const master = await bareGrpcServer({ master: true });
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-master-run-'));
  const daemon = new DaemonProcess(['run', '--config', await configFor(dir, master.address)]);
  try {
    const everything = await assertRefused(daemon, 60_000);
    assert.ok(everything.includes(master.address), 'the error names the address');
  } finally {
    await daemon.kill();
    await master.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a master gateway unreachable at start: rollcall runs, and stops with exit 78 once the address answers as one', async () => {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-master-late-'));
  const daemon = new DaemonProcess(['run', '--config', await configFor(dir, `127.0.0.1:${port}`)]);
  let master: BareGateway | undefined;
  try {
    await daemon.waitForLine((line) => line['msg'] === 'rollcall is running', 60_000);
    master = await bareGrpcServer({ master: true, port });
    await assertRefused(daemon, 90_000);
  } finally {
    await daemon.kill();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
