/** The drop folder's metrics (ARCHITECTURE §8), on the daemon's one registry. */
import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../obs/metrics.js';

export interface ImportMetrics {
  rows: Counter<'format' | 'result'>;
  files: Counter<'format' | 'result'>;
  duration: Histogram<'format'>;
  exports: Counter<'format' | 'result'>;
}

export function importMetrics(metrics: Metrics): ImportMetrics {
  return {
    rows: metrics.counter({
      name: 'rollcall_import_rows_total',
      help: 'Imported rows by result: imported (a user created or changed), unchanged, failed.',
      labelNames: ['format', 'result'],
    }),
    files: metrics.counter({
      name: 'rollcall_import_files_total',
      help: 'Files taken from the drop folder by result: done, failed (refused), duplicate.',
      labelNames: ['format', 'result'],
    }),
    duration: metrics.histogram({
      name: 'rollcall_import_duration_seconds',
      help: 'Time from taking a file to its end (done or refused); a resumed import counts its last run.',
      labelNames: ['format'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    }),
    exports: metrics.counter({
      name: 'rollcall_export_files_total',
      help: 'Exports written (done) or failed, by format.',
      labelNames: ['format', 'result'],
    }),
  };
}
