/**
 * rollcall's sync path in the benchmark's process, as the daemon assembles it: a store
 * (LevelDB by default, or PostgreSQL on a server the caller started), the gsdk transport, a sync-mode plugin, the sync engine and (optionally) the
 * device-event follower, with the daemon's default sync settings. The gateway is any
 * address: the simulator's own process, or a byte-counting proxy in front of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Metrics } from '../../daemon/obs/metrics.js';
import { buildConfigSchema, type SyncConfig } from '../../daemon/config/schema.js';
import { BUILTIN_PLUGINS } from '../../daemon/plugins/registry.js';
import type { PluginContext, Store, SyncModeInstance } from '../../daemon/plugins/api.js';
import type { User } from '../../daemon/model/user.js';
import { SyncEngine } from '../../daemon/sync/engine.js';
import { DeviceEventFollower } from '../../daemon/sync/device-events.js';
import type { AbstractStore } from '../../daemon/store/abstract-store.js';
import { LevelStore } from '../../plugins/storage/level/level-store.js';
import { PostgresStore } from '../../plugins/storage/postgres/postgres-store.js';
import { configSchema as postgresSchema } from '../../plugins/storage/postgres/schema.js';
import { configSchema as gatewaySchema } from '../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../plugins/transports/gsdk/transport.js';

/** The daemon's sync settings when the config file says nothing. */
export function defaultSyncConfig(): SyncConfig {
  return buildConfigSchema(BUILTIN_PLUGINS).parse({}).sync;
}

export interface EngineRigOptions {
  address: string;
  mode: string;
  /** Overrides of the daemon's default sync settings. */
  sync?: Partial<SyncConfig>;
  followEvents: boolean;
  /** Open this LevelDB directory (kept afterwards) instead of a fresh temp one (removed). */
  storeDir?: string;
  /**
   * The postgres store instead of LevelDB: the `storage.postgres` config section (host,
   * port, database, user, schema; the rest defaults as in the daemon). The schema is the
   * caller's: a fresh one gives an empty store.
   */
  postgres?: Record<string, unknown>;
}

const silent = pino({ level: process.env.ROLLCALL_BENCH_LOG ?? 'silent' });

function openStore(options: EngineRigOptions, tempDir: string | undefined): AbstractStore {
  if (options.postgres) {
    const config = postgresSchema.parse(options.postgres);
    return new PostgresStore({ connection: config, poolSize: config.poolSize, startRetryMs: config.startRetryMs, logger: silent });
  }
  return new LevelStore({ location: options.storeDir ?? join(tempDir!, 'leveldb'), logger: silent });
}

export class EngineRig {
  readonly store: AbstractStore;
  readonly transport: GsdkTransport;
  readonly engine: SyncEngine;
  readonly follower: DeviceEventFollower | undefined;
  readonly metrics: Metrics;
  readonly #abort: AbortController;
  readonly #tempDir: string | undefined;

  private constructor(parts: {
    store: AbstractStore;
    transport: GsdkTransport;
    engine: SyncEngine;
    follower: DeviceEventFollower | undefined;
    metrics: Metrics;
    abort: AbortController;
    tempDir: string | undefined;
  }) {
    this.store = parts.store;
    this.transport = parts.transport;
    this.engine = parts.engine;
    this.follower = parts.follower;
    this.metrics = parts.metrics;
    this.#abort = parts.abort;
    this.#tempDir = parts.tempDir;
  }

  /** Opens the store (and seeds it with `users` before the engine starts, if given), then starts the sync path. */
  static async start(options: EngineRigOptions, seed?: (store: Store) => Promise<void>): Promise<EngineRig> {
    const abort = new AbortController();
    const signal = abort.signal;
    const metrics = new Metrics();
    const tempDir = options.storeDir ? undefined : await mkdtemp(join(tmpdir(), 'rollcall-bench-'));
    const store = openStore(options, tempDir);
    await store.start();
    if (seed) await seed(store);
    const context = (withStore?: Store): PluginContext => ({ logger: silent, metrics, signal, dataDir: tempDir ?? '/nonexistent', store: withStore, lookup: () => undefined });
    const transport = new GsdkTransport(context(), gatewaySchema.parse({ address: options.address, insecure: true }));
    await transport.start(signal);
    await transport.ready({ deadlineMs: 10_000 });
    const definition = BUILTIN_PLUGINS.find((d) => d.kind === 'sync-mode' && d.name === options.mode);
    if (!definition) throw new Error(`no sync mode named ${options.mode}`);
    const mode = definition.create(context(store), {}) as SyncModeInstance;
    await mode.start?.(signal);
    const engine = new SyncEngine({
      store,
      transport,
      mode,
      config: { ...defaultSyncConfig(), mode: options.mode, ...options.sync },
      devices: [],
      logger: silent,
      metrics,
      deviceEvents: options.followEvents ? {} : false,
    });
    await engine.start(signal);
    const follower = engine.follower;
    return new EngineRig({ store, transport, engine, follower, metrics, abort, tempDir });
  }

  /** Commits users as an import would: `batch` users per commit. Returns the head seq. */
  async commitUsers(users: readonly User[], batch = 500): Promise<number> {
    let seq = this.store.currentSeq();
    for (let i = 0; i < users.length; i += batch) {
      const mutations = users.slice(i, i + batch).map((user) => ({ type: 'putUser' as const, user, origin: { kind: 'server' as const, by: 'bench' } }));
      seq = (await this.store.commit(mutations)).seq;
    }
    return seq;
  }

  /** Whether every connected device has acknowledged everything up to `seq`. */
  acknowledged(seq: number): boolean {
    return this.engine.devices.every((d) => !d.connected || d.cursor >= seq);
  }

  /** Whether every device is connected, was checked, and is in sync with the head. */
  settled(expectedDevices: number): boolean {
    const devices = this.engine.devices;
    return devices.length === expectedDevices && devices.every((d) => d.connected && d.inSync && !d.busy && d.checkDue === undefined);
  }

  /** Stops the follower, the engine, the transport and the store; removes a temp store. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.engine.stop();
    await this.transport.stop();
    await this.store.stop();
    if (this.#tempDir) await rm(this.#tempDir, { recursive: true, force: true });
  }
}

/**
 * Polls `check` every `intervalMs` until it holds; returns the time (performance.now())
 * at which it was first seen to hold. Throws after `timeoutMs`, naming `what`.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, options: { timeoutMs: number; intervalMs?: number; detail?: () => string }): Promise<number> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return performance.now();
    if (performance.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${options.detail ? `: ${options.detail()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 2));
  }
}
