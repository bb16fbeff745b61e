import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { costRatio, median, percentile, round, summarize } from '../../../bench/lib/stats.js';

describe('percentile (nearest rank)', () => {
  const cases: { values: number[]; p: number; expected: number }[] = [
    { values: [5], p: 50, expected: 5 },
    { values: [5], p: 99, expected: 5 },
    { values: [1, 2, 3, 4], p: 50, expected: 2 },
    { values: [4, 3, 2, 1], p: 75, expected: 3 },
    { values: [1, 2, 3, 4], p: 100, expected: 4 },
    { values: [1, 2, 3, 4], p: 0, expected: 1 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 95, expected: 95 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 99, expected: 99 },
    { values: Array.from({ length: 200 }, (_, i) => 200 - i), p: 99, expected: 198 },
  ];
  for (const c of cases) {
    test(`p${c.p} of ${c.values.length} values is ${c.expected}`, () => assert.equal(percentile(c.values, c.p), c.expected));
  }

  test('refuses no samples and percentiles outside 0..100', () => {
    assert.throws(() => percentile([], 50), RangeError);
    assert.throws(() => percentile([1], 101), RangeError);
    assert.throws(() => percentile([1], Number.NaN), RangeError);
  });

  test('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    assert.deepEqual(values, [3, 1, 2]);
  });
});

test('summarize gives every figure of the samples', () => {
  assert.deepEqual(summarize([4, 1, 3, 2]), { n: 4, min: 1, p50: 2, p95: 4, p99: 4, max: 4, mean: 2.5 });
});

test('costRatio is measured over baseline and refuses a baseline that is not positive', () => {
  assert.equal(costRatio(3, 2), 1.5);
  assert.throws(() => costRatio(1, 0), RangeError);
  assert.throws(() => costRatio(1, -1), RangeError);
});

describe('round keeps three significant digits', () => {
  const cases: [number, number][] = [
    [0, 0],
    [1234.5, 1235],
    [123.45, 123],
    [12.345, 12.3],
    [1.2345, 1.23],
    [0.012345, 0.0123],
    [-1.2345, -1.23],
  ];
  for (const [value, expected] of cases) test(`${value} → ${expected}`, () => assert.equal(round(value), expected));
});
