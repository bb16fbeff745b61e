/**
 * The whole program as an operator runs it: `rollcall run` as a child process with a
 * real LevelDB, the embedded simulator over real gRPC, real signals and HTTP.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { DaemonProcess, freePort, runCli, repoRoot } from '../helpers/daemon-process.js';

const byMsg = (pattern: RegExp) => (line: Record<string, unknown>) => typeof line.msg === 'string' && pattern.test(line.msg);

async function get(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

async function waitReady(base: string, daemon: DaemonProcess): Promise<void> {
  await daemon.waitForLine(byMsg(/rollcall is running/), 60_000);
  assert.equal((await get(`${base}/readyz`)).status, 200);
}

describe('rollcall run', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollcall-life-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function config(name: string, port: number, extra = ''): Promise<string> {
    const path = join(dir, `${name}.yaml`);
    await writeFile(path, `dataDir: ${join(dir, name)}\nhttp:\n  listen: 127.0.0.1:${port}\nlog:\n  level: info\n${extra}`);
    return path;
  }

  test('serves metrics and health, reloads on SIGHUP and stops on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const path = await config('basic', port);
    const daemon = new DaemonProcess(['run', '--config', path]);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitReady(base, daemon);
      const metrics = await get(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.type ?? '', /^text\/plain/);
      assert.match(metrics.text, /^# HELP process_cpu_user_seconds_total/m);
      assert.match(metrics.text, /rollcall_plugin_up\{kind="storage",name="level"\} 1/);
      assert.match(metrics.text, /rollcall_plugin_up\{kind="transport",name="gsdk"\} 1/);
      assert.equal((await get(`${base}/healthz`)).status, 200);
      const ready = JSON.parse((await get(`${base}/readyz`)).text) as { checks: Record<string, { ok: boolean }> };
      assert.equal(ready.checks['storage/level']?.ok, true);

      // Reload: one live key and one that needs a restart.
      await writeFile(path, `dataDir: ${join(dir, 'basic')}\nhttp:\n  listen: 127.0.0.1:${port + 1}\nlog:\n  level: debug\n`);
      daemon.child.kill('SIGHUP');
      const reloaded = await daemon.waitForLine(byMsg(/config reloaded/));
      assert.deepEqual(reloaded.applied, ['log.level']);
      assert.deepEqual(reloaded.needRestart, ['http.listen']);
      assert.ok(daemon.lines.some((l) => l.key === 'http.listen' && /needs a restart/.test(String(l.msg))));
      // The old address still serves: a restart-only key was not applied.
      assert.equal((await get(`${base}/healthz`)).status, 200);

      // An invalid config on reload changes nothing.
      await writeFile(path, `log:\n  level: loud\n`);
      daemon.child.kill('SIGHUP');
      await daemon.waitForLine(byMsg(/reload refused/));
      assert.equal((await get(`${base}/healthz`)).status, 200);

      daemon.child.kill('SIGTERM');
      await daemon.waitForLine(byMsg(/SIGTERM: stopping/));
      // Signals sent back to back can merge into one; send the second once the first is taken.
      const secondSent = daemon.child.exitCode === null && daemon.child.kill('SIGTERM');
      const exit = await daemon.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      if (secondSent) assert.ok(daemon.lines.some((l) => /already stopping/.test(String(l.msg))), 'the second SIGTERM is acknowledged and ignored');
      assert.ok(daemon.lines.some((l) => l.msg === 'stopped'));
    } finally {
      await daemon.kill();
    }
  });

  test('tells systemd READY, STATUS and STOPPING through NOTIFY_SOCKET', async (t) => {
    const require = createRequire(import.meta.url);
    let unixDgram: { createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): { bind(path: string): void; close(): void } };
    try {
      unixDgram = require('unix-dgram');
    } catch {
      t.skip('unix-dgram is not built on this machine');
      return;
    }
    const socketPath = join(dir, 'notify.sock');
    const received: string[] = [];
    const socket = unixDgram.createSocket('unix_dgram', (msg) => received.push(msg.toString()));
    socket.bind(socketPath);
    const port = await freePort();
    const daemon = new DaemonProcess(['run', '--config', await config('notify', port)], { env: { NOTIFY_SOCKET: socketPath } });
    try {
      await waitReady(`http://127.0.0.1:${port}`, daemon);
      daemon.child.kill('SIGTERM');
      assert.equal((await daemon.exited).code, 0);
      const text = received.join('\n');
      assert.match(text, /READY=1/);
      assert.match(text, /STATUS=/);
      assert.match(text, /STOPPING=1/);
      assert.ok(text.indexOf('READY=1') < text.indexOf('STOPPING=1'));
    } finally {
      socket.close();
      await daemon.kill();
    }
  });

  test('a SIGTERM during start-up is not lost', async () => {
    const port = await freePort();
    const daemon = new DaemonProcess(['run', '--config', await config('early', port)]);
    try {
      // As soon as the process logs anything, it is starting; stop it right there.
      await daemon.waitForLine(() => true);
      daemon.child.kill('SIGTERM');
      const exit = await daemon.exited;
      assert.equal(exit.code, 0);
      assert.ok(daemon.lines.some((l) => l.msg === 'stopped'));
    } finally {
      await daemon.kill();
    }
  });

  test('an unusable config exits 78 before anything starts', async () => {
    const path = join(dir, 'broken.yaml');
    await writeFile(path, 'log:\n  level: loud\n');
    const result = await runCli(['run', '--config', path]);
    assert.equal(result.code, 78);
    assert.match(result.stderr, /log\.level/);
  });
});

describe('rollcall check-config', () => {
  test('the example config is valid', async () => {
    const result = await runCli(['check-config', '--config', join(repoRoot, 'config.example.yaml')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /valid/);
  });

  test('three different mistakes exit 78 and name all three paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-check-'));
    try {
      const path = join(dir, 'three.yaml');
      await writeFile(path, 'http:\n  listen: not-an-address\nshutdown:\n  timeoutMs: -5\nstorage:\n  backnd: level\n');
      const human = await runCli(['check-config', '--config', path]);
      assert.equal(human.code, 78);
      for (const p of ['http.listen', 'shutdown.timeoutMs', 'storage.backnd']) assert.ok(human.stderr.includes(`${p}:`), `${p} in ${human.stderr}`);
      const json = await runCli(['check-config', '--config', path, '--json']);
      assert.equal(json.code, 78);
      const parsed = JSON.parse(json.stdout) as { valid: boolean; issues: { path: string }[] };
      assert.equal(parsed.valid, false);
      assert.deepEqual(parsed.issues.map((i) => i.path).sort(), ['http.listen', 'shutdown.timeoutMs', 'storage.backnd']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a missing file exits 78', async () => {
    const result = await runCli(['check-config', '--config', '/nonexistent/rollcall.yaml']);
    assert.equal(result.code, 78);
    assert.match(result.stderr, /not found/);
  });
});
