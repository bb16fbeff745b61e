/**
 * The sync engine with real parts: a LevelDB store in a temp dir, the gateway simulator
 * on a loopback port, the gsdk transport over real gRPC, a real sync-mode plugin, the
 * engine and the device-event follower. Tests drive the database through the store and
 * the devices through the simulator's in-process control, and wait for convergence.
 */
import { pino, type Logger } from 'pino';
import { Metrics } from '../../daemon/obs/metrics.js';
import { tempLevelStore, type TempLevelStore } from './stores.js';
import { SyncEngine } from '../../daemon/sync/engine.js';
import { DeviceEventFollower } from '../../daemon/sync/device-events.js';
import type { PluginContext, Store, SyncModeInstance } from '../../daemon/plugins/api.js';
import type { SyncConfig, DeviceConfig } from '../../daemon/config/schema.js';
import { emptyUser, type User } from '../../daemon/model/user.js';
import { deviceProjectionHash } from '../../daemon/model/projection.js';
import { configSchema } from '../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../plugins/transports/gsdk/transport.js';
import { fromUserInfo } from '../../plugins/transports/gsdk/user-info.js';
import { startSimulator, type RunningSimulator, type DeviceSpec } from '../../simulator/index.js';
import { BUILTIN_PLUGINS } from '../../daemon/plugins/registry.js';

export const TEST_SYNC_CONFIG: SyncConfig = {
  mode: 'all-devices',
  mergePolicy: 'fill-vacant',
  deviceDeletes: 'restore',
  templateFormat: 'SUPREMA',
  batch: { maxUsers: 500, maxBytes: 3 * 1024 * 1024 },
  concurrency: 8,
  backoff: { baseMs: 50, factor: 1.6, maxMs: 500 },
  quarantine: { after: 4, retryMs: 1000 },
  reconcile: { onConnect: true, intervalMs: 0, deepIntervalMs: 0, pageSize: 100 },
  massRemoval: { share: 0.1, minimum: 10 },
  tombstoneRetentionDays: 30,
  deviceEvents: { readAttempts: 3, retryBaseMs: 50, retryMaxMs: 200 },
  discoverDevices: true,
};

export interface SyncHarnessOptions {
  devices?: DeviceSpec[];
  mode?: string;
  sync?: Partial<SyncConfig>;
  deviceConfig?: DeviceConfig[];
  /** Reuse a store (a restart); the caller cleans it up. */
  stored?: TempLevelStore;
  sim?: RunningSimulator;
  /** A gateway running elsewhere (e.g. `rollcall sim` in a child process): `sim` is then not set. */
  gatewayAddress?: string;
  /** Follow device events (default true). Off: as if every event were lost. */
  followEvents?: boolean;
  /** The realtime stream's queue size (small: the gateway drops events). */
  eventQueueSize?: number;
  /** gsdk transport config beside the address (deadlines...). */
  gateway?: Record<string, unknown>;
  /** The logger of the engine, the follower and the transport (default: silent, or ROLLCALL_TEST_LOG). */
  logger?: Logger;
}

/** The context a plugin is created with, for plugins made by hand in tests. */
export function pluginContext(logger: Logger, metrics: Metrics, signal: AbortSignal, store?: Store): PluginContext {
  return { logger, metrics, signal, dataDir: '/nonexistent', store, lookup: () => undefined };
}

/** A built-in sync mode by name. */
export function loadSyncMode(name: string, ctx: PluginContext): SyncModeInstance {
  const definition = BUILTIN_PLUGINS.find((d) => d.kind === 'sync-mode' && d.name === name);
  if (!definition) throw new Error(`no built-in sync mode ${name}`);
  return definition.create(ctx, {}) as SyncModeInstance;
}

/** The gsdk transport over real gRPC to a gateway at `address`, started. */
export async function startGsdkTransport(ctx: PluginContext, address: string, gateway: Record<string, unknown> = {}): Promise<GsdkTransport> {
  const transport = new GsdkTransport(ctx, configSchema.parse({ insecure: gateway['tls'] === undefined, ...gateway, address }));
  await transport.start(ctx.signal);
  return transport;
}

export function makeUser(id: string, extra: Partial<User> = {}): User {
  return { ...emptyUser(id), name: `User ${id}`, ...extra };
}

/** Commits `users` as server-side changes; returns the seq. */
export async function putUsers(store: Store, ...users: User[]): Promise<number> {
  return (await store.commit(users.map((user) => ({ type: 'putUser' as const, user, origin: { kind: 'server' as const } })))).seq;
}

/** Commits server-side deletes of `ids`; returns the seq. */
export async function removeUsers(store: Store, ...ids: string[]): Promise<number> {
  return (await store.commit(ids.map((userId) => ({ type: 'deleteUser' as const, userId, origin: { kind: 'server' as const } })))).seq;
}

export class SyncHarness {
  /** The in-process simulator (not set when the harness was given a `gatewayAddress`). */
  sim!: RunningSimulator;
  stored!: TempLevelStore;
  transport!: GsdkTransport;
  engine!: SyncEngine;
  follower: DeviceEventFollower | undefined;
  mode!: SyncModeInstance;
  metrics = new Metrics();
  readonly #abort = new AbortController();
  #ownsSim = true;
  #ownsStore = true;

  static async start<T extends SyncHarness>(this: new () => T, options: SyncHarnessOptions = {}): Promise<T> {
    const h = new this();
    await h.#start(options);
    return h;
  }

  async #start(options: SyncHarnessOptions): Promise<void> {
    let address: string;
    if (options.gatewayAddress) {
      address = options.gatewayAddress;
      this.#ownsSim = false;
    } else if (options.sim) {
      this.sim = options.sim;
      this.#ownsSim = false;
      address = this.sim.address;
    } else {
      this.sim = await startSimulator({ devices: options.devices ?? [{ id: 1001 }, { id: 1002 }, { id: 1003 }], port: 0 });
      address = this.sim.address;
    }
    if (options.stored) {
      this.stored = options.stored;
      this.#ownsStore = false;
    } else {
      this.stored = await tempLevelStore();
    }
    const signal = this.#abort.signal;
    const logger = options.logger ?? pino({ level: process.env.ROLLCALL_TEST_LOG ?? 'silent' });
    this.transport = await startGsdkTransport(pluginContext(logger, this.metrics, signal), address, options.gateway);
    const modeName = options.mode ?? 'all-devices';
    this.mode = loadSyncMode(modeName, pluginContext(logger, this.metrics, signal, this.store));
    const config = { ...TEST_SYNC_CONFIG, mode: modeName, ...options.sync };
    this.engine = new SyncEngine({
      store: this.store,
      transport: this.transport,
      mode: this.mode,
      config,
      devices: options.deviceConfig ?? [],
      logger,
      metrics: this.metrics,
      deviceEvents: options.followEvents === false ? false : { ...(options.eventQueueSize ? { queueSize: options.eventQueueSize } : {}) },
    });
    await this.engine.start(signal);
    this.follower = this.engine.follower;
  }

  get store(): Store {
    return this.stored.store;
  }

  put(...users: User[]): Promise<number> {
    return putUsers(this.store, ...users);
  }

  remove(...ids: string[]): Promise<number> {
    return removeUsers(this.store, ...ids);
  }

  /** Users on a simulated device, by ID, as domain users. */
  onDevice(deviceId: number): Map<string, User> {
    return new Map(this.sim.device(deviceId).users().map((info) => [info.hdr!.ID, fromUserInfo(info)]));
  }

  /** Whether the device holds exactly these users with the database's content. */
  deviceEquals(deviceId: number, expectedIds: readonly string[]): Promise<boolean> {
    return this.holdsExactly(this.onDevice(deviceId), expectedIds);
  }

  /** Whether `held` (a device's users by ID) is exactly these users with the database's content. */
  protected async holdsExactly(held: ReadonlyMap<string, User>, expectedIds: readonly string[]): Promise<boolean> {
    if (held.size !== expectedIds.length) return false;
    for (const id of expectedIds) {
      const mine = await this.store.getUser(id);
      const theirs = held.get(id);
      if (!mine || !theirs || deviceProjectionHash(mine) !== deviceProjectionHash(theirs)) return false;
    }
    return true;
  }

  /** Polls `check` until it holds (bounded); throws with `what` when it never does. */
  async until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}; devices: ${JSON.stringify(this.engine.status())}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Stops the engine and transport (and, unless shared, the simulator and store). */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.engine?.stop();
    await this.transport?.stop();
    if (this.#ownsSim) await this.sim?.stop();
    if (this.#ownsStore) await this.stored?.cleanup();
  }
}
