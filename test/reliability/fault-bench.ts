/**
 * The sync engine with real parts (as test/helpers/sync-harness.ts) against the gateway
 * simulator in its own process, whose devices' faults are set through its control service,
 * plus what the device-fault suites need beside it: the engine's log lines kept (backoff and
 * quarantine are read from them), and per-device sync latency measured from the engine's own
 * cursors.
 */
import { pino } from 'pino';
import type { SyncConfig } from '../../daemon/config/schema.js';
import type { User } from '../../daemon/model/user.js';
import { fromUserInfo } from '../../plugins/transports/gsdk/user-info.js';
import { SimProcess } from '../helpers/sim-process.js';
import { SyncHarness } from '../helpers/sync-harness.js';

export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * The sync harness in all-devices mode, on `rollcall sim` in a child process (`gw`), with its
 * log lines kept and per-device latency measured from the engine's cursors.
 */
export class FaultBench extends SyncHarness {
  logs: LogLine[] = [];
  gw!: SimProcess;

  /** `count` devices with IDs from `firstId`. */
  static async create(count: number, firstId: number, sync: Partial<SyncConfig> = {}, gateway: Record<string, unknown> = {}): Promise<FaultBench> {
    const logs: LogLine[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
    const gw = await SimProcess.start(count, firstId);
    try {
      const b = await FaultBench.start({ gatewayAddress: gw.address, sync, gateway, logger, mode: 'all-devices' });
      b.logs = logs;
      b.gw = gw;
      return b;
    } catch (error) {
      await gw.stop();
      throw error;
    }
  }

  override async stop(): Promise<void> {
    try {
      await super.stop();
    } finally {
      await this.gw?.stop();
    }
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

  /** Whether the device holds exactly the database's users, content included (read through the control service). */
  async deviceEqualsStore(deviceId: number): Promise<boolean> {
    const ids: string[] = [];
    for await (const user of this.store.scanUsers()) ids.push(user.id);
    const held = new Map((await this.gw.users(deviceId)).map((info) => [info.hdr!.ID, fromUserInfo(info)]));
    return this.holdsExactly(held, ids);
  }

  /** Waits until every device is connected, checked and has nothing pending (the start-up checks are done). */
  async settled(timeoutMs = 60_000): Promise<void> {
    await this.until('every device connected and in sync', () => this.engine.status().every((d) => d.connected && d.inSync && d.pending === 0), timeoutMs);
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
