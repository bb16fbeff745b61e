/**
 * The watchdog half of Type=notify, as systemd drives it: the real daemon in a child
 * process with NOTIFY_SOCKET naming a unix datagram socket this test binds, and
 * WATCHDOG_USEC (and WATCHDOG_PID) set the way systemd sets them for WatchdogSec=.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, freePort } from '../helpers/daemon-process.js';

interface DatagramServer {
  bind(path: string): void;
  close(): void;
}
type UnixDgram = { createSocket(type: 'unix_dgram', listener: (message: Buffer) => void): DatagramServer };

function loadUnixDgram(): UnixDgram | undefined {
  try {
    return createRequire(import.meta.url)('unix-dgram') as UnixDgram;
  } catch {
    return undefined;
  }
}

/** The notify socket systemd would listen on: every datagram, in arrival order. */
class NotifySocket {
  readonly messages: string[] = [];
  readonly #server: DatagramServer;
  #waiters: { count: (messages: string[]) => boolean; resolve: () => void }[] = [];

  constructor(module: UnixDgram, path: string) {
    this.#server = module.createSocket('unix_dgram', (message) => {
      this.messages.push(message.toString('utf8'));
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.count(this.messages)) return true;
        w.resolve();
        return false;
      });
    });
    this.#server.bind(path);
  }

  /** Resolves once `done(messages)` holds; rejects when the daemon exits first. */
  until(done: (messages: string[]) => boolean, daemon: DaemonProcess): Promise<void> {
    if (done(this.messages)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ count: done, resolve });
      void daemon.exited.then(() => reject(new Error(`the daemon exited; datagrams so far: ${JSON.stringify(this.messages)}; stderr: ${daemon.stderr}`)));
    });
  }

  close(): void {
    this.#server.close();
  }
}

const heartbeats = (messages: string[]): number => messages.filter((m) => m.split('\n').includes('WATCHDOG=1')).length;
const indexOfField = (messages: string[], field: string): number => messages.findIndex((m) => m.split('\n').includes(field));

describe('systemd watchdog', () => {
  let dir: string;
  let unixDgram: UnixDgram | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollcall-watchdog-'));
    unixDgram = loadUnixDgram();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function start(name: string, env: NodeJS.ProcessEnv): Promise<{ daemon: DaemonProcess; socket: NotifySocket }> {
    const port = await freePort();
    const config = join(dir, `${name}.yaml`);
    await writeFile(config, `dataDir: ${join(dir, name)}\nhttp:\n  listen: 127.0.0.1:${port}\nlog:\n  level: debug\n`);
    const socket = new NotifySocket(unixDgram!, join(dir, `${name}.sock`));
    const daemon = new DaemonProcess(['run', '--config', config], { env: { NOTIFY_SOCKET: join(dir, `${name}.sock`), ...env } });
    return { daemon, socket };
  }

  test('WATCHDOG_USEC=200000: repeated heartbeats every 100 ms from READY=1 on, none after STOPPING=1', { timeout: 90_000 }, async (t) => {
    if (unixDgram === undefined) return t.skip('SKIPPED: the unix-dgram addon is not built here, so the daemon cannot notify systemd');
    const { daemon, socket } = await start('beats', { WATCHDOG_USEC: '200000' });
    try {
      // Several heartbeats: the timer repeats, not just the one sent with READY.
      await socket.until((m) => heartbeats(m) >= 5, daemon);
      const ready = indexOfField(socket.messages, 'READY=1');
      assert.ok(ready >= 0, 'READY=1 was sent');
      assert.ok(indexOfField(socket.messages, 'WATCHDOG=1') > ready, 'heartbeats start once the daemon is ready');
      // Half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises.
      const started = await daemon.waitForLine((l) => l.msg === 'systemd watchdog heartbeats started');
      assert.equal(started.intervalMs, 100);

      daemon.child.kill('SIGTERM');
      assert.equal((await daemon.exited).code, 0);
      const stopping = indexOfField(socket.messages, 'STOPPING=1');
      assert.ok(stopping > ready, 'STOPPING=1 was sent');
      assert.equal(heartbeats(socket.messages.slice(stopping)), 0, 'no heartbeat once stopping: systemd then uses TimeoutStopSec');
    } finally {
      socket.close();
      await daemon.kill();
    }
  });

  test('a watchdog meant for another process (WATCHDOG_PID) gets no heartbeats', { timeout: 90_000 }, async (t) => {
    if (unixDgram === undefined) return t.skip('SKIPPED: the unix-dgram addon is not built here, so the daemon cannot notify systemd');
    // PID 1 is never the daemon: systemd sets WATCHDOG_PID to the main process only.
    const { daemon, socket } = await start('other', { WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' });
    try {
      await socket.until((m) => indexOfField(m, 'READY=1') >= 0, daemon);
      daemon.child.kill('SIGTERM');
      assert.equal((await daemon.exited).code, 0);
      assert.ok(indexOfField(socket.messages, 'STOPPING=1') >= 0);
      // Heartbeats would have started right with READY=1, before the stop could begin.
      assert.equal(heartbeats(socket.messages), 0, JSON.stringify(socket.messages));
    } finally {
      socket.close();
      await daemon.kill();
    }
  });
});
