import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byLabel, parsePrometheusText, sumOf } from '../../../bench/lib/prometheus-text.js';

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
