/**
 * The soft deadline of a shared call (one EnrollMulti/DeleteMulti for several devices).
 *
 * A shared call lasts as long as its slowest device, and its reply cannot say which one that
 * was. Waiting for the hard deadline would make every healthy device of the group as late as
 * a hung one, so a shared call that outlasts what calls of its size usually take is cancelled
 * and its devices are served one by one at once ("The Tail at Scale", Dean and Barroso 2013:
 * act on a request once it has outlasted the high percentiles of its class). The
 * device at fault then holds only itself.
 *
 * Sizes are classes of users × devices, by power of two. Each class remembers its last
 * `window` durations; the deadline is `factor` × their p90, at least `floorMs`, and never more
 * than a fixed allowance (`ceilingMs`, by default slowCallMs: far more than the ~2 µs per
 * user and device a healthy gateway takes). A class with fewer than `minSamples` has no deadline: a call is cut only
 * when it is known what calls of its size take. A cut call counts as having lasted its
 * deadline, so when every call of a class grows slower (a loaded machine) the deadline
 * follows instead of cutting them all.
 *
 * A cut costs more than the call: the devices that had already applied it get it again, and
 * a user edited at such a device in between is overwritten before the edit is read back.
 */

export interface SoftDeadlineOptions {
  floorMs: number;
  factor: number;
  window: number;
  minSamples: number;
  /** The most a deadline may be for `units` (users × devices). */
  ceilingMs: (units: number) => number;
}

/**
 * What a gateway call for `units` (users × devices) may take before it counts as slow: 50 ms
 * plus 50 µs per user and device. A healthy gateway spends about 2 µs per user and device;
 * the rest leaves room for a loaded machine and still sees a device that adds latency.
 */
export function slowCallMs(units: number): number {
  return 50 + 0.05 * units;
}

export const SOFT_DEADLINE_DEFAULTS: SoftDeadlineOptions = {
  floorMs: 20,
  factor: 3,
  window: 64,
  minSamples: 8,
  ceilingMs: slowCallMs,
};

export class SoftDeadline {
  readonly #o: SoftDeadlineOptions;
  /** Recent durations per size class, oldest first. */
  readonly #classes = new Map<number, number[]>();

  constructor(options: Partial<SoftDeadlineOptions> = {}) {
    this.#o = { ...SOFT_DEADLINE_DEFAULTS, ...options };
  }

  /** How long a shared call of `units` (users × devices) may take before it is cut; undefined: not cut (too few samples). */
  budgetMs(units: number): number | undefined {
    const ceiling = this.#o.ceilingMs(units);
    const samples = this.#classes.get(sizeClass(units));
    if (!samples || samples.length < this.#o.minSamples) return undefined;
    const sorted = [...samples].sort((a, b) => a - b);
    const p90 = sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]!;
    return Math.min(ceiling, Math.max(this.#o.floorMs, this.#o.factor * p90));
  }

  /** A shared call of `units` took `ms` (or was cut after `ms`). */
  record(units: number, ms: number): void {
    const key = sizeClass(units);
    let samples = this.#classes.get(key);
    if (!samples) this.#classes.set(key, (samples = []));
    samples.push(ms);
    if (samples.length > this.#o.window) samples.shift();
  }
}

function sizeClass(units: number): number {
  return Math.floor(Math.log2(Math.max(1, units)));
}
