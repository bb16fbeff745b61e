/**
 * Reliability suite 2, device faults through the simulator (fast form): backoff and
 * quarantine follow the configured policy; under a storm of faults on four devices the
 * healthy ones keep syncing, the faulty ones converge after recovery, and no stream, socket
 * or timer is left behind. The p99 comparison with many samples is in device-faults.long.ts;
 * this prints the figures of its short run.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { makeUser } from '../helpers/sync-harness.js';
import { FaultBench, leaked, percentile, resources, type LogLine } from './fault-bench.js';
import { FAULTY, HEALTHY, runPhases, startFaultBench } from './fault-scenario.js';
import { nextDelay } from '../../daemon/sync/backoff.js';

const backoff = { baseMs: 120, factor: 1.6, maxMs: 400 };
const quarantine = { after: 5, retryMs: 700 };

describe('reliability: device faults', () => {
  test('a failing device backs off as configured, is quarantined after the set number of failures, and recovers on the first success', async () => {
    const b = await FaultBench.create(2, 5001, { backoff, quarantine });
    try {
      await b.put(makeUser('1'));
      await b.until('both in sync', async () => (await b.deviceEqualsStore(5001)) && (await b.deviceEqualsStore(5002)));
      const since = b.logs.length;
      // UNAVAILABLE: the device's trouble (a code that says nothing about the device, such as
      // INTERNAL, is split to find a user at fault first: poisoned-user.test.ts).
      await b.gw.setFault(5001, { failNextCode: status.UNAVAILABLE, failNextCount: 1_000_000 });
      await b.put(makeUser('2'));
      const failures = (): LogLine[] => b.logs.slice(since).filter((l) => l['device'] === 5001 && typeof l['retryInMs'] === 'number');
      await b.until('quarantined and retried twice in quarantine', () => failures().length >= quarantine.after + 2, 30_000).catch((error: unknown) => {
        const tail = b.logs.slice(-12).map((l) => `${l.time} ${l.level} ${l.msg} ${JSON.stringify({ device: l['device'], retryInMs: l['retryInMs'] })}`);
        const d = b.engine.device(5001);
        const state = d && { busy: d.busy, retryAt: d.retryAt, checkDue: d.checkDue, connected: d.connected, alone: d.alone, aloneUntil: d.aloneUntil };
        throw new Error(`${String(error)}\nlast log lines:\n${tail.join('\n')}\nnow ${Date.now()}, device 5001: ${JSON.stringify(state)}`);
      });
      await b.until('5002 unaffected', () => b.deviceEqualsStore(5002));

      const seen = failures().slice(0, quarantine.after + 2);
      for (const [i, line] of seen.entries()) {
        const n = line['failures'] as number;
        assert.equal(n, i + 1, 'failures are consecutive');
        const retry = line['retryInMs'] as number;
        if (n < quarantine.after) {
          const nominal = nextDelay(n - 1, { ...backoff, jitter: 0 });
          assert.ok(retry >= Math.floor(nominal * 0.8) - 2 && retry <= Math.min(backoff.maxMs, Math.ceil(nominal * 1.2)), `failure ${n}: retry in ${retry} ms, nominal ${nominal} ± 20 %`);
        } else {
          assert.ok(retry > quarantine.retryMs - 5 && retry <= quarantine.retryMs, `failure ${n} (quarantined): retry in ${retry} ms, expected ${quarantine.retryMs}`);
        }
        // A retry never comes before its delay (a lower bound: a busy machine may only be later).
        const nextLine = seen[i + 1];
        if (nextLine) assert.ok(nextLine.time - line.time >= retry - 2, `failure ${n + 1} came ${nextLine.time - line.time} ms after failure ${n}, before its ${retry} ms delay`);
      }
      const events = await b.store.queryEvents({ kind: 'device.quarantined' });
      assert.equal(events.filter((e) => e.deviceId === 5001).length, 1, 'one quarantine event');
      assert.match(await b.metrics.registry.metrics(), /rollcall_device_quarantined\{device="5001"\} 1/);

      await b.gw.clearFaults(5001);
      await b.until('5001 converges after recovery', () => b.deviceEqualsStore(5001), 30_000);
      await b.until('quarantine ended', () => {
        const s = b.engine.status().find((d) => d.id === 5001)!;
        return !s.quarantined && s.failures === 0;
      });
      assert.match(await b.metrics.registry.metrics(), /rollcall_device_quarantined\{device="5001"\} 0/);
      console.log(`# device faults: backoff/quarantine checked over ${seen.length} consecutive failures (after ${quarantine.after} → quarantined, retry ${quarantine.retryMs} ms)`);
    } finally {
      await b.stop();
    }
  });

  test('storms, hung calls, error bursts, a slow and a full device: healthy devices keep up, faulty ones converge, nothing leaks', { timeout: 240_000 }, async () => {
    const before = resources();
    const b = await startFaultBench();
    let stopped = false;
    try {
      const figures = await runPhases(b, 2, 12, 10);
      for (const id of FAULTY) await b.until(`faulty device ${id} converges after recovery`, () => b.deviceEqualsStore(id), 60_000);
      for (const id of HEALTHY) assert.ok(await b.deviceEqualsStore(id), `healthy device ${id}`);
      const clean = percentile(figures.clean, 99);
      const faulty = percentile(figures.faulty, 99);
      console.log(
        `# device faults (short run): ${figures.commits} commits, ${figures.clean.length + figures.faulty.length} healthy-device samples; ` +
          `p99 clean ${clean.toFixed(1)} ms, with faults ${faulty.toFixed(1)} ms, ratio ${(faulty / clean).toFixed(2)} (checked against 1.2 in device-faults.long.ts)`,
      );
      await b.stop();
      stopped = true;
      // Closed sockets release their handles over the next turns of the loop: look again for a while.
      for (let i = 0; i < 100 && leaked(before, resources()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(leaked(before, resources()), [], 'open handles and timers back to the baseline');
    } finally {
      if (!stopped) await b.stop();
    }
  });
});
