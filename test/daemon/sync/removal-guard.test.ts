/**
 * The mass-removal guard against a real LevelDB and the simulator over real gRPC (the gsdk
 * transport): what it counts as pending, when it holds a plan back by what the device holds
 * now, and what an operator's confirmation releases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Metrics } from '../../../daemon/obs/metrics.js';
import { tempLevelStore, type TempLevelStore } from '../../helpers/stores.js';
import { RemovalGuard } from '../../../daemon/sync/removal-guard.js';
import { planDevice, type DevicePlan } from '../../../daemon/sync/planner.js';
import type { DeviceState } from '../../../daemon/sync/device-state.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';
import type { SyncConfig } from '../../../daemon/config/schema.js';
import type { GsdkTransport } from '../../../plugins/transports/gsdk/transport.js';
import { startSimulator, type RunningSimulator } from '../../../simulator/index.js';
import { makeUser, pluginContext, putUsers, removeUsers, startGsdkTransport } from '../../helpers/sync-harness.js';
import { deviceGauge, syncParts, type SyncParts } from '../../helpers/sync-parts.js';

const DEVICES = [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009];
const numbered = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

let sim: RunningSimulator;
let transport: GsdkTransport;
const gateway = new AbortController();

before(async () => {
  sim = await startSimulator({ devices: DEVICES.map((id) => ({ id })), port: 0 });
  transport = await startGsdkTransport(pluginContext(pino({ level: 'silent' }), new Metrics(), gateway.signal), sim.address);
});

after(async () => {
  gateway.abort();
  await transport.stop();
  await sim.stop();
});

interface Subject {
  guard: RemovalGuard;
  parts: SyncParts;
  stored: TempLevelStore;
  device: DeviceState;
}

/**
 * A store whose users 1..`synced` the device already holds (enrolled through the transport,
 * its cursor at their seq), the fleet started on the simulator, and the guard.
 */
async function subject(deviceId: number, options: { synced: number; sync?: Partial<SyncConfig>; record?: Partial<DeviceRecord> }): Promise<Subject> {
  const stored = await tempLevelStore();
  const users = numbered(1, options.synced).map((id) => makeUser(id));
  const seq = users.length > 0 ? await putUsers(stored.store, ...users) : 0;
  if (users.length > 0) assert.deepEqual((await transport.enrollUsers([deviceId], users)).ok, [deviceId]);
  await stored.store.commit([
    { type: 'setCursor', deviceId, seq },
    { type: 'putDevice', device: { id: deviceId, source: 'discovered', lastEventId: 0, ...options.record } },
  ]);
  const parts = syncParts({ store: stored.store, transport, sync: options.sync });
  await parts.fleet.start();
  const device = parts.fleet.device(deviceId)!;
  assert.equal(device.cursor, seq);
  assert.equal(device.connected, true);
  return { guard: new RemovalGuard({ ctx: parts.ctx, fleet: parts.fleet, feed: parts.feed }), parts, stored, device };
}

/** The plan the feed makes for the device from its cursor to the head. */
async function planFor({ parts, device }: Subject): Promise<DevicePlan> {
  const items = await parts.feed.read(device.cursor, 10_000, parts.feed.head);
  return planDevice(items, device.record, parts.mode, parts.fleet.rules(device), parts.ctx.config.deviceDeletes);
}

async function heldEvents({ stored, device }: Subject, kind: string) {
  return stored.store.queryEvents({ kind, deviceId: device.id });
}

describe('RemovalGuard.pendingRemovals', () => {
  test('counts every removal pending from the cursor, or the last confirmation, to the head, over several feed pages', async () => {
    const s = await subject(1001, { synced: 0 });
    try {
      const { guard, device, stored } = s;
      const putSeq = await putUsers(stored.store, ...numbered(1, 2500).map((id) => makeUser(id)));
      assert.equal(await guard.pendingRemovals(device), 0, 'upserts are no removals');
      // 2,100 deletes after 400 live users: 2,500 changes, more than one page of the walk.
      const deletedSeq = await removeUsers(stored.store, ...numbered(1, 2100));
      assert.equal(await guard.pendingRemovals(device), 2100);

      device.cursor = putSeq + 1000;
      assert.equal(await guard.pendingRemovals(device), 1100, 'only those after the cursor');
      device.update((r) => ({ ...r, removalConfirmedUpTo: putSeq + 1500 }));
      assert.equal(await guard.pendingRemovals(device), 600, 'only those after the confirmation, when it is later');
      device.update((r) => ({ ...r, removalConfirmedUpTo: putSeq + 500 }));
      assert.equal(await guard.pendingRemovals(device), 1100, 'the cursor, when it is later');

      await removeUsers(stored.store, '2101', '2102', '2103');
      assert.equal(await guard.pendingRemovals(device), 1103, 'a new head is counted again');
      device.cursor = deletedSeq;
      assert.equal(await guard.pendingRemovals(device), 3);
    } finally {
      await s.stored.cleanup();
    }
  });
});

describe('RemovalGuard.holdsBack', () => {
  // Each device holds 100 users; a plan removes `removals` of them.
  const cases: { name: string; removals: number; guard: SyncConfig['massRemoval']; record?: Partial<DeviceRecord>; disconnect?: true; held: boolean }[] = [
    { name: 'past the share but not past the minimum: goes ahead', removals: 8, guard: { share: 0.05, minimum: 10 }, held: false },
    { name: 'past the minimum but not past the share: goes ahead', removals: 15, guard: { share: 0.2, minimum: 10 }, held: false },
    { name: 'past both: held', removals: 15, guard: { share: 0.1, minimum: 10 }, held: true },
    {
      name: 'past both by what the device holds now, though not by the last check\'s count: held',
      removals: 15,
      guard: { share: 0.1, minimum: 10 },
      record: { userCount: 1000 },
      held: true,
    },
    {
      name: 'past the share by the last check\'s count only: goes ahead',
      removals: 15,
      guard: { share: 0.2, minimum: 10 },
      record: { userCount: 20 },
      held: false,
    },
    {
      name: 'a device that does not answer is judged by the last check\'s count',
      removals: 15,
      guard: { share: 0.2, minimum: 10 },
      record: { userCount: 1000 },
      disconnect: true,
      held: false,
    },
  ];
  cases.forEach((c, i) => {
    test(c.name, async () => {
      const deviceId = DEVICES[i + 1]!;
      const s = await subject(deviceId, { synced: 100, sync: { massRemoval: c.guard }, record: c.record });
      try {
        await removeUsers(s.stored.store, ...numbered(1, c.removals));
        if (c.disconnect) sim.device(deviceId).disconnect();
        const plan = await planFor(s);
        assert.equal(plan.remove.length, c.removals);
        assert.equal(await s.guard.holdsBack(s.device, plan), c.held);
        const events = await heldEvents(s, 'sync.removal.held');
        const gauge = await deviceGauge(s.parts.metrics.heldRemovals, deviceId);
        if (c.held) {
          const heldRemoval = { at: s.parts.clock.now, removals: c.removals, holding: 100, upToSeq: s.stored.store.currentSeq() };
          assert.deepEqual(s.device.record.heldRemoval, heldRemoval);
          assert.deepEqual((await s.stored.store.getDevice(deviceId))?.heldRemoval, heldRemoval, 'committed');
          assert.deepEqual(
            events.map((e) => e.detail),
            [{ removals: c.removals, holding: 100 }],
          );
          assert.equal(gauge, c.removals);
          assert.equal(s.device.ready(s.parts.clock.now), false, 'a device with a held removal is not fed');
        } else {
          assert.equal(s.device.record.heldRemoval, undefined);
          assert.equal((await s.stored.store.getDevice(deviceId))?.heldRemoval, undefined);
          assert.deepEqual(events, []);
          assert.equal(gauge, 0);
        }
      } finally {
        if (c.disconnect) sim.device(deviceId).reconnect();
        await s.stored.cleanup();
      }
    });
  });
});

describe('RemovalGuard.confirm', () => {
  test('releases a held removal, records how far it was confirmed and an event; later removals are counted afresh', async () => {
    const deviceId = DEVICES.at(-1)!;
    const s = await subject(deviceId, { synced: 100, sync: { massRemoval: { share: 0.1, minimum: 10 } } });
    try {
      const { guard, device, stored, parts } = s;
      await removeUsers(stored.store, ...numbered(1, 15));
      assert.equal(await guard.holdsBack(device, await planFor(s)), true);
      assert.deepEqual(await guard.confirm(DEVICES[0]), [], 'a device with nothing held is not released');

      await putUsers(stored.store, makeUser('500'));
      const head = stored.store.currentSeq();
      device.checkDue = undefined;
      assert.deepEqual(await guard.confirm(deviceId), [deviceId]);
      assert.equal(device.record.heldRemoval, undefined);
      assert.equal(device.record.removalConfirmedUpTo, head, 'confirmed up to the head at the confirmation');
      const record = await stored.store.getDevice(deviceId);
      assert.equal(record?.heldRemoval, undefined);
      assert.equal(record?.removalConfirmedUpTo, head);
      assert.deepEqual(
        (await heldEvents(s, 'sync.removal.confirmed')).map((e) => e.detail),
        [{ removals: 15 }],
      );
      assert.equal(await deviceGauge(parts.metrics.heldRemovals, deviceId), 0);
      assert.equal(device.ready(parts.clock.now), true, 'fed again');
      assert.equal(device.checkDue, undefined, 'held by the feed (its cursor behind): the feed goes on, no check is due');

      assert.equal(await guard.holdsBack(device, await planFor(s)), false, 'the confirmed plan goes through');
      assert.equal(await guard.pendingRemovals(device), 0);
      assert.deepEqual(await guard.confirm(), [], 'nothing is held any more');

      // A confirmation is not a blank cheque: as many removals again are held again.
      await removeUsers(stored.store, ...numbered(16, 15));
      assert.equal(await guard.pendingRemovals(device), 15);
      assert.equal(await guard.holdsBack(device, await planFor(s)), true);
      assert.equal((await heldEvents(s, 'sync.removal.held')).length, 2);
    } finally {
      await s.stored.cleanup();
    }
  });

  test('a removal held by a check (the cursor already past it) asks for a check once confirmed', async () => {
    const deviceId = DEVICES.at(-2)!;
    const s = await subject(deviceId, { synced: 20 });
    try {
      const { guard, device, stored } = s;
      await guard.hold(device, 20, 20);
      assert.equal(device.record.heldRemoval?.upToSeq, device.cursor);
      device.checkDue = undefined;
      assert.deepEqual(await guard.confirm(), [deviceId], 'confirm() without a device releases every held one');
      assert.equal(device.checkDue, 'headers');
      assert.equal((await stored.store.getDevice(deviceId))?.removalConfirmedUpTo, device.cursor);
    } finally {
      await s.stored.cleanup();
    }
  });
});
