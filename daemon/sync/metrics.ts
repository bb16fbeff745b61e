/**
 * The sync engine's metrics (ARCHITECTURE §8). Base units, `_total` counters, and no
 * user or card IDs in labels; `device` is bounded by the fleet, `credential` and `reason` of
 * left-off credentials by their catalogue (daemon/model/device-copy.ts).
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import { labelGrid, type Metrics } from '../obs/metrics.js';
import type { Store } from '../plugins/api.js';
import type { LeftOffTotal } from '../model/device-copy.js';

export interface SyncMetrics {
  latency: Histogram<never>;
  eventToFanout: Histogram<never>;
  connected: Gauge<'device'>;
  inSync: Gauge<'device'>;
  pending: Gauge<'device'>;
  quarantined: Gauge<'device'>;
  heldRemovals: Gauge<'device'>;
  leftOff: Gauge<'device' | 'credential' | 'reason'>;
  ops: Counter<'op' | 'result'>;
  cutCalls: Counter<never>;
  splitBatches: Counter<'why'>;
  merges: Counter<'result'>;
  conflicts: Counter<never>;
  skippedDeviceEvents: Counter<never>;
  users: Gauge<never>;
}

/** 5 ms to 60 s, roughly doubling. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Label values known at start: their series exist (at 0) before the first operation or merge. */
export const SYNC_OPS = ['enroll', 'delete'] as const;
export const SYNC_OP_RESULTS = ['ok', 'failed'] as const;
export const MERGE_RESULTS = ['created', 'updated', 'unchanged', 'failed'] as const;
/** Why a batch one device did not take was split (user-split.ts): to find users at fault, or because it timed out. */
export const SPLIT_REASONS = ['user', 'timeout'] as const;

export function syncMetrics(metrics: Metrics, store: Store): SyncMetrics {
  const created: SyncMetrics = {
    latency: metrics.histogram({
      name: 'rollcall_sync_latency_seconds',
      help: 'From the commit of a change to its acknowledgement by a device, per change and device.',
      buckets: LATENCY_BUCKETS,
    }),
    eventToFanout: metrics.histogram({
      name: 'rollcall_device_event_to_fanout_seconds',
      help: 'From a user enrolled or edited at a device to the acknowledgement by the last other device.',
      buckets: LATENCY_BUCKETS,
    }),
    connected: metrics.gauge({ name: 'rollcall_device_connected', help: '1 when the gateway reports the device connected.', labelNames: ['device'] }),
    inSync: metrics.gauge({
      name: 'rollcall_device_in_sync',
      help: '1 when the last check of the device found it equal to its expected state and nothing is pending since.',
      labelNames: ['device'],
    }),
    pending: metrics.gauge({
      name: 'rollcall_device_pending_changes',
      help: 'Change-feed entries the device has not acknowledged (an upper bound: the feed seq minus the device cursor).',
      labelNames: ['device'],
    }),
    quarantined: metrics.gauge({
      name: 'rollcall_device_quarantined',
      help: '1 when the device failed repeatedly and is only retried slowly.',
      labelNames: ['device'],
    }),
    heldRemovals: metrics.gauge({
      name: 'rollcall_device_held_removals',
      help: 'Users a held plan would remove from the device; waiting for `rollcall confirm`.',
      labelNames: ['device'],
    }),
    leftOff: metrics.gauge({
      name: 'rollcall_device_left_off_credentials',
      help: "Credentials the device's copies of its users leave off because the device cannot hold them, as of its last check, by credential kind and reason (daemon/model/device-copy.ts).",
      labelNames: ['device', 'credential', 'reason'],
    }),
    ops: metrics.counter({
      name: 'rollcall_sync_ops_total',
      help: 'User operations sent to devices, per device and user, by operation and result.',
      labelNames: ['op', 'result'],
    }),
    cutCalls: metrics.counter({
      name: 'rollcall_sync_calls_cut_total',
      help: 'Shared gateway calls cancelled at their soft deadline; their devices were then served one by one.',
    }),
    splitBatches: metrics.counter({
      name: 'rollcall_sync_batches_split_total',
      help: 'Batches one device did not take that were split in halves: to find the users at fault (why=user) or because they timed out (why=timeout).',
      labelNames: ['why'],
    }),
    merges: metrics.counter({
      name: 'rollcall_merge_total',
      help: 'Device-side enrollments and edits merged into the database, by result.',
      labelNames: ['result'],
    }),
    conflicts: metrics.counter({ name: 'rollcall_merge_conflicts_total', help: 'Field values that lost a merge (each is in the event log).' }),
    skippedDeviceEvents: metrics.counter({
      name: 'rollcall_device_events_skipped_total',
      help: 'Device-side events skipped because their user could not be read back after sync.deviceEvents.readAttempts tries (each is in the event log; a check of the device follows).',
    }),
    users: metrics.gauge({
      name: 'rollcall_users',
      help: 'Users in the database.',
      async collect() {
        try {
          this.set(await store.countUsers());
        } catch {
          // The store is closed while stopping; keep the last value.
        }
      },
    }),
  };
  metrics.initialise(created.ops, labelGrid({ op: SYNC_OPS, result: SYNC_OP_RESULTS }));
  metrics.initialise(created.merges, labelGrid({ result: MERGE_RESULTS }));
  metrics.initialise(created.splitBatches, labelGrid({ why: SPLIT_REASONS }));
  return created;
}

/**
 * Sets rollcall_device_left_off_credentials of `device` to what its last check found; series
 * it no longer has go to 0 (the device's `leftOffSeries` remembers which it had).
 */
export function gaugeLeftOff(metrics: Pick<SyncMetrics, 'leftOff'>, device: { id: number; leftOffSeries: Set<string> }, totals: readonly LeftOffTotal[]): void {
  const labels = (credential: string, reason: string) => ({ device: String(device.id), credential, reason });
  const now = new Set<string>();
  for (const total of totals) {
    now.add(`${total.what}:${total.reason}`);
    metrics.leftOff.set(labels(total.what, total.reason), total.count);
  }
  for (const series of device.leftOffSeries) {
    if (now.has(series)) continue;
    const [credential, reason] = series.split(':') as [string, string];
    metrics.leftOff.set(labels(credential, reason), 0);
  }
  device.leftOffSeries = now;
}
