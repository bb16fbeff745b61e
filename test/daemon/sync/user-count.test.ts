/**
 * The devices table's USERS column (DeviceStatus.userCount) follows what acknowledged
 * batches left on the device, not only what the last check saw (issue 14 item 5): after a
 * fan-out with no check since, it shows the users the device now holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeUser, SyncHarness } from '../../helpers/sync-harness.js';

const DEVICE = 1001;

test('after a fan-out and after deletes, the user count is what the device holds, with no check between', async () => {
  const h = await SyncHarness.start({ devices: [{ id: DEVICE }], followEvents: false });
  try {
    const status = () => h.engine.status().find((d) => d.id === DEVICE);
    // The check on connect saw an empty device.
    await h.until('the first check', () => status()?.lastCheck !== undefined);
    assert.equal(status()?.userCount, 0);
    const checkedAt = status()?.lastCheck?.at;

    // 1,200 users: three feed batches of at most 500 (TEST_SYNC_CONFIG).
    const ids = Array.from({ length: 1200 }, (_, i) => String(10_000 + i));
    for (let i = 0; i < ids.length; i += 300) await h.put(...ids.slice(i, i + 300).map((id) => makeUser(id)));
    await h.until('the fan-out to reach the device', () => status()?.cursor === h.store.currentSeq());
    await h.until('the user count to follow', () => status()?.userCount === 1200);
    assert.equal(h.sim.device(DEVICE).userCount, 1200);

    // Fewer than massRemoval.share (10 %), so that no confirmation is asked.
    await h.remove(...ids.slice(0, 100));
    await h.until('the deletes to reach the device', () => status()?.cursor === h.store.currentSeq());
    await h.until('the user count to follow the deletes', () => status()?.userCount === 1100);
    assert.equal(h.sim.device(DEVICE).userCount, 1100);

    // No check ran meanwhile: the count came from the acknowledgements.
    assert.equal(status()?.lastCheck?.at, checkedAt);
    // And it is stored with the device, as a restart would read it.
    await h.until('the count to be stored', async () => (await h.store.listDevices()).find((d) => d.id === DEVICE)?.userCount === 1100);
  } finally {
    await h.stop();
  }
});
