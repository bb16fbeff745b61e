/**
 * The failover suite's measurements (failover.long.ts): each write's latency to each device
 * and its fan-out to every device, read from the device cursors in PostgreSQL (a cursor moves
 * only when its device acknowledged, or a check found it equal, and only its lease holder can
 * move it); and the daemons' own sync latency histogram, read per phase from each instance's
 * /metrics, which counts only the acknowledgements of feed batches: the changes a check
 * delivers (the first check of a device taken over) are not in it.
 */
import type { PostgresServer } from '../helpers/postgres-server.js';
import { bucketDelta, bucketQuantile, histogramBuckets, parsePrometheusText } from '../../bench/lib/prometheus-text.js';
import { percentile } from './fault-bench.js';

const LATENCY = 'rollcall_sync_latency_seconds';

/** The sync latency buckets an instance has observed so far. */
export async function latencyBuckets(httpPort: number): Promise<Map<number, number>> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`/metrics on port ${httpPort}: HTTP ${response.status}`);
  return histogramBuckets(parsePrometheusText(await response.text()), LATENCY);
}

/** Reads of every instance's histogram at the edges of the phases; an instance not readable at an edge (killed, stopped) is left out of the phases that edge bounds. */
export class LatencyPhases {
  readonly #reads = new Map<string, Map<string, Map<number, number>>>();

  /** Reads these instances (instance → HTTP port) at edge `edge`. */
  async read(edge: string, ports: ReadonlyMap<string, number>): Promise<void> {
    const at = new Map<string, Map<number, number>>();
    for (const [id, port] of ports) at.set(id, await latencyBuckets(port));
    this.#reads.set(edge, at);
  }

  /** The p99 (s) of what every instance read at both edges observed between them. */
  p99(from: string, to: string): { seconds: number; bucketLe: number; count: number } | undefined {
    const start = this.#reads.get(from);
    const end = this.#reads.get(to);
    if (!start || !end) throw new Error(`no read at ${from} or ${to}`);
    const total = new Map<number, number>();
    for (const [id, after] of end) {
      // An instance that was not read at the start (none here) counts from its own start.
      for (const [le, count] of bucketDelta(after, start.get(id))) total.set(le, (total.get(le) ?? 0) + count);
    }
    const q = bucketQuantile(total, 0.99);
    return q && { seconds: q.value, bucketLe: q.bucketLe, count: q.count };
  }
}

/**
 * Polls every device's cursor (every `everyMs`) while writes are committed, and gives each
 * write's sync latency per device (from its commit until that device's cursor reached it,
 * to within a poll) and its fan-out time (until every device's had).
 */
export class FanoutWatch {
  readonly #server: PostgresServer;
  readonly #schema: string;
  readonly #devices: number;
  readonly #writes: { seq: number; atMs: number; reached: Map<number, number>; allMs?: number }[] = [];
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(server: PostgresServer, schema: string, devices: number) {
    this.#server = server;
    this.#schema = schema;
    this.#devices = devices;
  }

  start(everyMs = 50): void {
    this.#running = (async () => {
      while (!this.#stopped) {
        const rows = (await this.#server.query(`SELECT device_id, seq FROM ${this.#schema}.cursors`)).rows as { device_id: string; seq: string }[];
        const now = Date.now();
        const cursors = rows.map((r) => [Number(r.device_id), Number(r.seq)] as const);
        for (const w of this.#writes) {
          if (w.allMs !== undefined) continue;
          for (const [device, seq] of cursors) if (seq >= w.seq && !w.reached.has(device)) w.reached.set(device, now - w.atMs);
          if (w.reached.size >= this.#devices) w.allMs = now - w.atMs;
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  /** A write committed at `atMs` with `seq`. */
  committed(seq: number, atMs: number): void {
    this.#writes.push({ seq, atMs, reached: new Map() });
  }

  /** Resolves with the ms from the commit of `seq` until every device reached it. */
  async reached(seq: number, timeoutMs: number): Promise<number> {
    const write = this.#writes.find((w) => w.seq === seq);
    if (!write) throw new Error(`seq ${seq} was not committed through the watch`);
    const deadline = Date.now() + timeoutMs;
    while (write.allMs === undefined) {
      if (Date.now() > deadline) throw new Error(`${this.#devices - write.reached.size} devices did not reach seq ${seq} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return write.allMs;
  }

  /** Like `reached`, counted from `sinceMs` (a signal sent just before the write) instead of the commit. */
  async servedSince(seq: number, sinceMs: number, timeoutMs: number): Promise<number> {
    const ms = await this.reached(seq, timeoutMs);
    return ms + this.#writes.find((w) => w.seq === seq)!.atMs - sinceMs;
  }

  /**
   * Of the writes committed in [fromMs, toMs): the p99 of their per-device latency (one per
   * write and device), the p99 and max of their fan-out to every device, and how many devices
   * of them were never reached.
   */
  summary(fromMs: number, toMs: number): { p99Ms: number; fanoutP99Ms: number; fanoutMaxMs: number; writes: number; samples: number; unfinished: number } {
    const writes = this.#writes.filter((w) => w.atMs >= fromMs && w.atMs < toMs);
    const perDevice = writes.flatMap((w) => [...w.reached.values()]);
    const all = writes.flatMap((w) => (w.allMs === undefined ? [] : [w.allMs]));
    return {
      p99Ms: percentile(perDevice, 99),
      fanoutP99Ms: percentile(all, 99),
      fanoutMaxMs: Math.max(...all),
      writes: writes.length,
      samples: perDevice.length,
      unfinished: writes.length * this.#devices - perDevice.length,
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
