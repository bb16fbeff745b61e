/**
 * The daemon's one prom-client registry, handed to plugins through their context.
 * Metric getters are get-or-create so a plugin that is restarted (or reloaded) gets the
 * same series instead of a duplicate-registration error.
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
} from 'prom-client';

export class Metrics {
  readonly registry: Registry;

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

  histogram<T extends string>(config: Omit<HistogramConfiguration<T>, 'registers'>): Histogram<T> {
    const existing = this.registry.getSingleMetric(config.name);
    if (existing) return existing as Histogram<T>;
    return new Histogram<T>({ ...config, registers: [this.registry] });
  }
}
