/**
 * Parts of the sync engine on their own, for the test of one part: the SyncContext every
 * part is given, over a real store, a real sync mode and (where the part talks to devices)
 * the gsdk transport, with a manual clock and a real metrics registry; and the Fleet and
 * ChangeFeed built on it, as the engine builds them (daemon/sync/engine.ts).
 */
import { pino } from 'pino';
import { Metrics } from '../../daemon/obs/metrics.js';
import { syncMetrics, type SyncMetrics } from '../../daemon/sync/metrics.js';
import { FanoutTracker } from '../../daemon/sync/fanout.js';
import { Fleet } from '../../daemon/sync/fleet.js';
import { ChangeFeed } from '../../daemon/sync/change-feed.js';
import type { SyncContext } from '../../daemon/sync/context.js';
import type { Store, SyncModeInstance, TransportInstance } from '../../daemon/plugins/api.js';
import type { DeviceConfig, SyncConfig } from '../../daemon/config/schema.js';
import { TEST_SYNC_CONFIG, loadSyncMode, pluginContext } from './sync-harness.js';

/** A clock that moves only when the test moves it (Unix ms). */
export class ManualClock {
  constructor(public now = 1_700_000_000_000) {}

  advance(ms: number): number {
    this.now += ms;
    return this.now;
  }
}

export interface SyncPartsOptions {
  store: Store;
  /** Absent: the part under test must not talk to devices (any use of the transport throws). */
  transport?: TransportInstance;
  /** A built-in sync mode by name (default all-devices). */
  mode?: string;
  sync?: Partial<SyncConfig>;
  devices?: DeviceConfig[];
  /** The clock of `ctx.now` (share it with a store made with `now: () => clock.now`). */
  clock?: ManualClock;
}

export interface SyncParts {
  ctx: SyncContext;
  fleet: Fleet;
  feed: ChangeFeed;
  clock: ManualClock;
  metrics: SyncMetrics;
  mode: SyncModeInstance;
  /** Changes the sync settings in force, as a reload does. */
  reconfigure(change: Partial<SyncConfig>): void;
  /** How often the fleet woke the scheduler. */
  readonly wakes: number;
  /** Fires the engine's signal. */
  stop(): void;
}

export function syncParts(options: SyncPartsOptions): SyncParts {
  const clock = options.clock ?? new ManualClock();
  const abort = new AbortController();
  const logger = pino({ level: process.env.ROLLCALL_TEST_LOG ?? 'silent' });
  const registry = new Metrics();
  const metrics = syncMetrics(registry, options.store);
  const mode = loadSyncMode(options.mode ?? 'all-devices', pluginContext(logger, registry, abort.signal, options.store));
  let config: SyncConfig = { ...TEST_SYNC_CONFIG, mode: options.mode ?? 'all-devices', ...options.sync };
  const ctx: SyncContext = {
    store: options.store,
    transport: options.transport ?? noTransport(),
    logger,
    metrics,
    fanout: new FanoutTracker(() => undefined),
    now: () => clock.now,
    signal: abort.signal,
    get config() {
      return config;
    },
    mode,
    // A single part under test runs without a cluster member: its device commits are not fenced
    // (the engine's tests and test/daemon/cluster/ run the member and its fences).
    leases: { commit: (_deviceIds, mutations) => options.store.commit(mutations) },
  };
  let wakes = 0;
  const fleet = new Fleet({ ctx, devices: options.devices ?? [], wake: () => void wakes++ });
  return {
    ctx,
    fleet,
    feed: new ChangeFeed(options.store),
    clock,
    metrics,
    mode,
    reconfigure(change) {
      config = { ...config, ...change };
    },
    get wakes() {
      return wakes;
    },
    stop: () => abort.abort(new Error('stopping')),
  };
}

function noTransport(): TransportInstance {
  return new Proxy({} as TransportInstance, {
    get(_target, name) {
      // A cached fact, not a call: the engine reads it to make device copies (undefined: not learnt).
      if (name === 'knownPinHashScheme') return undefined;
      throw new Error(`the part under test used the transport (${String(name)}); this test gave it none`);
    },
  });
}

/** The value of a gauge of the sync metrics for one device (undefined when never set). */
export async function deviceGauge(gauge: SyncMetrics['heldRemovals'], deviceId: number): Promise<number | undefined> {
  return (await gauge.get()).values.find((v) => v.labels.device === String(deviceId))?.value;
}
