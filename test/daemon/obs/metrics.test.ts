/**
 * Labelled metrics have their series from the start: a real drop folder (real watchers, a
 * spool in a temp folder, a LevelDB store) and the sync engine's metrics are scraped
 * before any file or device operation, the way Prometheus scrapes a daemon that has just
 * started. Without the series, the dashboard's import panels stay empty after the first
 * import (rate() needs a sample before the increase).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { labelGrid, Metrics } from '../../../daemon/obs/metrics.js';
import { syncMetrics } from '../../../daemon/sync/metrics.js';
import { SpoolHarness } from '../../helpers/ingest-spool.js';
import { tempLevelStore } from '../../helpers/stores.js';

function has(text: string, line: string): boolean {
  return text.split('\n').includes(line);
}

describe('labelled metrics exist before their first observation', () => {
  test('a started drop folder serves import and export series at 0 for each watcher format', async () => {
    const h = await SpoolHarness.start({ datafile: {} });
    try {
      const text = await h.metrics.registry.metrics();
      for (const format of ['csv', 'datafile']) {
        assert.ok(has(text, `rollcall_import_duration_seconds_count{format="${format}"} 0`), `import duration for ${format}:\n${text}`);
        assert.ok(has(text, `rollcall_import_duration_seconds_bucket{le="+Inf",format="${format}"} 0`));
        for (const result of ['imported', 'unchanged', 'failed']) assert.ok(has(text, `rollcall_import_rows_total{format="${format}",result="${result}"} 0`));
        for (const result of ['done', 'failed', 'duplicate']) assert.ok(has(text, `rollcall_import_files_total{format="${format}",result="${result}"} 0`));
        for (const result of ['done', 'failed']) assert.ok(has(text, `rollcall_export_files_total{format="${format}",result="${result}"} 0`));
      }
    } finally {
      await h.stop();
    }
  });

  test('the sync engine serves operation and merge series at 0', async () => {
    const stored = await tempLevelStore();
    try {
      const metrics = new Metrics();
      syncMetrics(metrics, stored.store);
      const text = await metrics.registry.metrics();
      for (const op of ['enroll', 'delete']) for (const result of ['ok', 'failed']) assert.ok(has(text, `rollcall_sync_ops_total{op="${op}",result="${result}"} 0`), text);
      for (const result of ['created', 'updated', 'unchanged', 'failed']) assert.ok(has(text, `rollcall_merge_total{result="${result}"} 0`));
    } finally {
      await stored.cleanup();
    }
  });

  test('initialising again (a watcher restarted on reload) keeps what was observed', async () => {
    const metrics = new Metrics();
    const duration = metrics.histogram({ name: 'test_duration_seconds', help: 'test', labelNames: ['format'], buckets: [1] });
    const files = metrics.counter({ name: 'test_files_total', help: 'test', labelNames: ['format', 'result'] });
    metrics.initialise(duration, labelGrid({ format: ['csv'] }));
    metrics.initialise(files, labelGrid({ format: ['csv'], result: ['done', 'failed'] }));
    duration.observe({ format: 'csv' }, 0.5);
    files.inc({ format: 'csv', result: 'done' });
    metrics.initialise(duration, labelGrid({ format: ['csv'] }));
    metrics.initialise(files, labelGrid({ format: ['csv'], result: ['done', 'failed'] }));
    const text = await metrics.registry.metrics();
    assert.ok(has(text, 'test_duration_seconds_count{format="csv"} 1'), text);
    assert.ok(has(text, 'test_files_total{format="csv",result="done"} 1'));
    assert.ok(has(text, 'test_files_total{format="csv",result="failed"} 0'));
  });

  test('labelGrid gives every combination, and none for an empty list', () => {
    assert.deepEqual(labelGrid({ a: ['1', '2'], b: ['x'] }), [{ a: '1', b: 'x' }, { a: '2', b: 'x' }]);
    assert.deepEqual(labelGrid({ a: [] as string[] }), []);
  });
});
