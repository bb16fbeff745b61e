/**
 * One SIGTERM at one moment of start-up, on a real `rollcall run` child: the embedded
 * simulator with three devices and seed users, a LevelDB state directory, a spool with the
 * CSV and data-file watchers, an admin socket, all in a temp folder. A moment is counted
 * from the spawn, from the first answer of /healthz, or from `rollcall is running`.
 *
 * The outcome is what an operator (and systemd) sees: the exit code, whether the process
 * ended by itself before `shutdown.timeoutMs` plus a margin (else it is killed and the
 * point fails), and whether the program had to force its way out (a leak, logged as
 * ROLLCALL_ERR_SHUTDOWN_LINGER, or the deadline, ROLLCALL_ERR_SHUTDOWN_TIMEOUT).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess, embeddedDaemonConfig, freePort } from '../helpers/daemon-process.js';

export type StopAnchor = 'spawn' | 'healthz' | 'running';

export interface StopPoint {
  anchor: StopAnchor;
  /** Milliseconds after the anchor. */
  afterMs: number;
}

export interface StopOutcome {
  point: StopPoint;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The process had to be SIGKILLed: it did not end by itself in time. */
  killed: boolean;
  /** Log lines the process wrote before the signal (0: node had not reached rollcall's code). */
  linesBeforeSignal: number;
  forced: string[];
  /** ms from SIGTERM to exit (a figure, not an assertion). */
  exitMs: number;
  lastLines: string[];
}

export const SHUTDOWN_TIMEOUT_MS = 5000;
/** How long past the shutdown deadline the harness waits before it calls the process hung. */
const GRACE_MS = 7000;

async function healthzAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

export async function stopAt(point: StopPoint): Promise<StopOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-stop-'));
  const httpPort = await freePort();
  const gatewayPort = await freePort();
  const config = join(dir, 'rollcall.yaml');
  await writeFile(
    config,
    embeddedDaemonConfig({
      dataDir: join(dir, 'state'),
      httpPort,
      gatewayPort,
      devices: [1001, 1002, 1003],
      extra: [
        'admin:',
        `  socket: ${join(dir, 'rollcall.sock')}`,
        'shutdown:',
        `  timeoutMs: ${SHUTDOWN_TIMEOUT_MS}`,
        'spool:',
        `  dir: ${join(dir, 'spool')}`,
        'watchers:',
        '  enabled: [csv, datafile]',
      ],
    }),
  );
  const daemon = new DaemonProcess(['run', '--config', config]);
  let exited = false;
  void daemon.exited.then(() => (exited = true));
  try {
    if (point.anchor === 'healthz') {
      const url = `http://127.0.0.1:${httpPort}/healthz`;
      while (!exited && !(await healthzAnswers(url))) await sleep(5);
    } else if (point.anchor === 'running') {
      await daemon.waitForLine((l) => l.msg === 'rollcall is running', 60_000).catch(() => undefined);
    }
    if (point.afterMs > 0) await sleep(point.afterMs);
    const linesBeforeSignal = daemon.lines.length;
    const sentAt = Date.now();
    daemon.child.kill('SIGTERM');
    let killed = false;
    const guard = setTimeout(() => {
      killed = true;
      daemon.child.kill('SIGKILL');
    }, SHUTDOWN_TIMEOUT_MS + GRACE_MS);
    const exit = await daemon.exited;
    clearTimeout(guard);
    const forced = daemon.lines
      .map((l) => l.code)
      .filter((code): code is string => code === 'ROLLCALL_ERR_SHUTDOWN_LINGER' || code === 'ROLLCALL_ERR_SHUTDOWN_TIMEOUT');
    return {
      point,
      code: exit.code,
      signal: exit.signal,
      killed,
      linesBeforeSignal,
      forced,
      exitMs: Date.now() - sentAt,
      lastLines: daemon.lines.slice(-4).map((l) => JSON.stringify({ msg: l.msg, code: l.code, resources: l.resources })),
    };
  } finally {
    await daemon.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Whether the outcome is a clean stop: exit 0, by itself, without forcing. Before node has
 * run rollcall's first line, no handler exists and the kernel's default action for SIGTERM
 * ends the process (systemd counts that as a clean stop too): accepted only then.
 */
export function cleanStop(outcome: StopOutcome): boolean {
  if (outcome.killed || outcome.forced.length > 0) return false;
  if (outcome.code === 0) return true;
  return outcome.signal === 'SIGTERM' && outcome.linesBeforeSignal === 0 && outcome.point.anchor === 'spawn';
}

/** `count` points spread over the three anchors, from the spawn to well after ready. */
export function spreadPoints(count: number): StopPoint[] {
  const perAnchor = Math.ceil(count / 3);
  const points: StopPoint[] = [];
  for (let i = 0; i < perAnchor; i++) {
    points.push({ anchor: 'spawn', afterMs: Math.round((i * 1600) / Math.max(1, perAnchor - 1)) });
    points.push({ anchor: 'healthz', afterMs: Math.round((i * 800) / Math.max(1, perAnchor - 1)) });
    points.push({ anchor: 'running', afterMs: Math.round((i * 2000) / Math.max(1, perAnchor - 1)) });
  }
  return points.slice(0, count);
}

/** Runs the points `concurrency` at a time (the machine has 2 cores: keep it low). */
export async function runPoints(points: StopPoint[], concurrency: number): Promise<StopOutcome[]> {
  const outcomes: StopOutcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < points.length) {
        const point = points[next++]!;
        outcomes.push(await stopAt(point));
      }
    }),
  );
  return outcomes;
}

export function describeOutcome(o: StopOutcome): string {
  return `${o.point.anchor}+${o.point.afterMs}ms: code ${o.code} signal ${o.signal}${o.killed ? ' KILLED (hung)' : ''}${o.forced.length ? ` forced ${o.forced.join(',')}` : ''} in ${o.exitMs} ms; last: ${o.lastLines.join(' | ')}`;
}
