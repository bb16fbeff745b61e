/**
 * `rollcall run` against a G-SDK master gateway stops at start with
 * ROLLCALL_ERR_GATEWAY_UNSUPPORTED and exit 78 (EX_CONFIG), saying that only the device
 * gateway is supported: the daemon process as systemd runs it, not the exit-code mapping
 * alone. No master gateway simulator exists: a bare grpc-js server on loopback that serves
 * only ConnectMaster.GetDeviceList (wanting a login) stands in for one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { DaemonProcess, freePort } from '../helpers/daemon-process.js';

async function masterStandIn(port = 0): Promise<{ address: string; stop: () => Promise<void> }> {
  const server = new grpc.Server();
  const raw = (b: Buffer): Buffer => b;
  server.register(
    '/gsdk.connect_master.ConnectMaster/GetDeviceList',
    (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback({ code: grpc.status.UNAUTHENTICATED, details: 'no JWT' }),
    raw,
    raw,
    'unary',
  );
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { address: `127.0.0.1:${bound}`, stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

test('rollcall run against a master gateway exits 78 with ROLLCALL_ERR_GATEWAY_UNSUPPORTED, naming the address', async () => {
  const master = await masterStandIn();
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-master-run-'));
  const configPath = join(dir, 'rollcall.yaml');
  await writeFile(
    configPath,
    [`dataDir: ${join(dir, 'state')}`, 'http:', `  listen: 127.0.0.1:${await freePort()}`, 'gateway:', `  address: ${master.address}`, '  insecure: true', ''].join('\n'),
  );
  const daemon = new DaemonProcess(['run', '--config', configPath]);
  try {
    const timer = setTimeout(() => daemon.child.kill('SIGKILL'), 60_000);
    const exit = await daemon.exited;
    clearTimeout(timer);
    const everything = JSON.stringify(daemon.lines) + daemon.stderr;
    assert.deepEqual(exit, { code: 78, signal: null }, everything.slice(-3000));
    assert.match(everything, /ROLLCALL_ERR_GATEWAY_UNSUPPORTED/);
    assert.match(everything, /only the device gateway is supported/);
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
  const configPath = join(dir, 'rollcall.yaml');
  await writeFile(
    configPath,
    [`dataDir: ${join(dir, 'state')}`, 'http:', `  listen: 127.0.0.1:${await freePort()}`, 'gateway:', `  address: 127.0.0.1:${port}`, '  insecure: true', ''].join('\n'),
  );
  const daemon = new DaemonProcess(['run', '--config', configPath]);
  let master: { address: string; stop: () => Promise<void> } | undefined;
  try {
    await daemon.waitForLine((line) => line['msg'] === 'rollcall is running', 60_000);
    master = await masterStandIn(port);
    const timer = setTimeout(() => daemon.child.kill('SIGKILL'), 90_000);
    const exit = await daemon.exited;
    clearTimeout(timer);
    const everything = JSON.stringify(daemon.lines) + daemon.stderr;
    assert.deepEqual(exit, { code: 78, signal: null }, everything.slice(-3000));
    assert.match(everything, /ROLLCALL_ERR_GATEWAY_UNSUPPORTED/);
    assert.match(everything, /only the device gateway is supported/);
  } finally {
    await daemon.kill();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
