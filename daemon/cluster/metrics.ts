/**
 * The cluster's metrics. Prometheus sets its own `instance` label (the scrape target,
 * host:port) on every series, so rollcall never uses that name: the instance's rollcall
 * name is the `rollcall_instance` label of one info gauge, which a query joins on
 * (`* on (instance) group_left (rollcall_instance) rollcall_cluster_instance_info`).
 * `rollcall_device_served` says which instance serves a device now: per-device gauges of
 * the other instances keep their last value, so a dashboard multiplies by it.
 */
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../obs/metrics.js';

export interface ClusterMetrics {
  info: Gauge<'rollcall_instance' | 'shared'>;
  served: Gauge<'device'>;
  held: Gauge<never>;
  share: Gauge<never>;
  liveInstances: Gauge<never>;
  leaseChanges: Counter<'change'>;
}

export const LEASE_CHANGES = ['taken', 'released', 'lost'] as const;

export function clusterMetrics(metrics: Metrics, instanceId: string, shared: boolean): ClusterMetrics {
  const created: ClusterMetrics = {
    info: metrics.gauge({ name: 'rollcall_cluster_instance_info', help: 'Always 1; its rollcall_instance label is this instance\'s name (cluster.instanceId), shared is true when instances share the store.', labelNames: ['rollcall_instance', 'shared'] }),
    served: metrics.gauge({ name: 'rollcall_device_served', help: '1 while this instance holds the device\'s lease and serves it.', labelNames: ['device'] }),
    held: metrics.gauge({ name: 'rollcall_cluster_devices_held', help: 'Devices whose lease this instance holds.' }),
    share: metrics.gauge({ name: 'rollcall_cluster_share_devices', help: 'This instance\'s fair share at the last balance: ceil(devices / live instances).' }),
    liveInstances: metrics.gauge({ name: 'rollcall_cluster_live_instances', help: 'Instances whose heartbeat was recent at the last balance, this one included.' }),
    leaseChanges: metrics.counter({ name: 'rollcall_cluster_lease_changes_total', help: 'Device leases this instance took, gave back, or lost (expired, taken, refused by a fence).', labelNames: ['change'] }),
  };
  created.info.set({ rollcall_instance: instanceId, shared: String(shared) }, 1);
  for (const change of LEASE_CHANGES) created.leaseChanges.inc({ change }, 0);
  return created;
}
