/**
 * Several `rollcall run` processes on one PostgreSQL schema and one gateway, for the tests of
 * several instances (test/daemon/cluster-run.test.ts, test/reliability/failover.long.ts):
 * each instance's config and directories, starting them, waiting for a condition while
 * watching that none exited, and the leases as the database holds them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess, freePort } from './daemon-process.js';
import type { PostgresServer } from './postgres-server.js';
import { postgresStorageYaml } from './postgres-stores.js';

export interface ClusterInstance {
  id: string;
  config: string;
  httpPort: number;
  daemon: DaemonProcess;
  /** Ended on purpose: `until` does not count its exit as a failure. */
  killed?: boolean;
}

export interface ClusterOptions {
  dir: string;
  server: PostgresServer;
  schema: string;
  gateway: string;
  leaseTtlMs: number;
  renewIntervalMs: number;
  /** Config lines added at the top level. */
  extra?: string[];
}

export function clusterInstanceConfig(options: ClusterOptions, id: string, httpPort: number): string {
  const { dir, server, schema, gateway } = options;
  return [
    `dataDir: ${join(dir, id, 'state')}`,
    'log:',
    '  level: info',
    'http:',
    `  listen: 127.0.0.1:${httpPort}`,
    'admin:',
    `  socket: ${join(dir, id, 'admin.sock')}`,
    ...postgresStorageYaml(server, schema, { extra: ['idleInTransactionTimeoutMs: 1000'] }),
    'gateway:',
    `  address: ${gateway}`,
    '  insecure: true',
    'cluster:',
    `  instanceId: ${id}`,
    `  leaseTtlMs: ${options.leaseTtlMs}`,
    `  renewIntervalMs: ${options.renewIntervalMs}`,
    'sync:',
    '  reconcile:',
    '    intervalMs: 0',
    '    deepIntervalMs: 0',
    'spool:',
    `  dir: ${join(dir, id, 'spool')}`,
    ...(options.extra ?? []),
    '',
  ].join('\n');
}

/** Writes each instance's config and starts `rollcall run` for it (not waiting for it to be up). */
export async function startClusterInstances(options: ClusterOptions, ids: readonly string[]): Promise<ClusterInstance[]> {
  const out: ClusterInstance[] = [];
  for (const id of ids) {
    await mkdir(join(options.dir, id, 'spool'), { recursive: true });
    const config = join(options.dir, id, 'rollcall.yaml');
    const httpPort = await freePort();
    await writeFile(config, clusterInstanceConfig(options, id, httpPort));
    out.push({ id, config, httpPort, daemon: new DaemonProcess(['run', '--config', config]) });
  }
  return out;
}

/** Resumes and kills whatever is left of the instances (a test's `after`). */
export async function endClusterInstances(instances: readonly ClusterInstance[]): Promise<void> {
  for (const i of instances) {
    try {
      process.kill(i.daemon.child.pid!, 'SIGCONT');
    } catch {
      // gone already
    }
    await i.daemon.kill();
  }
}

/**
 * Polls `probe` until it returns a value (not undefined), every `everyMs`; fails when an
 * instance not marked `killed` exits, or after `timeoutMs` with each instance's last warnings.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, instances: readonly ClusterInstance[] = [], options: { timeoutMs?: number; everyMs?: number } = {}): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const gone = instances.find((i) => !i.killed && i.daemon.child.exitCode !== null);
    if (gone) throw new Error(`${what}: instance ${gone.id} exited (${gone.daemon.child.exitCode}); last lines: ${JSON.stringify(gone.daemon.lines.slice(-6))}`);
    if (Date.now() - started > (options.timeoutMs ?? 90_000)) {
      const report = (i: ClusterInstance): string => `${i.id}: ${JSON.stringify([...i.daemon.lines.filter((l) => Number(l['level']) >= 40).slice(-6), ...i.daemon.lines.slice(-4)])}`;
      throw new Error(`${what}: not reached; warnings and last lines: ${instances.map(report).join('\n')}`);
    }
    await sleep(options.everyMs ?? 100);
  }
}

/** The live leases (owner set, unexpired in the server's clock): device → owner. */
export async function liveLeaseOwners(server: PostgresServer, schema: string): Promise<Map<number, string>> {
  const rows = (await server.query(`SELECT device_id, owner FROM ${schema}.leases WHERE owner IS NOT NULL AND expires_at > now()`)).rows as { device_id: string; owner: string }[];
  return new Map(rows.map((r) => [Number(r.device_id), r.owner]));
}

/** How many devices each instance holds a live lease of. */
export async function leaseShares(server: PostgresServer, schema: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const owner of (await liveLeaseOwners(server, schema)).values()) counts[owner] = (counts[owner] ?? 0) + 1;
  return counts;
}

/** Whether the live shares are exactly `expected` (instance → devices). */
export async function sharesAre(server: PostgresServer, schema: string, expected: Record<string, number>): Promise<boolean> {
  const counts = await leaseShares(server, schema);
  return JSON.stringify(Object.entries(counts).sort()) === JSON.stringify(Object.entries(expected).sort());
}
