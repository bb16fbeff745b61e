/**
 * systemd's notify protocol (sd_notify(3)) for Type=notify and Type=notify-reload units:
 * READY, RELOADING, STOPPING, STATUS and watchdog heartbeats, sent as datagrams to the
 * socket named by NOTIFY_SOCKET.
 *
 * Node has no unix datagram sockets, so this uses the optional `unix-dgram` addon. Without
 * the addon or outside systemd (no NOTIFY_SOCKET) every call is a no-op that returns false.
 */
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

/** The part of the unix-dgram addon this file uses. Its callbacks run synchronously. */
export interface DatagramSocket {
  send(buffer: Buffer, offset: number, length: number, path: string, callback: (error?: Error) => void): void;
  close(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface DatagramModule {
  createSocket(type: 'unix_dgram'): DatagramSocket;
}

/** Loads unix-dgram if it is installed and its native part was built. */
export function loadUnixDgram(): DatagramModule | undefined {
  try {
    return createRequire(import.meta.url)('unix-dgram') as DatagramModule;
  } catch {
    return undefined;
  }
}

export type NotifySocketAddress =
  | { kind: 'path'; path: string }
  /** `name` starts with the NUL byte that marks Linux's abstract namespace. */
  | { kind: 'abstract'; name: string }
  | { kind: 'unsupported'; value: string };

/** Reads NOTIFY_SOCKET: an absolute path, or '@name' for an abstract socket. */
export function parseNotifySocket(value: string | undefined): NotifySocketAddress | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.startsWith('@')) return { kind: 'abstract', name: `\0${value.slice(1)}` };
  if (value.startsWith('/')) return { kind: 'path', path: value };
  // e.g. 'vsock:2:1234' (systemd 254+ in VMs)
  return { kind: 'unsupported', value };
}

export interface SystemdNotifierOptions {
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** This process's ID, checked against WATCHDOG_PID. Default: process.pid. */
  pid?: number;
  logger?: Logger;
  /** Default: loadUnixDgram. */
  loadDatagramModule?: () => DatagramModule | undefined;
}

type Target = { module: DatagramModule; path: string } | { disabled: string | undefined };

export class SystemdNotifier {
  private readonly options: SystemdNotifierOptions;
  private target: Target | undefined;
  private failing = false;
  private watchdogRunning = false;

  constructor(options: SystemdNotifierOptions = {}) {
    this.options = options;
  }

  /** Whether notifications reach systemd: NOTIFY_SOCKET is a usable path and the addon loaded. */
  get enabled(): boolean {
    return 'path' in this.resolve();
  }

  /** Why notifications are off, when NOTIFY_SOCKET asks for them; undefined when on or not asked. */
  get disabledReason(): string | undefined {
    const target = this.resolve();
    return 'disabled' in target ? target.disabled : undefined;
  }

  /** READY=1: start-up is complete (and, after reloading(), the reload is). */
  ready(status?: string): boolean {
    return this.send(status === undefined ? ['READY=1'] : ['READY=1', statusField(status)]);
  }

  /**
   * RELOADING=1 with the monotonic time, as Type=notify-reload requires; send ready() when
   * the reload is done.
   */
  reloading(): boolean {
    // process.hrtime reads CLOCK_MONOTONIC on Linux, the clock systemd compares against.
    const usec = process.hrtime.bigint() / 1000n;
    return this.send(['RELOADING=1', `MONOTONIC_USEC=${usec}`]);
  }

  /** STOPPING=1: shutdown has begun. */
  stopping(): boolean {
    return this.send(['STOPPING=1']);
  }

  /** STATUS=…: one line shown by `systemctl status`. */
  status(text: string): boolean {
    return this.send([statusField(text)]);
  }

  /**
   * EXTEND_TIMEOUT_USEC: asks systemd for `ms` more before its start (or stop) timeout
   * fires, for a start-up that waits on a slow gateway or a large store.
   */
  extendTimeout(ms: number): boolean {
    return this.send([`EXTEND_TIMEOUT_USEC=${Math.max(0, Math.round(ms * 1000))}`]);
  }

  /** WATCHDOG=1: one heartbeat. */
  watchdog(): boolean {
    return this.send(['WATCHDOG=1']);
  }

  /**
   * The heartbeat period systemd asks for (half of WATCHDOG_USEC, in ms), or undefined when
   * the unit has no watchdog or the watchdog is meant for another process (WATCHDOG_PID).
   */
  watchdogIntervalMs(): number | undefined {
    const env = this.env();
    const usecText = env.WATCHDOG_USEC;
    if (usecText === undefined || !/^\d+$/.test(usecText)) return undefined;
    const usec = Number(usecText);
    if (usec <= 0) return undefined;
    const pidText = env.WATCHDOG_PID;
    if (pidText !== undefined && pidText !== '' && Number(pidText) !== (this.options.pid ?? process.pid)) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }

  /**
   * Sends a heartbeat now and then every watchdogIntervalMs() until `signal` aborts. The
   * timer does not keep the process alive. Returns whether heartbeats were started (or
   * were already running).
   */
  startWatchdog(signal: AbortSignal): boolean {
    if (this.watchdogRunning) return true;
    if (signal.aborted || !this.enabled) return false;
    const interval = this.watchdogIntervalMs();
    if (interval === undefined) return false;
    this.watchdogRunning = true;
    this.watchdog();
    const timer = setInterval(() => this.watchdog(), interval);
    timer.unref();
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(timer);
        this.watchdogRunning = false;
      },
      { once: true },
    );
    this.options.logger?.debug({ intervalMs: interval }, 'systemd watchdog heartbeats started');
    return true;
  }

  /** Whether startWatchdog's heartbeats are running. */
  get watchdogActive(): boolean {
    return this.watchdogRunning;
  }

  private env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  private resolve(): Target {
    if (this.target !== undefined) return this.target;
    this.target = this.findTarget();
    if ('disabled' in this.target && this.target.disabled !== undefined) {
      this.options.logger?.warn({ reason: this.target.disabled }, 'systemd notifications are off');
    }
    return this.target;
  }

  private findTarget(): Target {
    const address = parseNotifySocket(this.env().NOTIFY_SOCKET);
    if (address === undefined) return { disabled: undefined };
    if (address.kind === 'abstract') {
      // unix-dgram copies the address with strncpy, which stops at the leading NUL, so an
      // abstract name can never be reached through it.
      return { disabled: `NOTIFY_SOCKET names an abstract socket, which the unix-dgram addon cannot address` };
    }
    if (address.kind === 'unsupported') {
      return { disabled: `NOTIFY_SOCKET '${address.value}' is neither an absolute path nor an abstract name` };
    }
    const module = (this.options.loadDatagramModule ?? loadUnixDgram)();
    if (module === undefined) return { disabled: 'the optional unix-dgram addon is not installed or not built' };
    return { module, path: address.path };
  }

  private send(fields: string[]): boolean {
    const target = this.resolve();
    if (!('path' in target)) return false;
    const message = Buffer.from(fields.join('\n'), 'utf8');
    let sent = false;
    let failure: Error | undefined;
    try {
      // One socket per message, as libsystemd's sd_notify does: nothing stays open between
      // heartbeats, and a socket re-created by systemd is picked up.
      const socket = target.module.createSocket('unix_dgram');
      socket.on('error', (error) => {
        failure = error;
      });
      try {
        socket.send(message, 0, message.length, target.path, (error) => {
          if (error === undefined || error === null) sent = true;
          else failure = error;
        });
      } finally {
        socket.close();
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    this.report(fields[0] ?? '', sent, failure);
    return sent;
  }

  private report(field: string, sent: boolean, failure: Error | undefined): void {
    if (sent) {
      this.failing = false;
      return;
    }
    const logger = this.options.logger;
    if (logger === undefined) return;
    const entry = { err: failure, notification: field.split('=', 1)[0] };
    // The first failure is news; repeating it every heartbeat is not.
    if (this.failing) logger.debug(entry, 'systemd notification not delivered');
    else logger.warn(entry, 'systemd notification not delivered');
    this.failing = true;
  }
}

function statusField(text: string): string {
  // A newline would start a new assignment (a status text could otherwise say READY=1).
  return `STATUS=${text.replace(/[\r\n]+/g, ' ')}`;
}
