import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketDelta, bucketQuantile, byLabel, histogramBuckets, parsePrometheusText, sumOf } from '../../../bench/lib/prometheus-text.js';

const TEXT = `# HELP rollcall_device_in_sync 1 when in sync.
# TYPE rollcall_device_in_sync gauge
rollcall_device_in_sync{device="1001"} 1
rollcall_device_in_sync{device="1002"} 0
rollcall_gateway_calls_total{method="GetList",code="OK"} 12
rollcall_gateway_calls_total{method="EnrollMulti",code="OK"} 30 1700000000000
rollcall_gateway_call_duration_seconds_bucket{le="+Inf",method="GetList"} 12
process_resident_memory_bytes 123456789
odd_label{text="a \\"quoted\\", b"} 2
`;

test('samples are read with their labels and values', () => {
  const samples = parsePrometheusText(TEXT);
  assert.equal(samples.length, 7);
  assert.deepEqual(samples[0], { name: 'rollcall_device_in_sync', labels: { device: '1001' }, value: 1 });
  assert.deepEqual(samples.find((s) => s.name === 'odd_label')?.labels, { text: 'a "quoted", b' });
  assert.equal(samples.find((s) => s.name.endsWith('_bucket'))?.labels['le'], '+Inf');
});

test('sums and label maps', () => {
  const samples = parsePrometheusText(TEXT);
  assert.equal(sumOf(samples, 'rollcall_gateway_calls_total'), 42);
  assert.equal(sumOf(samples, 'absent'), 0);
  assert.deepEqual([...byLabel(samples, 'rollcall_device_in_sync', 'device')], [
    ['1001', 1],
    ['1002', 0],
  ]);
});

const HISTOGRAM = (a: number[], b: number[]): string =>
  ['0.1', '1', '10', '+Inf']
    .flatMap((le, i) => [`lat_seconds_bucket{instance="a",le="${le}"} ${a[i]}`, `lat_seconds_bucket{instance="b",le="${le}"} ${b[i]}`])
    .join('\n');

test('histogram buckets are summed over instances, subtracted between reads, and read as quantiles', () => {
  const before = histogramBuckets(parsePrometheusText(HISTOGRAM([10, 10, 10, 10], [0, 0, 0, 0])), 'lat_seconds');
  const after = histogramBuckets(parsePrometheusText(HISTOGRAM([60, 90, 100, 100], [40, 90, 110, 110])), 'lat_seconds');
  assert.deepEqual([...after], [[0.1, 100], [1, 180], [10, 210], [Infinity, 210]]);
  const delta = bucketDelta(after, before);
  assert.deepEqual([...delta], [[0.1, 90], [1, 170], [10, 200], [Infinity, 200]]);
  // rank 100 of 200: in (0.1, 1], 10 of its 80 observations in
  assert.deepEqual(bucketQuantile(delta, 0.5), { value: 0.1 + 0.9 * (10 / 80), bucketLe: 1, count: 200 });
  // rank 198: in (1, 10], 28 of its 30
  const p99 = bucketQuantile(delta, 0.99)!;
  assert.equal(p99.bucketLe, 10);
  assert.ok(Math.abs(p99.value - (1 + 9 * (28 / 30))) < 1e-9);
  assert.equal(bucketQuantile(bucketDelta(before, before), 0.99), undefined);
  const overflow = new Map([[1, 1], [Infinity, 10]]);
  assert.deepEqual(bucketQuantile(overflow, 0.99), { value: 1, bucketLe: Infinity, count: 10 });
});
