/**
 * Reads the Prometheus text format that the daemon's /metrics serves, enough to ask
 * "is every device in sync" and "how many gateway calls were made" from outside.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Sum of every sample of `name` (over all label sets). */
export function sumOf(samples: readonly Sample[], name: string): number {
  return samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
}

/** Samples of `name`, by the value of `label`. */
export function byLabel(samples: readonly Sample[], name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) if (s.name === name && s.labels[label] !== undefined) out.set(s.labels[label]!, s.value);
  return out;
}

/** A histogram's cumulative buckets (`le` → count), summed over every other label. */
export function histogramBuckets(samples: readonly Sample[], name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels['le'] === undefined) continue;
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/** What was observed between two reads of the same histogram (`after` − `before`, per bucket). */
export function bucketDelta(after: ReadonlyMap<number, number>, before: ReadonlyMap<number, number> = new Map()): Map<number, number> {
  return new Map([...after].map(([le, count]) => [le, count - (before.get(le) ?? 0)]));
}

/**
 * The q-quantile of cumulative buckets as Prometheus's histogram_quantile computes it: linear
 * inside the bucket it falls in (from 0 for the first). `bucketLe` is that bucket's bound;
 * a quantile in the +Inf bucket is the highest finite bound. Undefined with no observations.
 */
export function bucketQuantile(buckets: ReadonlyMap<number, number>, q: number): { value: number; bucketLe: number; count: number } | undefined {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const count = sorted.at(-1)?.[1] ?? 0;
  if (count <= 0) return undefined;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of sorted) {
    if (cumulative >= rank) {
      if (le === Infinity) return { value: lower, bucketLe: Infinity, count };
      const inBucket = cumulative - below;
      const value = inBucket === 0 ? le : lower + ((le - lower) * (rank - below)) / inBucket;
      return { value, bucketLe: le, count };
    }
    lower = le;
    below = cumulative;
  }
  return { value: lower, bucketLe: Infinity, count };
}
