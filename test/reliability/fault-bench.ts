/**
 * The sync engine with real parts (as test/helpers/sync-harness.ts) plus what the device-fault
 * suites need beside it: the engine's log lines kept (backoff and quarantine are read from
 * them), and per-device sync latency measured from the engine's own cursors.
 */
import { pino } from 'pino';
import type { SyncConfig } from '../../daemon/config/schema.js';
import type { User } from '../../daemon/model/user.js';
import type { DeviceSpec } from '../../simulator/index.js';
import { SyncHarness } from '../helpers/sync-harness.js';

export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * The sync harness in all-devices mode with its log lines kept (backoff and quarantine are
 * read from them) and per-device latency measured from the engine's own cursors.
 */
export class FaultBench extends SyncHarness {
  logs: LogLine[] = [];

  static async create(devices: DeviceSpec[], sync: Partial<SyncConfig> = {}, gateway: Record<string, unknown> = {}): Promise<FaultBench> {
    const logs: LogLine[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
    const b = await FaultBench.start({ devices, sync, gateway, logger, mode: 'all-devices' });
    b.logs = logs;
    return b;
  }

  cursor(deviceId: number): number {
    return this.engine.status().find((d) => d.id === deviceId)?.cursor ?? -1;
  }

  /**
   * Commits `users` and returns, per device of `watch`, the milliseconds until its cursor
   * reached the commit (the device acknowledged it). Polls every millisecond, so the figure
   * is the engine's latency plus at most a poll.
   */
  async timedCommit(users: User[], watch: readonly number[], timeoutMs = 60_000): Promise<Map<number, number>> {
    const started = performance.now();
    const seq = await this.put(...users);
    const out = new Map<number, number>();
    const deadline = Date.now() + timeoutMs;
    while (out.size < watch.length) {
      const status = this.engine.status();
      for (const d of status) if (watch.includes(d.id) && !out.has(d.id) && d.cursor >= seq) out.set(d.id, performance.now() - started);
      if (out.size === watch.length) break;
      if (Date.now() > deadline) throw new Error(`devices ${watch.filter((id) => !out.has(id)).join(',')} did not reach seq ${seq}: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    return out;
  }

  /** Whether the device holds exactly the database's users, content included. */
  async deviceEqualsStore(deviceId: number): Promise<boolean> {
    const ids: string[] = [];
    for await (const user of this.store.scanUsers()) ids.push(user.id);
    return this.deviceEquals(deviceId, ids);
  }

  override until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    return super.until(what, check, timeoutMs);
  }
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Active handles and requests by type (process.getActiveResourcesInfo). */
export function resources(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
}

/** Types whose count grew by more than `slack` since `before`. */
export function leaked(before: Map<string, number>, after: Map<string, number>, slack = 2): string[] {
  return [...after].filter(([type, n]) => n - (before.get(type) ?? 0) > slack).map(([type, n]) => `${type}: ${before.get(type) ?? 0} → ${n}`);
}
