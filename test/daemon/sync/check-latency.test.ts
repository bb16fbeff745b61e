/**
 * The sync latency of changes a check acknowledged (check-latency.ts): a device that already
 * holds what its cursor says it lacks (a takeover, a restart after the device got the changes
 * but before the cursor moved) is found in sync by its first check, which moves the cursor;
 * each change it passes is observed in rollcall_sync_latency_seconds, as a batch's would be.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncHarness, makeUser } from '../../helpers/sync-harness.js';
import { tempLevelStore } from '../../helpers/stores.js';
import { startSimulator } from '../../../simulator/index.js';

async function latencyCount(h: SyncHarness): Promise<number> {
  const text = await h.metrics.registry.getSingleMetricAsString('rollcall_sync_latency_seconds');
  return Number(/^rollcall_sync_latency_seconds_count (\d+)$/m.exec(text)?.[1] ?? 0);
}

test('a check that moves a cursor past changes the device already holds observes their sync latency', async () => {
  const sim = await startSimulator({ devices: [{ id: 4401 }], port: 0 });
  const stored = await tempLevelStore();
  try {
    const first = await SyncHarness.start({ sim, stored, devices: [{ id: 4401 }], followEvents: false });
    let seq: number;
    try {
      seq = await first.put(...Array.from({ length: 30 }, (_, i) => makeUser(String(i + 1))));
      await first.until('fanned out', () => first.engine.status().every((d) => d.cursor >= seq));
      // Observed once the device is handed back (batch-sender.ts), a turn after its cursor moves.
      await first.until('one observation per change fed', async () => (await latencyCount(first)) === 30);
    } finally {
      await first.stop();
    }
    // As an instance that died after the device took the batch but before its cursor moved.
    await stored.store.commit([{ type: 'setCursor', deviceId: 4401, seq: 0 }]);
    const second = await SyncHarness.start({ sim, stored, devices: [{ id: 4401 }], followEvents: false });
    try {
      await second.until('checked and caught up', () => second.engine.status().every((d) => d.cursor >= seq && d.lastCheck?.inSync === true));
      assert.equal(second.engine.status()[0]!.lastCheck?.inSync, true);
      await second.until('latencies observed', async () => (await latencyCount(second)) === 30);
      const calls = (await second.metrics.registry.getSingleMetric('rollcall_gateway_calls_total')!.get()).values;
      assert.equal(calls.filter((v) => v.labels['method'] === 'EnrollMulti').reduce((n, v) => n + v.value, 0), 0, 'the check, not a batch, moved the cursor');
    } finally {
      await second.stop();
    }
  } finally {
    await sim.stop();
    await stored.cleanup();
  }
});
