/**
 * The drop folder's metrics (ARCHITECTURE §8), on the daemon's one registry. The series of
 * every running watcher's format are created at start, so the dashboard's import panels
 * have data (zeros) before the first file and see the first import's increase.
 */
import type { Counter, Histogram } from 'prom-client';
import { labelGrid, type Metrics } from '../obs/metrics.js';
import type { WatcherInstance } from '../plugins/api.js';

export const IMPORT_ROW_RESULTS = ['imported', 'unchanged', 'failed'] as const;
export const IMPORT_FILE_RESULTS = ['done', 'failed', 'duplicate'] as const;
export const EXPORT_RESULTS = ['done', 'failed'] as const;

export interface ImportMetrics {
  rows: Counter<'format' | 'result'>;
  files: Counter<'format' | 'result'>;
  duration: Histogram<'format'>;
  exports: Counter<'format' | 'result'>;
}

export function importMetrics(metrics: Metrics, watchers: readonly Pick<WatcherInstance, 'format' | 'exportUsers'>[] = []): ImportMetrics {
  const created: ImportMetrics = {
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
  const formats = [...new Set(watchers.map((w) => w.format))];
  const exporting = [...new Set(watchers.filter((w) => w.exportUsers !== undefined).map((w) => w.format))];
  metrics.initialise(created.rows, labelGrid({ format: formats, result: IMPORT_ROW_RESULTS }));
  metrics.initialise(created.files, labelGrid({ format: formats, result: IMPORT_FILE_RESULTS }));
  metrics.initialise(created.duration, labelGrid({ format: formats }));
  metrics.initialise(created.exports, labelGrid({ format: exporting, result: EXPORT_RESULTS }));
  return created;
}
