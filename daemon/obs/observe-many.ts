/**
 * One value observed `count` times in a histogram without labels, at the cost of one
 * observation: a batch of 500 changes acknowledged by 10 devices is 5,000 observations of a
 * handful of values (the changes of one commit share its time), and 5,000 calls of
 * prom-client's `observe` cost more CPU and garbage than the rest of the acknowledgement.
 *
 * prom-client has no weighted observation (its maintainers point to custom collectors), so
 * this adds the other `count - 1` to the series prom-client's own `observe` just created or
 * updated: its count, sum and the value's bucket, as `count` calls would. Where the
 * histogram does not look the way prom-client 15 keeps it, it falls back to calling
 * `observe` `count` times; test/daemon/obs/observe-many.test.ts holds the two to the same
 * exposition.
 */
import type { Histogram } from 'prom-client';

/** How prom-client 15 keeps a histogram's series (lib/histogram.js). */
interface Series {
  labels: Record<string, unknown>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

interface Kept {
  hashMap?: Record<string, Series>;
  upperBounds?: readonly number[];
}

export function observeMany(histogram: Histogram<never>, value: number, count: number): void {
  if (count <= 0) return;
  histogram.observe(value);
  if (count === 1) return;
  const kept = histogram as unknown as Kept;
  const series = kept.hashMap?.[''];
  if (!series || !Array.isArray(kept.upperBounds) || Object.keys(series.labels).length > 0 || typeof series.count !== 'number') {
    for (let i = 1; i < count; i++) histogram.observe(value);
    return;
  }
  const more = count - 1;
  series.count += more;
  series.sum += value * more;
  const bound = kept.upperBounds.find((upper) => value <= upper);
  if (bound !== undefined && Object.hasOwn(series.bucketValues, bound)) series.bucketValues[bound]! += more;
}

/**
 * The latency, as of `now` (ms), of changes committed at `times` (ms): one weighted
 * observation per distinct time, since the changes of one commit share its time.
 */
export function observeSince(histogram: Histogram<never>, now: number, times: Iterable<number>): void {
  const byTime = new Map<number, number>();
  for (const at of times) byTime.set(at, (byTime.get(at) ?? 0) + 1);
  for (const [at, count] of byTime) observeMany(histogram, Math.max(0, (now - at) / 1000), count);
}
