/**
 * This instance's name among those sharing a store (config `cluster.instanceId`). The
 * default is the host name and 8 hex digits of a hash of the state directory: the same on
 * every restart (so `rollcall status` reads alike from day to day), and different for two
 * instances on one host, which need their own state directories anyway.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { ClusterConfig } from '../config/schema.js';
import type { ClusterSettings } from './member.js';

export function defaultInstanceId(dataDir: string, host = hostname()): string {
  const suffix = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 8);
  const name = host.replace(/[^A-Za-z0-9._:-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 110) || 'rollcall';
  return `${name}-${suffix}`;
}

export function clusterSettings(config: ClusterConfig, dataDir: string): ClusterSettings {
  return {
    instanceId: config.instanceId ?? defaultInstanceId(dataDir),
    host: hostname(),
    leaseTtlMs: config.leaseTtlMs,
    renewIntervalMs: config.renewIntervalMs,
  };
}
