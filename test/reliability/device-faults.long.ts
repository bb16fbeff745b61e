/**
 * Reliability suite 2, long form: the healthy devices' p99 sync latency with four faulty
 * devices beside them stays within 1.2× of the same workload without faults. Phases alternate
 * (clean, faulty, clean, faulty, ...) in one run so that the machine's background load falls
 * on both sides alike. Run by `npm run test:reliability`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leaked, percentile, resources } from './fault-bench.js';
import { FAULTY, HEALTHY, runPhases, startFaultBench } from './fault-scenario.js';

const PHASES = 24;
const COMMITS_PER_PHASE = 40;
const USERS_PER_COMMIT = 10;

test('healthy devices: p99 sync latency under device faults within 1.2× of a fault-free run', { timeout: 1_200_000 }, async () => {
  const before = resources();
  const b = await startFaultBench();
  let stopped = false;
  try {
    const figures = await runPhases(b, PHASES, COMMITS_PER_PHASE, USERS_PER_COMMIT);
    for (const id of FAULTY) await b.until(`faulty device ${id} converges after recovery`, () => b.deviceEqualsStore(id), 120_000);
    for (const id of HEALTHY) assert.ok(await b.deviceEqualsStore(id), `healthy device ${id}`);
    const row = (name: string, values: number[]) =>
      `${name}: n=${values.length} p50 ${percentile(values, 50).toFixed(1)} p90 ${percentile(values, 90).toFixed(1)} p99 ${percentile(values, 99).toFixed(1)} max ${Math.max(...values).toFixed(1)} ms`;
    const ratio = percentile(figures.faulty, 99) / percentile(figures.clean, 99);
    console.log(`# device faults (long): ${figures.commits} commits of ${USERS_PER_COMMIT} users, ${PHASES} alternating phases, healthy devices ${HEALTHY.join(',')}`);
    console.log(`#   ${row('fault-free', figures.clean)}`);
    console.log(`#   ${row('with faults', figures.faulty)}`);
    const cut = (await b.metrics.registry.getSingleMetric('rollcall_sync_calls_cut_total')?.get())?.values[0]?.value ?? 0;
    console.log(`#   p99 ratio ${ratio.toFixed(2)} (limit 1.2); shared calls cut at their soft deadline: ${cut}`);
    await b.stop();
    stopped = true;
    for (let i = 0; i < 100 && leaked(before, resources()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(leaked(before, resources()), [], 'open handles and timers back to the baseline');
    assert.ok(ratio <= 1.2, `healthy devices' p99 with faults is ${ratio.toFixed(2)}× the fault-free p99`);
  } finally {
    if (!stopped) await b.stop();
  }
});
