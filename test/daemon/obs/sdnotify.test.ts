import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { DestinationStream } from 'pino';
import { SystemdNotifier, loadUnixDgram, parseNotifySocket } from '../../../daemon/obs/sdnotify.js';
import { createLogger } from '../../../daemon/obs/logger.js';

/** The receiving end systemd would hold: a real unix datagram socket bound in a temp dir. */
interface Receiver {
  path: string;
  /** The next datagram, as text. */
  next(): Promise<string>;
  close(): void;
}

interface BindableSocket {
  bind(path: string): void;
  close(): void;
  on(event: 'message', listener: (buffer: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

function bindReceiver(path: string): Receiver {
  const dgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): BindableSocket };
  const socket = dgram.createSocket('unix_dgram');
  const queued: string[] = [];
  const waiting: ((message: string) => void)[] = [];
  socket.on('message', (buffer) => {
    const message = buffer.toString('utf8');
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter(message);
    else queued.push(message);
  });
  socket.on('error', (error) => {
    throw error;
  });
  socket.bind(path);
  return {
    path,
    next: () => {
      const message = queued.shift();
      return message !== undefined ? Promise.resolve(message) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () => socket.close(),
  };
}

class Capture implements DestinationStream {
  readonly lines: Record<string, unknown>[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }
}

describe('parseNotifySocket', () => {
  const cases: [string | undefined, ReturnType<typeof parseNotifySocket>][] = [
    [undefined, undefined],
    ['', undefined],
    ['/run/systemd/notify', { kind: 'path', path: '/run/systemd/notify' }],
    ['@/org/freedesktop/systemd1/notify/1', { kind: 'abstract', name: '\0/org/freedesktop/systemd1/notify/1' }],
    ['vsock:2:1234', { kind: 'unsupported', value: 'vsock:2:1234' }],
    ['relative/notify', { kind: 'unsupported', value: 'relative/notify' }],
  ];
  for (const [input, expected] of cases) {
    test(`reads ${JSON.stringify(input)}`, () => assert.deepEqual(parseNotifySocket(input), expected));
  }
});

describe('SystemdNotifier with a real notify socket', { skip: loadUnixDgram() === undefined ? 'unix-dgram is not built' : false }, () => {
  let dir: string;
  let receiver: Receiver;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollcall-sdnotify-'));
    receiver = bindReceiver(join(dir, 'notify.sock'));
  });
  after(async () => {
    receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('sends READY, STATUS, STOPPING and WATCHDOG datagrams', async () => {
    const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: receiver.path } });
    assert.equal(notifier.enabled, true);
    assert.equal(notifier.disabledReason, undefined);

    assert.equal(notifier.ready(), true);
    assert.equal(await receiver.next(), 'READY=1');

    assert.equal(notifier.ready('serving 3 devices'), true);
    assert.equal(await receiver.next(), 'READY=1\nSTATUS=serving 3 devices');

    assert.equal(notifier.status('syncing 12 changes'), true);
    assert.equal(await receiver.next(), 'STATUS=syncing 12 changes');

    assert.equal(notifier.watchdog(), true);
    assert.equal(await receiver.next(), 'WATCHDOG=1');

    assert.equal(notifier.extendTimeout(90_000), true);
    assert.equal(await receiver.next(), 'EXTEND_TIMEOUT_USEC=90000000');

    assert.equal(notifier.stopping(), true);
    assert.equal(await receiver.next(), 'STOPPING=1');
  });

  test('a status with line breaks stays one STATUS assignment', async () => {
    const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: receiver.path } });
    notifier.status('bad\nREADY=1\r\nline');
    assert.equal(await receiver.next(), 'STATUS=bad READY=1 line');
  });

  test('RELOADING carries the monotonic clock in microseconds', async () => {
    const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: receiver.path } });
    const before = process.hrtime.bigint() / 1000n;
    assert.equal(notifier.reloading(), true);
    const afterCall = process.hrtime.bigint() / 1000n;
    const [reloading, monotonic] = (await receiver.next()).split('\n');
    assert.equal(reloading, 'RELOADING=1');
    const match = /^MONOTONIC_USEC=(\d+)$/.exec(monotonic ?? '');
    assert.ok(match, `got ${monotonic}`);
    const usec = BigInt(match[1] ?? '0');
    assert.ok(usec >= before && usec <= afterCall, 'the value is read from the same monotonic clock');
  });

  test('the watchdog beats at half of WATCHDOG_USEC until the signal aborts', async () => {
    const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: '20000', WATCHDOG_PID: String(process.pid) } });
    assert.equal(notifier.watchdogIntervalMs(), 10);
    const controller = new AbortController();
    assert.equal(notifier.startWatchdog(controller.signal), true);
    assert.equal(notifier.startWatchdog(controller.signal), true, 'a second start joins the running heartbeat');
    // The first beat is sent at once, the others by the timer.
    for (let beat = 0; beat < 3; beat++) assert.equal(await receiver.next(), 'WATCHDOG=1');
    controller.abort();
    assert.equal(notifier.watchdogActive, false);
    // Datagrams arrive in order: once this marker is read, no beat sent before the abort is left.
    notifier.status('after abort');
    let message = await receiver.next();
    while (message === 'WATCHDOG=1') message = await receiver.next();
    assert.equal(message, 'STATUS=after abort');
  });

  test('no watchdog without WATCHDOG_USEC, or when WATCHDOG_PID names another process', () => {
    const cases: Record<string, string | undefined>[] = [
      {},
      { WATCHDOG_USEC: '0' },
      { WATCHDOG_USEC: 'soon' },
      { WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid + 1) },
    ];
    for (const extra of cases) {
      const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: receiver.path, ...extra } });
      assert.equal(notifier.watchdogIntervalMs(), undefined, JSON.stringify(extra));
      assert.equal(notifier.startWatchdog(new AbortController().signal), false, JSON.stringify(extra));
    }
    const own = new SystemdNotifier({ env: { NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: '30000000' } });
    assert.equal(own.watchdogIntervalMs(), 15000, 'WATCHDOG_PID absent means this process');
  });

  test('an aborted signal starts no watchdog', () => {
    const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: '20000' } });
    const controller = new AbortController();
    controller.abort();
    assert.equal(notifier.startWatchdog(controller.signal), false);
    assert.equal(notifier.watchdogActive, false);
  });

  test('a socket nobody listens on: calls return false and the failure is logged once as a warning', () => {
    const log = new Capture();
    const notifier = new SystemdNotifier({
      env: { NOTIFY_SOCKET: join(dir, 'nobody.sock') },
      logger: createLogger({ level: 'debug', destination: log }),
    });
    assert.equal(notifier.enabled, true);
    assert.equal(notifier.ready(), false);
    assert.equal(notifier.watchdog(), false);
    const failures = log.lines.filter((line) => line.msg === 'systemd notification not delivered');
    assert.deepEqual(
      failures.map((line) => [line.level, line.notification]),
      [
        ['warn', 'READY'],
        ['debug', 'WATCHDOG'],
      ],
    );
  });
});

describe('SystemdNotifier when notifications are off', () => {
  const calls = (notifier: SystemdNotifier): boolean[] => [
    notifier.ready('x'),
    notifier.reloading(),
    notifier.stopping(),
    notifier.status('x'),
    notifier.watchdog(),
    notifier.extendTimeout(1000),
    notifier.startWatchdog(new AbortController().signal),
  ];

  test('outside systemd (no NOTIFY_SOCKET) every call is a quiet no-op', () => {
    const log = new Capture();
    const notifier = new SystemdNotifier({ env: { WATCHDOG_USEC: '20000' }, logger: createLogger({ level: 'debug', destination: log }) });
    assert.equal(notifier.enabled, false);
    assert.equal(notifier.disabledReason, undefined);
    assert.deepEqual(calls(notifier), [false, false, false, false, false, false, false]);
    assert.equal(log.lines.length, 0);
  });

  test('without the unix-dgram addon every call is a no-op and the reason is logged', () => {
    const log = new Capture();
    const notifier = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/systemd/notify' },
      loadDatagramModule: () => undefined,
      logger: createLogger({ level: 'debug', destination: log }),
    });
    assert.equal(notifier.enabled, false);
    assert.match(String(notifier.disabledReason), /unix-dgram/);
    assert.deepEqual(calls(notifier), [false, false, false, false, false, false, false]);
    assert.equal(log.lines.filter((line) => line.msg === 'systemd notifications are off').length, 1);
  });

  test('an abstract NOTIFY_SOCKET is refused with a reason, since the addon cannot address it', () => {
    const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: '@rollcall-test' } });
    assert.equal(notifier.enabled, false);
    assert.match(String(notifier.disabledReason), /abstract/);
    assert.deepEqual(calls(notifier), [false, false, false, false, false, false, false]);
  });
});
