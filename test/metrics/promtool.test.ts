/**
 * Metrics hygiene: what the running daemon serves on /metrics passes `promtool check
 * metrics` (Prometheus's own linter: names, units, _total only on counters, HELP on every
 * family) with no finding at all.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BusyDaemon } from './busy-daemon.js';
import { promtool, promtoolOrSkip } from './promtool.js';

describe('promtool check metrics', () => {
  let busy: BusyDaemon | undefined;
  before(async () => {
    busy = await BusyDaemon.start();
  }, { timeout: 120_000 });
  after(async () => {
    const exit = await busy?.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('/metrics of a working daemon has no lint findings', async (t) => {
    const path = await promtoolOrSkip(t);
    if (path === undefined) return;
    const scrape = await busy!.metrics();
    assert.equal(scrape.status, 200);
    assert.match(scrape.type ?? '', /^text\/plain; version=0\.0\.4/);
    // The scrape holds the daemon's series, not just the process defaults.
    for (const family of ['rollcall_sync_latency_seconds_bucket', 'rollcall_sync_ops_total{', 'rollcall_merge_total{', 'rollcall_device_in_sync{', 'rollcall_gateway_calls_total{']) {
      assert.ok(scrape.text.includes(family), `${family} in the scrape`);
    }
    const result = await promtool(path, ['check', 'metrics'], scrape.text);
    assert.equal(`${result.stdout}${result.stderr}`.trim(), '', 'promtool findings (metric: problem)');
    assert.equal(result.code, 0);
  });

  test('the check reports what promtool finds (a deliberately bad exposition)', async (t) => {
    const path = await promtoolOrSkip(t);
    if (path === undefined) return;
    const bad = [
      '# HELP demo_queue_total Items waiting.',
      '# TYPE demo_queue_total gauge',
      'demo_queue_total 3',
      '# HELP demo_requests Requests served.',
      '# TYPE demo_requests counter',
      'demo_requests 7',
      '',
    ].join('\n');
    const result = await promtool(path, ['check', 'metrics'], bad);
    assert.notEqual(result.code, 0);
    const findings = `${result.stdout}${result.stderr}`;
    assert.match(findings, /demo_queue_total non-counter metrics should not have "_total" suffix/);
    assert.match(findings, /demo_requests counter metrics should have "_total" suffix/);
  });
});
