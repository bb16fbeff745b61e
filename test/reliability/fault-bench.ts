/**
 * The sync engine with real parts (as test/helpers/sync-harness.ts) plus what the device-fault
 * suites need beside it: the engine's log lines kept (backoff and quarantine are read from
 * them), and per-device sync latency measured from the engine's own cursors.
 */
import { pino } from 'pino';
import { Metrics } from '../../daemon/obs/metrics.js';
import { tempLevelStore, type TempLevelStore } from '../../daemon/store/testing.js';
import { SyncEngine } from '../../daemon/sync/engine.js';
import { DeviceEventFollower } from '../../daemon/sync/device-events.js';
import type { PluginContext, Store, SyncModeInstance } from '../../daemon/plugins/api.js';
import type { SyncConfig } from '../../daemon/config/schema.js';
import type { User } from '../../daemon/model/user.js';
import { deviceProjectionHash } from '../../daemon/model/projection.js';
import { configSchema } from '../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../plugins/transports/gsdk/transport.js';
import { fromUserInfo } from '../../plugins/transports/gsdk/user-info.js';
import { startSimulator, type RunningSimulator, type DeviceSpec } from '../../simulator/index.js';
import { BUILTIN_PLUGINS } from '../../daemon/plugins/registry.js';
import { TEST_SYNC_CONFIG } from '../helpers/sync-harness.js';

export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [key: string]: unknown;
}

export class FaultBench {
  readonly logs: LogLine[] = [];
  readonly metrics = new Metrics();
  sim!: RunningSimulator;
  stored!: TempLevelStore;
  transport!: GsdkTransport;
  engine!: SyncEngine;
  follower!: DeviceEventFollower;
  readonly #abort = new AbortController();

  static async start(devices: DeviceSpec[], sync: Partial<SyncConfig> = {}, gateway: Record<string, unknown> = {}): Promise<FaultBench> {
    const b = new FaultBench();
    const logger = pino({ level: 'debug' }, { write: (line: string) => void b.logs.push(JSON.parse(line) as LogLine) });
    b.sim = await startSimulator({ devices, port: 0 });
    b.stored = await tempLevelStore();
    const signal = b.#abort.signal;
    const context = (store?: Store): PluginContext => ({ logger, metrics: b.metrics, signal, dataDir: '/nonexistent', store, lookup: () => undefined });
    b.transport = new GsdkTransport(context(), configSchema.parse({ ...gateway, address: b.sim.address }));
    await b.transport.start(signal);
    const mode = BUILTIN_PLUGINS.find((d) => d.kind === 'sync-mode' && d.name === 'all-devices')!.create(context(b.store), {}) as SyncModeInstance;
    b.engine = new SyncEngine({ store: b.store, transport: b.transport, mode, config: { ...TEST_SYNC_CONFIG, ...sync }, devices: [], logger, metrics: b.metrics });
    await b.engine.start(signal);
    b.follower = new DeviceEventFollower({ store: b.store, transport: b.transport, engine: b.engine, logger });
    await b.follower.start(signal);
    return b;
  }

  get store(): Store {
    return this.stored.store;
  }

  async put(users: User[]): Promise<number> {
    return (await this.store.commit(users.map((user) => ({ type: 'putUser' as const, user, origin: { kind: 'server' as const } })))).seq;
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
    const seq = await this.put(users);
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
    const held = new Map(this.sim.device(deviceId).users().map((info) => [info.hdr!.ID, fromUserInfo(info)]));
    if (held.size !== (await this.store.countUsers())) return false;
    for await (const user of this.store.scanUsers()) {
      const theirs = held.get(user.id);
      if (!theirs || deviceProjectionHash(theirs) !== deviceProjectionHash(user)) return false;
    }
    return true;
  }

  async until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}; devices: ${JSON.stringify(this.engine.status())}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.follower?.stop();
    await this.engine?.stop();
    await this.transport?.stop();
    await this.sim?.stop();
    await this.stored?.cleanup();
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
