import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Metrics } from '../../../daemon/obs/metrics.js';
import type { PluginContext } from '../../../daemon/plugins/api.js';
import memoryStorage from '../../../plugins/storage/memory/index.js';
import { MemoryStore } from '../../../plugins/storage/memory/memory-store.js';
import { storeSuite } from '../../contract/store.suite.js';

storeSuite('memory', async () => {
  const store = new MemoryStore();
  await store.start();
  // Stopping keeps a memory store's data, so the same instance started again is a reopen.
  const reopen = async () => {
    await store.stop();
    await store.start();
    return store;
  };
  return { store, reopen, cleanup: () => store.stop() };
});

test('the memory plugin definition: kind, name, an empty strict schema, a closed store until start', async () => {
  assert.equal(memoryStorage.kind, 'storage');
  assert.equal(memoryStorage.name, 'memory');
  assert.deepEqual(memoryStorage.configSchema.parse({}), {});
  assert.equal(memoryStorage.configSchema.safeParse({ path: '/x' }).success, false);
  const controller = new AbortController();
  const ctx: PluginContext = {
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    signal: controller.signal,
    dataDir: '/nonexistent',
    lookup: () => undefined,
  };
  const store = memoryStorage.create(ctx, {});
  assert.equal(store.health().ok, false);
  await store.start(controller.signal);
  assert.equal(store.health().ok, true);
  assert.equal(store.currentSeq(), 0);
  await store.stop();
  assert.equal(store.health().ok, false);
});
