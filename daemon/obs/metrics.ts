/**
 * The daemon's one prom-client registry, handed to plugins through their context.
 * Metric getters are get-or-create so a plugin that is restarted (or reloaded) gets the
 * same series instead of a duplicate-registration error.
 *
 * A labelled metric has no series until its first observation, so a dashboard panel on it
 * stays empty (and `rate()` misses the first increase) until then: `initialise` creates
 * the series of the label values known at start at 0.
 */
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type LabelValues,
} from 'prom-client';

/** Every combination of the given label values, e.g. { format: ['csv'], result: ['done', 'failed'] } → 2 sets. */
export function labelGrid<T extends string>(values: Record<T, readonly string[]>): LabelValues<T>[] {
  let sets: Record<string, string>[] = [{}];
  for (const [name, options] of Object.entries(values) as [T, readonly string[]][]) {
    sets = sets.flatMap((set) => options.map((option) => ({ ...set, [name]: option })));
  }
  return sets as LabelValues<T>[];
}

export class Metrics {
  readonly registry: Registry;
  /** Series `initialise` created: a second call (a plugin restarted) must not zero a histogram again. */
  readonly #initialised = new Set<string>();

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
  }

  /** Adds Node's process metrics (CPU, memory, event loop lag, handles). */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
    // prom-client also serves these counts as gauges named *_total, which promtool rejects
    // (only counters end in _total); the per-type gauges without the suffix stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
  }

  counter<T extends string>(config: Omit<CounterConfiguration<T>, 'registers'>): Counter<T> {
    const existing = this.registry.getSingleMetric(config.name);
    if (existing) return existing as Counter<T>;
    return new Counter<T>({ ...config, registers: [this.registry] });
  }

  gauge<T extends string>(config: Omit<GaugeConfiguration<T>, 'registers'>): Gauge<T> {
    const existing = this.registry.getSingleMetric(config.name);
    if (existing) return existing as Gauge<T>;
    return new Gauge<T>({ ...config, registers: [this.registry] });
  }

  /** Creates each series of `labelSets` at 0 unless this registry's `initialise` made it before. */
  initialise<T extends string>(metric: Counter<T> | Histogram<T>, labelSets: Iterable<LabelValues<T>>): void {
    const name = (metric as unknown as { name: string }).name;
    for (const labels of labelSets) {
      const key = `${name}\0${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
      if (this.#initialised.has(key)) continue;
      this.#initialised.add(key);
      if (metric instanceof Histogram) metric.zero(labels);
      else metric.inc(labels, 0);
    }
  }

  histogram<T extends string>(config: Omit<HistogramConfiguration<T>, 'registers'>): Histogram<T> {
    const existing = this.registry.getSingleMetric(config.name);
    if (existing) return existing as Histogram<T>;
    return new Histogram<T>({ ...config, registers: [this.registry] });
  }
}
