/**
 * observeMany against prom-client itself: a value observed n times at once is scraped as n
 * calls of `observe` are (buckets, count, sum), on both sides of every bucket bound, past
 * the last bound, and after the histogram was zeroed or reset; and its fallback (a histogram
 * that does not look as prom-client 15 keeps it) calls `observe` n times.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { observeMany } from '../../../daemon/obs/observe-many.js';
import { LATENCY_BUCKETS } from '../../../daemon/sync/metrics.js';

function pair(): { one: Histogram<never>; many: Histogram<never>; registry: Registry } {
  const registry = new Registry();
  const one = new Histogram({ name: 'one_seconds', help: 'h', buckets: LATENCY_BUCKETS, registers: [registry] });
  const many = new Histogram({ name: 'many_seconds', help: 'h', buckets: LATENCY_BUCKETS, registers: [registry] });
  return { one, many, registry };
}

/** The scrape of `h` as name-free lines: bucket and count lines exactly, the sum to 9 digits. */
async function scrape(h: Histogram<never>): Promise<string[]> {
  const { values } = await h.get();
  return values.map((v) => `${v.metricName!.replace(/^[a-z]+_seconds/, '')}${JSON.stringify(v.labels)} ${v.metricName!.endsWith('_sum') ? v.value.toPrecision(9) : v.value}`);
}

describe('observeMany', () => {
  test('n observations at once scrape as n calls of observe', async () => {
    const { one, many } = pair();
    const values = [0, 0.005, 0.0050001, 0.01, 0.3, 1, 2.5, 59.9, 60, 61, 3600];
    for (const [i, value] of values.entries()) {
      const n = (i % 4) * 1000 + 1;
      for (let k = 0; k < n; k++) one.observe(value);
      observeMany(many, value, n);
    }
    observeMany(many, 1, 0);
    assert.deepEqual(await scrape(many), await scrape(one));
    assert.equal((await many.get()).values.find((v) => v.metricName === 'many_seconds_count')!.value, values.reduce((sum, _, i) => sum + (i % 4) * 1000 + 1, 0));
  });

  test('after zero() and reset() it still counts as observe does', async () => {
    const { one, many } = pair();
    one.zero({});
    many.zero({});
    one.observe(0.2);
    one.observe(0.2);
    observeMany(many, 0.2, 2);
    assert.deepEqual(await scrape(many), await scrape(one));
    one.reset();
    many.reset();
    for (let k = 0; k < 7; k++) one.observe(12);
    observeMany(many, 12, 7);
    assert.deepEqual(await scrape(many), await scrape(one));
  });

  test('a histogram kept some other way gets n calls of observe', () => {
    const seen: number[] = [];
    const other = { observe: (value: number) => seen.push(value) } as unknown as Histogram<never>;
    observeMany(other, 0.5, 3);
    assert.deepEqual(seen, [0.5, 0.5, 0.5]);
  });
});
