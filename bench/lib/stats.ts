/**
 * Pure arithmetic on samples: percentiles, summaries and ratios. Kept apart from the
 * benchmarks so that it can be tested with tables.
 */

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Nearest-rank percentile of `values` (need not be sorted): the smallest value with at
 * least p% of the samples at or below it. No interpolation, so the result is always a
 * value that was measured.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no samples');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summary of no samples');
  let sum = 0;
  for (const v of values) sum += v;
  return {
    n: values.length,
    min: Math.min(...values),
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: Math.max(...values),
    mean: sum / values.length,
  };
}

/**
 * The cost of the measured path relative to its baseline: > 1 means slower (or bigger)
 * than the baseline. Both arguments are costs (seconds, bytes), never rates.
 */
export function costRatio(measured: number, baseline: number): number {
  if (!(baseline > 0)) throw new RangeError(`a baseline cost must be positive, got ${baseline}`);
  return measured / baseline;
}

/** Rounds for reports: 3 significant digits, integers kept whole. */
export function round(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  const digits = 3 - Math.ceil(Math.log10(Math.abs(value)));
  const factor = 10 ** Math.max(0, digits);
  return Math.round(value * factor) / factor;
}
