/**
 * Reliability suite 6, the mass-removal guard: a plan that would remove more than the
 * configured share of a device's users waits for an operator's confirmation, and nothing
 * is removed before it. "Nothing" is read from each device's own event log: every delete
 * through the gateway logs a DELETE_SUCCESS (or DELETE_ALL_SUCCESS) event, so a removal that
 * happened and was undone would still show there, not only in the final user count.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncHarness, makeUser } from '../helpers/sync-harness.js';
import { UserEventCode, SUB_CODE_BY_SERVER, type RunningSimulator } from '../../simulator/index.js';
import { toUserInfo } from '../../plugins/transports/gsdk/user-info.js';

const DEVICES = [1001, 1002, 1003];
const USERS = 400;
const guard = { share: 0.1, minimum: 10 };

function ids(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(from + i));
}

/** Deletes a device logged for calls that came through the gateway (ours). */
function serverDeletes(sim: RunningSimulator, deviceId: number): number {
  return sim
    .device(deviceId)
    .events()
    .filter((e) => e.subCode === SUB_CODE_BY_SERVER && (e.eventCode === UserEventCode.DELETE_SUCCESS || e.eventCode === UserEventCode.DELETE_ALL_SUCCESS)).length;
}

async function seeded(h: SyncHarness, count: number): Promise<string[]> {
  const all = ids(1, count);
  for (let i = 0; i < all.length; i += 100) await h.put(...all.slice(i, i + 100).map((id) => makeUser(id)));
  for (const device of h.sim.deviceIds) await h.until(`device ${device} seeded`, () => h.deviceEquals(device, all), 30_000);
  return all;
}

describe('reliability: mass-removal guard', () => {
  test('removals spread over six feed batches are counted together, held across a restart, and applied only after confirm', async () => {
    // Batches of 10: the 60 removals span six feed batches, each below the share alone.
    const sync = { massRemoval: guard, batch: { maxUsers: 10, maxBytes: 3 * 1024 * 1024 } };
    const h = await SyncHarness.start({ devices: DEVICES.map((id) => ({ id })), sync });
    let restarted: SyncHarness | undefined;
    try {
      const all = await seeded(h, USERS);
      await h.engine.verify({}); // the guard's count is fresh (see the last two tests for when it is not)
      // 60 removals (15 %) in one commit.
      await h.remove(...ids(1, 60));
      await h.until('every device held', () => h.engine.status().every((d) => d.heldRemoval !== undefined));
      for (const device of DEVICES) {
        assert.equal(serverDeletes(h.sim, device), 0, `device ${device}: no delete reached it before confirmation`);
        assert.equal(h.onDevice(device).size, USERS);
        const held = h.engine.status().find((d) => d.id === device)!.heldRemoval!;
        assert.equal(held.removals, 60, `device ${device}: the hold counts everything pending, not one batch`);
        assert.equal(held.holding, USERS);
      }

      // A restart (same store, same gateway) does not release the hold.
      await h.engine.stop();
      await h.follower?.stop();
      await h.transport.stop();
      restarted = await SyncHarness.start({ sim: h.sim, stored: h.stored, sync });
      await restarted.until('held again after the restart', () => restarted!.engine.status().every((d) => d.heldRemoval !== undefined));
      // A check on (re)connect must not remove them either.
      const checks = await restarted.engine.verify({ repair: true });
      assert.ok(checks.every((c) => c.removed === 0), JSON.stringify(checks));
      for (const device of DEVICES) assert.equal(serverDeletes(h.sim, device), 0, `device ${device}: nothing removed across the restart`);

      const released = await restarted.engine.confirmRemovals(1002);
      assert.deepEqual(released, [1002]);
      const remaining = all.slice(60);
      await restarted.until('1002 after confirm', () => restarted!.deviceEquals(1002, remaining), 30_000);
      assert.equal(serverDeletes(h.sim, 1002), 60, 'exactly the confirmed users were deleted from 1002');
      for (const device of [1001, 1003]) {
        assert.equal(serverDeletes(h.sim, device), 0, `device ${device} stays held`);
        assert.equal(h.onDevice(device).size, USERS);
      }
      console.log(`# mass-removal: ${DEVICES.length} devices held 60/${USERS} removals across a restart; 0 deletes before confirm; 60 after`);
    } finally {
      await restarted?.stop();
      await h.stop();
    }
  });

  test('a check that finds many users unknown to the database holds their removal too', async () => {
    const h = await SyncHarness.start({ devices: [{ id: 2001 }], followEvents: false, sync: { massRemoval: guard } });
    try {
      await seeded(h, 100);
      const before = serverDeletes(h.sim, 2001);
      // 30 users the database never had: enrolled at the device while its events were lost.
      for (const id of ids(5000, 30)) h.sim.device(2001).enrollAtDevice(toUserInfo(makeUser(id)));
      const [result] = await h.engine.verify({ deviceId: 2001, repair: true });
      assert.equal(result!.held, 30, JSON.stringify(result));
      assert.equal(result!.removed, 0);
      assert.equal(serverDeletes(h.sim, 2001), before, 'the check removed nothing');
      assert.equal(h.onDevice(2001).size, 130);
      await h.engine.confirmRemovals(2001);
      const [after] = await h.engine.verify({ deviceId: 2001, repair: true });
      assert.equal(after!.removed, 30, JSON.stringify(after));
      assert.ok(await h.deviceEquals(2001, ids(1, 100)));
    } finally {
      await h.stop();
    }
  });

  // The share is of the users the device holds now. These two cases fix the count the guard
  // compares with at a known moment (a check), then change the device through the feed.
  test('a removal within the share of what the device holds now is not held', async () => {
    const h = await SyncHarness.start({ devices: [{ id: 3001 }], sync: { massRemoval: guard } });
    try {
      await h.until('the on-connect check of the empty device', () => h.engine.status()[0]!.lastCheck !== undefined);
      await seeded(h, 200);
      await h.remove(...ids(1, 15)); // 7.5 %: within the share, above the minimum
      await h.until('removed or held', async () => (await h.deviceEquals(3001, ids(16, 185))) || h.engine.status()[0]!.heldRemoval !== undefined);
      assert.equal(h.engine.status()[0]!.heldRemoval, undefined, `15 of 200 users held: ${JSON.stringify(h.engine.status()[0]!.heldRemoval)}`);
      assert.equal(serverDeletes(h.sim, 3001), 15);
    } finally {
      await h.stop();
    }
  });

  test('after allowed removals, a removal of more than the share of what is left is held', async () => {
    const h = await SyncHarness.start({ devices: [{ id: 3101 }], sync: { massRemoval: guard } });
    try {
      await seeded(h, 400);
      await h.engine.verify({ deviceId: 3101 }); // the guard now knows: 400 users
      await h.remove(...ids(1, 40)); // exactly 10 %: allowed
      await h.until('first removal applied', () => h.deviceEquals(3101, ids(41, 360)));
      await h.remove(...ids(41, 40)); // 40 of the 360 left: 11 %, more than the share
      await h.until('removed or held', async () => (await h.deviceEquals(3101, ids(81, 320))) || h.engine.status()[0]!.heldRemoval !== undefined);
      assert.equal(serverDeletes(h.sim, 3101), 40, 'the second removal (40 of the 360 left) reached the device without confirmation');
      assert.ok(h.engine.status()[0]!.heldRemoval, 'held');
    } finally {
      await h.stop();
    }
  });
});
