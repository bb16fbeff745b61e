/**
 * The daemon as a user runs it (`rollcall run --config FILE`, a child process) for the
 * benchmarks that time what the user sees: a config file in a temp folder, its HTTP
 * /metrics read from outside, its peak RSS read from /proc before it is stopped, and client
 * commands (`rollcall import FILE`) run as processes of their own against its admin socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cliPath } from './paths.js';
import { readPeakRss } from './process-stats.js';
import { byLabel, parsePrometheusText, sumOf, type Sample } from './prometheus-text.js';

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface DaemonRunOptions {
  /** A temp folder of the run's own: config, state, spool and socket go there. */
  dir: string;
  /** `host:port` of a gateway (a simulator process), or `embedded` with `embeddedDevices`. */
  gateway: string;
  /** The embedded simulator's devices, as config.example.yaml lists them. */
  embeddedDevices?: { id: number; type: string }[];
  /** Extra node flags for the daemon (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** The config's `storage` section; default none (the default LevelDB store in the state folder). */
  storage?: Record<string, unknown>;
}

export interface DaemonRun {
  readonly pid: number;
  readonly socket: string;
  readonly listen: string;
  scrape(): Promise<Sample[]>;
  /** Peak RSS (VmHWM) of the daemon so far, bytes. */
  peakRss(): number;
  /** The last lines the daemon wrote, for an error message. */
  tail(): string;
  gone(): boolean;
  /** SIGTERM and wait; returns the exit code. */
  stop(): Promise<number | null>;
}

export async function startDaemonRun(options: DaemonRunOptions): Promise<DaemonRun> {
  const listen = `127.0.0.1:${await freeLoopbackPort()}`;
  const socket = join(options.dir, 'rollcall.sock');
  const configFile = join(options.dir, 'rollcall.yaml');
  const gateway =
    options.gateway === 'embedded'
      ? { address: 'embedded', embedded: { port: await freeLoopbackPort(), devices: options.embeddedDevices ?? [] } }
      : { address: options.gateway, insecure: true };
  await writeFile(
    configFile,
    stringify({
      dataDir: join(options.dir, 'state'),
      log: { level: process.env['ROLLCALL_BENCH_LOG'] ?? 'warn' },
      admin: { socket },
      http: { listen },
      gateway,
      spool: { dir: join(options.dir, 'spool') },
      ...(options.storage ? { storage: options.storage } : {}),
      seed: { users: [] },
    }),
  );
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeFlags ?? []), cliPath, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (d: Buffer): void => {
    lines.push(...d.toString().split('\n').filter((l) => l.trim() !== ''));
    if (lines.length > 20) lines.splice(0, lines.length - 20);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const pid = child.pid!;
  let stopping: Promise<number | null> | undefined;
  return {
    pid,
    socket,
    listen,
    async scrape() {
      const response = await fetch(`http://${listen}/metrics`);
      if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
      return parsePrometheusText(await response.text());
    },
    peakRss: () => readPeakRss(pid),
    tail: () => lines.join('\n'),
    gone,
    stop() {
      stopping ??= (async () => {
        if (gone()) return child.exitCode;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        const [code] = (await exited) as [number | null];
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}

/** Whether every one of `devices` devices is in sync with nothing pending and the store holds `users` users. */
export function allInSync(samples: readonly Sample[], devices: number, users: number): boolean {
  const inSync = byLabel(samples, 'rollcall_device_in_sync', 'device');
  const pending = byLabel(samples, 'rollcall_device_pending_changes', 'device');
  return (
    inSync.size === devices &&
    [...inSync.values()].every((v) => v === 1) &&
    pending.size === devices &&
    [...pending.values()].every((v) => v === 0) &&
    sumOf(samples, 'rollcall_users') === users
  );
}

/** Runs `rollcall ARGS` to its end; resolves with its exit code, stdout and stderr. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
