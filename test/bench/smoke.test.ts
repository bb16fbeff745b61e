/**
 * The benchmarks at toy sizes, so that a change elsewhere that breaks one is seen by
 * `npm test` rather than at the next benchmark run. Nothing is timed or recorded here:
 * it checks that each path runs to the end and reports what it should.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fanout } from '../../bench/fanout.js';
import { latency } from '../../bench/latency.js';
import { reconcile } from '../../bench/reconcile.js';
import type { BenchContext } from '../../bench/lib/run.js';

function context(values: BenchContext['values']): BenchContext {
  return { profile: 'quick', values, log: () => undefined };
}

test('fan-out at toy size: rollcall, floor and naive runs all reach every device', async () => {
  const outcome = await fanout.run(context({ users: '60', devices: '2', repeat: '1', 'naive-calls': '10' }));
  assert.equal(outcome.rows.length, 2);
  const [floorRow, naiveRow] = outcome.rows;
  assert.equal(floorRow!.baseline?.label, 'floor: pre-built EnrollMulti batches');
  assert.ok(floorRow!.measured.value > 0 && floorRow!.baseline!.value > 0);
  assert.ok(floorRow!.budget, 'the floor budget is judged at every size');
  assert.match(naiveRow!.baseline!.label, /10 calls timed/);
});

test('fan-out with the large figure at toy size: one round of each, no naive run, every device reached', async () => {
  const outcome = await fanout.run(context({ users: '40', devices: '2', repeat: '1', 'naive-calls': '4', 'large-users': '150', 'large-devices': '3' }));
  assert.equal(outcome.rows.length, 3);
  const largeRow = outcome.rows[2]!;
  assert.equal(largeRow.figure, '150 users → 3 devices, until every device acknowledged');
  assert.ok(largeRow.measured.value > 0 && largeRow.baseline!.value > 0);
  assert.ok(largeRow.budget);
});

test('latency at toy size: every enrollment fans out and is timed', async () => {
  const outcome = await latency.run(context({ devices: '3', enrollments: '3', 'gap-ms': '1' }));
  assert.deepEqual(outcome.rows.map((r) => r.figure.slice(0, 3)), ['p50', 'p95', 'p99']);
  const details = outcome.details as { latencyMs: number[]; roundTripMs: number[] };
  assert.equal(details.latencyMs.length, 3);
  assert.equal(details.roundTripMs.length, 9);
});

test('reconcile at toy size: the engine repairs the drift and both byte counts are real', async () => {
  const outcome = await reconcile.run(context({ users: '600', drift: '0.01' }));
  const [bytes] = outcome.rows;
  const details = outcome.details as { measuredBytes: { sent: number; received: number }; baselineBytes: { sent: number; received: number }; result: { differences: number; inSync: boolean } };
  assert.equal(details.result.differences, 6);
  assert.equal(details.result.inSync, true);
  assert.ok(details.baselineBytes.received > 600 * 8, 'the minimum holds a header list of 600 users');
  assert.ok(bytes!.measured.value >= bytes!.baseline!.value, 'rollcall cannot move less than the minimum');
});
