/**
 * A device of 500,000 users (issue 14 item 5): its header check succeeds with the default
 * gateway config (GetList's single answer, about 6 MB, is over the old 4 MiB limit) and
 * reports it in sync; with a receive limit too small for it, the check fails with an error
 * that names the device and `gateway.maxReceiveBytes`, never silently. The device and the
 * database are filled beforehand with plain EnrollMulti batches and store commits (a setup,
 * not what is tested). Its time is measured in bench/ (`reconcile`'s large-device case), not here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetListResponse } from '../../../proto/gen/gsdk/user.js';
import { startSimulator, type RunningSimulator } from '../../../simulator/index.js';
import { populateDevices } from '../../../bench/lib/device-ops.js';
import { GatewayClient } from '../../../bench/lib/gateway-client.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import { putUsers, SyncHarness } from '../../helpers/sync-harness.js';
import { tempLevelStore, type TempLevelStore } from '../../helpers/stores.js';

const DEVICE = 1001;
const USERS = 500_000;
const CHUNK = 5_000;
const OLD_LIMIT = 4 * 1024 * 1024;

/** Bare users (an ID and nothing else), to keep the setup small: their list is still about 5 MB. */
function bareUsers(count: number, first: number): User[] {
  return Array.from({ length: count }, (_, i) => emptyUser(String(100_000 + first + i)));
}

describe('a device of 500,000 users', () => {
  let sim: RunningSimulator;
  let stored: TempLevelStore;

  before(async () => {
    sim = await startSimulator({ devices: [{ id: DEVICE, maxUsers: USERS }], port: 0 });
    stored = await tempLevelStore();
    const gateway = new GatewayClient(sim.address);
    const t0 = performance.now();
    try {
      await gateway.ready();
      for (let first = 0; first < USERS; first += CHUNK) {
        const users = bareUsers(CHUNK, first);
        await putUsers(stored.store, ...users);
        await populateDevices(gateway, [DEVICE], users, 1000);
      }
    } finally {
      gateway.close();
    }
    assert.equal(sim.device(DEVICE).userCount, USERS);
    // As after a restart: the device was fed up to the head before, so only the check runs
    // (no feed task re-sends the 500,000 users meanwhile).
    await stored.store.commit([
      { type: 'putDevice', device: { id: DEVICE, source: 'discovered', lastEventId: 0 } },
      { type: 'setCursor', deviceId: DEVICE, seq: stored.store.currentSeq() },
    ]);
    if (process.env['ROLLCALL_TEST_TIMES']) console.error(`setup ${Math.round(performance.now() - t0)} ms`);
  });

  after(async () => {
    await stored?.cleanup();
    await sim?.stop();
  });

  test('a header check with the default gateway config succeeds and finds it in sync', async () => {
    const h = await SyncHarness.start({ sim, stored, followEvents: false, sync: { reconcile: { onConnect: false, intervalMs: 0, deepIntervalMs: 0, pageSize: 100 } } });
    try {
      await h.until('the device to be connected', () => h.engine.status().some((d) => d.id === DEVICE && d.connected));
      // The list really is over the limit rollcall used to receive.
      const list = await h.transport.gateway.getList(DEVICE);
      assert.equal(list.length, USERS);
      assert.ok(GetListResponse.encode({ hdrs: list }).finish().length > OLD_LIMIT);

      const [result] = await h.engine.verify({ deviceId: DEVICE });
      assert.equal(result?.error, undefined, result?.error);
      assert.equal(result?.inSync, true);
      assert.equal(result?.differences, 0);
      const [status] = h.engine.status().filter((d) => d.id === DEVICE);
      assert.equal(status?.userCount, USERS);
    } finally {
      await h.stop();
    }
  });

  test('with a receive limit too small for its list, the check fails naming the device and gateway.maxReceiveBytes', async () => {
    const h = await SyncHarness.start({
      sim,
      stored,
      followEvents: false,
      gateway: { maxReceiveBytes: OLD_LIMIT },
      sync: { reconcile: { onConnect: false, intervalMs: 0, deepIntervalMs: 0, pageSize: 100 } },
    });
    try {
      await h.until('the device to be connected', () => h.engine.status().some((d) => d.id === DEVICE && d.connected));
      const [result] = await h.engine.verify({ deviceId: DEVICE });
      assert.equal(result?.inSync, false);
      assert.match(result?.error ?? '', new RegExp(`GetList on device ${DEVICE}`));
      assert.match(result?.error ?? '', /gateway\.maxReceiveBytes \(4194304 bytes\)/);
      const [status] = h.engine.status().filter((d) => d.id === DEVICE);
      assert.equal(status?.inSync, false);
      assert.match(status?.lastError ?? '', /gateway\.maxReceiveBytes/);
    } finally {
      await h.stop();
    }
  });
});
