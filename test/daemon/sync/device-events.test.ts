/**
 * Where reading a device's event log starts, and what holds it (issue 13 items 5, 6), with
 * the simulator over real gRPC and a real LevelDB: a device first seen with a long history
 * replays none of it; a cleared or reset log starts a new baseline and later edits are
 * still merged; an event whose user cannot be read is skipped after a bounded number of
 * tries and the device's later events go on.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SyncHarness, makeUser, putUsers } from '../../helpers/sync-harness.js';
import { DeviceState } from '../../../daemon/sync/device-state.js';
import { tempLevelStore } from '../../helpers/stores.js';
import { toUserInfo } from '../../../plugins/transports/gsdk/user-info.js';
import { CardType } from '../../../daemon/model/user.js';
import { startSimulator } from '../../../simulator/index.js';

const card = (n: number) => ({ type: CardType.CSN, data: Buffer.alloc(32, n % 256).toString('base64') });
const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));
const INTERNAL = 13;
const UNAVAILABLE = 14;
const DEVICE_UPDATES = 'all-devices-with-device-updates';

describe('first contact', () => {
  test('a device that joins with 10,000 old events (enrolls and deletes made at it) replays none of them', async () => {
    const sim = await startSimulator({ devices: [{ id: 7001 }], port: 0 });
    const stored = await tempLevelStore();
    let h: SyncHarness | undefined;
    try {
      const users = ids(1, 20).map((id) => makeUser(id, { cards: [card(Number(id))] }));
      await putUsers(stored.store, ...users);
      // Before rollcall ever sees the device: 5,000 enrolled at it, 4,990 of them deleted
      // again (10 of those the database holds), and the 10 left edited (to what the database has).
      const door = sim.device(7001);
      for (const id of ids(1, 5000)) door.enrollAtDevice(toUserInfo(Number(id) <= 20 ? users[Number(id) - 1]! : makeUser(id)));
      for (const id of ids(11, 4990)) door.deleteAtDevice([id]);
      for (const user of users.slice(0, 10)) door.updateAtDevice(toUserInfo(user));
      assert.equal(door.state().lastEventID, 10_000);

      h = await SyncHarness.start({ sim, stored, mode: DEVICE_UPDATES });
      const record = await h.store.getDevice(7001);
      assert.deepEqual({ ...record?.eventBaseline, at: 0 }, { eventId: 10_001, at: 0, reason: 'first-contact' });
      assert.ok((record?.lastEventId ?? 0) >= 10_000);
      // The header check that follows gives the device what it lacks.
      await h.until('device 7001 equal', () => h!.deviceEquals(7001, ids(1, 20)), 30_000);
      await h.until('checked in sync', () => h!.engine.status().every((d) => d.inSync));
      // A replay would have logged 4,990 deletes at the device and merged the 5,010 enrolls and edits.
      assert.equal((await h.store.queryEvents({ kind: 'user.delete.device' })).length, 0);
      assert.equal((await h.store.queryEvents({ kind: 'user.update.device' })).length, 0);
      assert.equal((await h.store.queryEvents({ kind: 'user.enroll.device' })).length, 0);
      const metrics = await h.metrics.registry.metrics();
      assert.doesNotMatch(metrics, /rollcall_merge_total\{result="[a-z]+"\} [1-9]/);
      const baselines = await h.store.queryEvents({ kind: 'device.events.baseline' });
      assert.equal(baselines.length, 1);
      assert.equal(baselines[0]?.detail?.['reason'], 'first-contact');

      // What is done at the device from now on is read.
      door.updateAtDevice(toUserInfo(makeUser('5', { name: 'Door name', cards: [card(5), card(99)] })));
      await h.until('edit merged', async () => (await h!.store.getUser('5'))?.cards.length === 2);
    } finally {
      await h?.stop();
      await sim.stop();
      await stored.cleanup();
    }
  });
});

describe('log resets', () => {
  test('a log cleared at the device (0x4200) is read from the reset on; later edits are merged', async () => {
    const h = await SyncHarness.start({ mode: DEVICE_UPDATES });
    try {
      await h.put(...ids(1, 3).map((id) => makeUser(id)));
      for (const d of [1001, 1002, 1003]) await h.until(`device ${d}`, () => h.deviceEquals(d, ids(1, 3)));
      await h.until('acknowledgements read', async () => ((await h.store.getDevice(1001))?.lastEventId ?? 0) >= 3);
      const before = (await h.store.getDevice(1001))!.lastEventId;
      const reset = h.sim.device(1001).resetEventLog(0x4200);
      assert.equal(reset?.ID, 1);
      await h.until('new baseline', async () => (await h.store.getDevice(1001))?.eventBaseline?.reason === 'log-reset');
      const record = (await h.store.getDevice(1001))!;
      assert.equal(record.eventBaseline?.eventId, 2, 'read from the event after the reset');
      const logged = await h.store.queryEvents({ kind: 'device.events.baseline', deviceId: 1001 });
      assert.equal(logged.at(-1)?.detail?.['previousEventId'], before);

      h.sim.device(1001).updateAtDevice(toUserInfo(makeUser('2', { cards: [card(2)] })));
      h.sim.device(1001).enrollAtDevice(toUserInfo(makeUser('40', { name: 'New at the door' })));
      await h.until('edit merged', async () => (await h.store.getUser('2'))?.cards.length === 1);
      await h.until('enroll merged', async () => (await h.store.getUser('40'))?.name === 'New at the door');
      for (const d of [1002, 1003]) await h.until(`device ${d} has both`, () => h.deviceEquals(d, [...ids(1, 3), '40']));
    } finally {
      await h.stop();
    }
  });

  test('a database reset (0x4501) empties the device: a new baseline, and the check puts every user back', async () => {
    const h = await SyncHarness.start({ mode: DEVICE_UPDATES });
    try {
      await h.put(...ids(1, 5).map((id) => makeUser(id)));
      await h.until('device 1002', () => h.deviceEquals(1002, ids(1, 5)));
      await h.until('acknowledgements read', async () => ((await h.store.getDevice(1002))?.lastEventId ?? 0) >= 5);
      h.sim.device(1002).resetEventLog(0x4501);
      assert.equal(h.sim.device(1002).userCount, 0);
      await h.until('new baseline', async () => (await h.store.getDevice(1002))?.eventBaseline?.reason === 'log-reset');
      await h.until('users back on 1002', () => h.deviceEquals(1002, ids(1, 5)));
      assert.equal((await h.store.queryEvents({ kind: 'user.delete.device' })).length, 0);
      assert.equal(await h.store.countUsers(), 5, 'nothing deleted from the database');
    } finally {
      await h.stop();
    }
  });

  test('a log that starts again without a reset event (IDs below the cursor) starts at its newest event; the check merges what is new', async () => {
    const h = await SyncHarness.start({ mode: DEVICE_UPDATES });
    try {
      await h.put(...ids(1, 5).map((id) => makeUser(id)));
      await h.until('device 1003', () => h.deviceEquals(1003, ids(1, 5)));
      await h.until('acknowledgements read', async () => ((await h.store.getDevice(1003))?.lastEventId ?? 0) >= 5);
      h.sim.device(1003).resetEventLog(0);
      // Its first event, ID 1, is below the cursor.
      h.sim.device(1003).enrollAtDevice(toUserInfo(makeUser('70', { name: 'Seventy' })));
      await h.until('new baseline', async () => (await h.store.getDevice(1003))?.eventBaseline?.reason === 'log-reset');
      assert.equal((await h.store.getDevice(1003))?.eventBaseline?.eventId, 2);
      await h.until('70 merged by the check', async () => (await h.store.getUser('70'))?.name === 'Seventy');
      h.sim.device(1003).updateAtDevice(toUserInfo(makeUser('3', { cards: [card(3)] })));
      await h.until('later edit merged', async () => (await h.store.getUser('3'))?.cards.length === 1);
    } finally {
      await h.stop();
    }
  });
});

describe('an event whose user cannot be read', () => {
  test('is tried sync.deviceEvents.readAttempts times, then skipped and logged; the later events are processed', async () => {
    const h = await SyncHarness.start({ mode: DEVICE_UPDATES, sync: { deviceEvents: { readAttempts: 3, retryBaseMs: 20, retryMaxMs: 100 } } });
    try {
      await h.put(...ids(1, 3).map((id) => makeUser(id)));
      await h.until('device 1001', () => h.deviceEquals(1001, ids(1, 3)));
      const door = h.sim.device(1001);
      door.setUserReadFault(['2'], INTERNAL);
      door.updateAtDevice(toUserInfo(makeUser('2', { name: 'Poisoned', cards: [card(2)] })));
      door.enrollAtDevice(toUserInfo(makeUser('41', { name: 'After the poisoned one' })));
      door.updateAtDevice(toUserInfo(makeUser('1', { cards: [card(1)] })));
      await h.until('41 merged', async () => (await h.store.getUser('41'))?.name === 'After the poisoned one', 30_000);
      await h.until('1 merged', async () => (await h.store.getUser('1'))?.cards.length === 1);
      const skipped = await h.store.queryEvents({ kind: 'device.event.skipped' });
      assert.equal(skipped.length, 1);
      assert.equal(skipped[0]?.userId, '2');
      assert.equal(skipped[0]?.deviceId, 1001);
      assert.equal(skipped[0]?.detail?.['attempts'], 3);
      assert.equal((await h.store.getUser('2'))?.cards.length, 0, 'the unread edit is not merged');
      assert.match(await h.metrics.registry.metrics(), /rollcall_device_events_skipped_total 1/);
      // The check that follows finds the device's version of user 2 and puts the database's back.
      door.clearFaults();
      await h.until('device 1001 equal', () => h.deviceEquals(1001, [...ids(1, 3), '41']), 30_000);
    } finally {
      await h.stop();
    }
  });
});

describe('event monitoring', () => {
  test('a device whose EnableMonitoringMulti entry fails is tried again until monitoring is on; its edits then arrive', async () => {
    const h = await SyncHarness.start({ mode: DEVICE_UPDATES, sync: { deviceEvents: { readAttempts: 3, retryBaseMs: 20, retryMaxMs: 100 } } });
    try {
      await h.put(makeUser('1'));
      await h.until('device 1002', () => h.deviceEquals(1002, ['1']));
      const door = h.sim.device(1002);
      door.disconnect();
      await h.until('seen away', () => h.engine.device(1002)?.connected === false);
      door.refuseMonitoring(3, UNAVAILABLE);
      door.reconnect();
      await h.until('monitoring on', () => door.state().monitoring, 30_000);
      door.updateAtDevice(toUserInfo(makeUser('1', { cards: [card(1)] })));
      await h.until('edit merged', async () => (await h.store.getUser('1'))?.cards.length === 1);
    } finally {
      await h.stop();
    }
  });
});

describe('acknowledgements of our own pushes', () => {
  test('device-side changes amid the acknowledgements of a fan-out are merged and fanned out; each cursor ends at its newest event', async () => {
    const h = await SyncHarness.start({ mode: DEVICE_UPDATES, sync: { batch: { maxUsers: 100, maxBytes: 4_000_000 } } });
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      // 1,500 users in 15 batches: every device logs one acknowledgement per user.
      const fanned = h.put(...ids(1, 1500).map((id) => makeUser(id)));
      // While the acknowledgements stream in: an enrollment at one door, an edit at another.
      await h.until('some users arrived at 1002', () => h.onDevice(1002).size >= 300);
      h.sim.device(1002).enrollAtDevice(toUserInfo(makeUser('900001', { name: 'Enrolled at the door', cards: [card(1)] })));
      await h.until('more users arrived at 1003', () => h.onDevice(1003).size >= 700);
      h.sim.device(1003).updateAtDevice(toUserInfo(makeUser('5', { cards: [card(5)] })));
      await fanned;
      await h.until('the enrollment merged', async () => (await h.store.getUser('900001'))?.name === 'Enrolled at the door');
      await h.until('the edit merged', async () => (await h.store.getUser('5'))?.cards.length === 1);
      const all = [...ids(1, 1500), '900001'];
      for (const d of [1001, 1002, 1003]) await h.until(`device ${d} holds every user as stored`, () => h.deviceEquals(d, all), 30_000);
      // Where reading each log stands: at its newest event, every acknowledgement taken.
      for (const d of [1001, 1002, 1003]) {
        const newest = h.sim.device(d).events().at(-1)!.ID;
        await h.until(`device ${d} read to event ${newest}`, () => h.engine.device(d)!.record.lastEventId === newest);
      }
      const enrolled = await h.store.queryEvents({ kind: 'user.enroll.device', userId: '900001' });
      assert.equal(enrolled[0]?.deviceId, 1002);
      assert.equal((await h.store.queryEvents({ kind: 'user.update.device', userId: '5' }))[0]?.deviceId, 1003);
    } finally {
      await h.stop();
    }
  });
});

describe('catch-up', () => {
  test('a catch-up moves past our own acknowledgements once per page, and still handles a change made at the device among them', async () => {
    const sim = await startSimulator({ devices: [{ id: 7101 }], port: 0 });
    const stored = await tempLevelStore();
    let h: SyncHarness | undefined;
    let moves = 0;
    const update = DeviceState.prototype.update;
    try {
      // Where reading the device's log starts is set at first contact.
      h = await SyncHarness.start({ sim, stored, mode: DEVICE_UPDATES });
      await h.put(makeUser('1'));
      await h.until('the first acknowledgement read', () => (h!.engine.device(7101)?.record.lastEventId ?? 0) >= 1);
      await h.stop();
      // No follower: 1,000 users pushed, 1,000 acknowledgements logged and not read; then an edit at the door.
      h = await SyncHarness.start({ sim, stored, mode: DEVICE_UPDATES, followEvents: false });
      const seq = await h.put(...ids(2, 1000).map((id) => makeUser(id)));
      await h.until('fanned out', () => h!.engine.status().every((d) => d.cursor >= seq));
      await h.stop();
      sim.device(7101).updateAtDevice(toUserInfo(makeUser('500', { cards: [card(500)] })));
      const newest = sim.device(7101).events().at(-1)!.ID;

      DeviceState.prototype.update = function (this: DeviceState, change: Parameters<DeviceState['update']>[0]) {
        const before = this.record.lastEventId;
        const record = update.call(this, change);
        if (record.lastEventId !== before) moves += 1;
        return record;
      };
      h = await SyncHarness.start({ sim, stored, mode: DEVICE_UPDATES });
      await h.until(`read to event ${newest}`, () => (h!.engine.device(7101)?.record.lastEventId ?? 0) >= newest);
      await h.until('the edit merged', async () => (await h!.store.getUser('500'))?.cards.length === 1);
      // The edit's merge and the page's end: not one move per acknowledgement (1,000 before).
      assert.ok(moves <= 10, `${moves} moves of where reading stands for 1,000 acknowledgements and one edit`);
    } finally {
      DeviceState.prototype.update = update;
      await h?.stop();
      await sim.stop();
      await stored.cleanup();
    }
  });
});
