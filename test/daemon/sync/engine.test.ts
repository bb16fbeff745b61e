/**
 * The sync engine against the real simulator over gRPC and a real LevelDB: expected
 * device states per mode after sequences of server changes, device-side merges, faults.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SyncHarness, makeUser } from '../../helpers/sync-harness.js';
import { toUserInfo } from '../../../plugins/transports/gsdk/user-info.js';
import { simulatedTemplate } from '../../../simulator/index.js';
import { CardType } from '../../../daemon/model/user.js';

const ids = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => String(from + i));
const card = (n: number) => ({ type: CardType.CSN, data: Buffer.alloc(32, n).toString('base64') });

describe('sync engine: all-devices', () => {
  test('server changes reach every device, and only the latest version of each user', async () => {
    const h = await SyncHarness.start();
    try {
      await h.put(...ids(1, 30).map((id) => makeUser(id)));
      await h.put(...ids(1, 5).map((id) => makeUser(id, { name: `Renamed ${id}`, cards: [card(Number(id))] })));
      await h.remove('28', '29', '30');
      const expected = ids(1, 27);
      for (const device of [1001, 1002, 1003]) await h.until(`device ${device} equal`, () => h.deviceEquals(device, expected));
      assert.equal(h.onDevice(1001).get('3')?.name, 'Renamed 3');
      // Every device acknowledged everything: cursors at the head.
      await h.until('cursors at head', () => h.engine.status().every((d) => d.cursor === h.store.currentSeq()));
      const metrics = await h.metrics.registry.metrics();
      assert.match(metrics, /rollcall_sync_latency_seconds_count \d+/);
      assert.match(metrics, /rollcall_device_connected\{device="1002"\} 1/);
    } finally {
      await h.stop();
    }
  });

  test('devices at the same cursor share calls (EnrollMulti), one per batch', async () => {
    const h = await SyncHarness.start({ devices: ids(2001, 10).map((id) => ({ id: Number(id) })) });
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      const before = await h.metrics.registry.getSingleMetric('rollcall_gateway_calls_total')!.get();
      const countOf = (v: typeof before, method: string) => v.values.filter((x) => x.labels.method === method).reduce((a, x) => a + x.value, 0);
      await h.put(...ids(1, 40).map((id) => makeUser(id)));
      await h.until('every device acknowledged', () => h.engine.status().every((d) => d.cursor === h.store.currentSeq()));
      for (const device of h.sim.deviceIds) assert.equal(h.onDevice(device).size, 40);
      const after = await h.metrics.registry.getSingleMetric('rollcall_gateway_calls_total')!.get();
      const multi = countOf(after, 'EnrollMulti') - countOf(before, 'EnrollMulti');
      // Ten devices, one commit: far fewer calls than devices (the naive way is 400 Enroll calls).
      assert.ok(multi >= 1 && multi <= 3, `EnrollMulti calls: ${multi}`);
      assert.equal(countOf(after, 'Enroll') - countOf(before, 'Enroll'), 0);
    } finally {
      await h.stop();
    }
  });

  test('a disconnected device converges after it reconnects; the others are not held', async () => {
    const h = await SyncHarness.start();
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      h.sim.device(1002).disconnect();
      await h.until('1002 seen disconnected', () => h.engine.device(1002)?.connected === false);
      await h.put(...ids(1, 10).map((id) => makeUser(id)));
      await h.remove('10');
      for (const device of [1001, 1003]) await h.until(`device ${device}`, () => h.deviceEquals(device, ids(1, 9)));
      assert.equal(h.onDevice(1002).size, 0);
      h.sim.device(1002).reconnect();
      await h.until('device 1002 after reconnect', () => h.deviceEquals(1002, ids(1, 9)));
      await h.until('1002 in sync', () => h.engine.device(1002)?.inSync === true);
    } finally {
      await h.stop();
    }
  });

  test('changes made behind our back are found and repaired by a check; in sync only after it passed', async () => {
    // Device events are not followed here: as if the realtime queue had dropped them all.
    const h = await SyncHarness.start({ followEvents: false });
    try {
      await h.put(...ids(1, 12).map((id) => makeUser(id, { cards: [card(Number(id))] })));
      for (const device of [1001, 1002, 1003]) await h.until(`device ${device}`, () => h.deviceEquals(device, ids(1, 12)));
      // Behind our back: one user deleted, one edited (a card removed), one added.
      h.sim.device(1001).deleteAtDevice(['3']);
      h.sim.device(1001).updateAtDevice(toUserInfo(makeUser('4', { cards: [] })));
      h.sim.device(1001).enrollAtDevice(toUserInfo(makeUser('99')));
      const [cheap] = await h.engine.verify({ deviceId: 1001 });
      assert.equal(cheap?.inSync, false);
      assert.equal(cheap?.differences, 3);
      const [repaired] = await h.engine.verify({ deviceId: 1001, repair: true });
      assert.equal(repaired?.enrolled, 2);
      assert.equal(repaired?.removed, 1);
      assert.equal(repaired?.inSync, true);
      assert.ok(await h.deviceEquals(1001, ids(1, 12)));
      // A content change that keeps the counts is found only by the deep check.
      h.sim.device(1002).updateAtDevice(toUserInfo(makeUser('5', { name: 'Changed at the door', cards: [card(5)] })));
      const [shallow] = await h.engine.verify({ deviceId: 1002 });
      assert.equal(shallow?.inSync, true);
      const [deep] = await h.engine.verify({ deviceId: 1002, deep: true, repair: true });
      assert.equal(deep?.differences, 1);
      assert.equal(deep?.inSync, true);
      assert.equal(h.onDevice(1002).get('5')?.name, 'User 5');
      const device = await h.store.getDevice(1002);
      assert.equal(device?.lastCheck?.method, 'deep');
      assert.equal(device?.lastCheck?.inSync, true);
    } finally {
      await h.stop();
    }
  });

  test('a full device fails alone; a device configured for another template format gets the users without their fingerprints; the rest go on', async () => {
    const h = await SyncHarness.start({
      devices: [{ id: 1001 }, { id: 1002, maxUsers: 5 }, { id: 1003, templateFormat: 'ISO' }],
    });
    try {
      const users = ids(1, 8).map((id) => makeUser(id));
      const suprema = 0;
      users[0] = makeUser('1', { fingers: [{ index: 0, flag: 0, templates: [simulatedTemplate(suprema, 1), simulatedTemplate(suprema, 2)].map((t) => t.toString('base64')) }] });
      await h.put(...users);
      await h.until('device 1001 complete', () => h.deviceEquals(1001, ids(1, 8)));
      // The ISO device (the site's templates are SUPREMA, sync.templateFormat) is not sent
      // templates it could not match: user 1 arrives without them, said so; nobody is refused.
      await h.until('device 1003 at the head with 8 users', () => h.onDevice(1003).size === 8 && h.engine.device(1003)?.cursor === h.store.currentSeq());
      assert.deepEqual([...h.onDevice(1003).keys()].sort(), ids(1, 8).sort());
      assert.equal(h.onDevice(1003).get('1')?.fingers.length, 0);
      assert.equal(h.onDevice(1003).get('1')?.name, users[0]!.name);
      assert.deepEqual((await h.store.getDevice(1003))?.rejectedUsers ?? {}, {});
      const [plan] = await h.engine.verify({ deviceId: 1003 });
      assert.equal(plan?.inSync, true);
      assert.deepEqual(
        plan?.leftOff?.map((l) => [l.what, l.reason, l.count]),
        [['fingerprint', 'template-format', 1]],
      );
      // The full device stays behind and backs off, without holding the others.
      await h.until('1002 failing', () => (h.engine.device(1002)?.failures ?? 0) > 0);
      assert.ok(h.onDevice(1002).size <= 5);
      await h.until('capacity event', async () => (await h.store.queryEvents({ deviceId: 1002, kind: 'sync.' })).some((e) => /Exceeded max user count/.test(e.message)));
      // Room again: it catches up.
      h.sim.device(1002).setCapacity({ maxUsers: 100 });
      await h.until('device 1002 after capacity', () => h.deviceEquals(1002, ids(1, 8)), 20_000);
    } finally {
      await h.stop();
    }
  });

  test('an edit or delete at a device is undone from the device event when the mode does not merge them', async () => {
    const h = await SyncHarness.start();
    try {
      await h.put(...ids(1, 5).map((id) => makeUser(id)));
      await h.until('1001', () => h.deviceEquals(1001, ids(1, 5)));
      h.sim.device(1001).updateAtDevice(toUserInfo(makeUser('2', { name: 'Edited at the door' })));
      h.sim.device(1001).deleteAtDevice(['3']);
      h.sim.device(1001).enrollAtDevice(toUserInfo(makeUser('77')));
      await h.until('1001 restored', () => h.deviceEquals(1001, ids(1, 5)));
      assert.equal((await h.store.getUser('2'))?.name, 'User 2');
      assert.equal(await h.store.getUser('77'), undefined);
    } finally {
      await h.stop();
    }
  });
});

describe('sync engine: other modes', () => {
  test('access-group-devices: users go only to devices serving their groups and move when groups change', async () => {
    const h = await SyncHarness.start({
      mode: 'access-group-devices',
      deviceConfig: [
        { id: 1001, port: 51211, useSSL: false, accessGroups: [10] },
        { id: 1002, port: 51211, useSSL: false, accessGroups: [20] },
        { id: 1003, port: 51211, useSSL: false, accessGroups: [10, 20] },
      ],
    });
    try {
      await h.put(makeUser('1', { accessGroups: [10] }), makeUser('2', { accessGroups: [20] }), makeUser('3', { accessGroups: [30] }));
      await h.until('1001', () => h.deviceEquals(1001, ['1']));
      await h.until('1002', () => h.deviceEquals(1002, ['2']));
      await h.until('1003', () => h.deviceEquals(1003, ['1', '2']));
      await h.put(makeUser('1', { accessGroups: [20] }));
      await h.until('1001 after move', () => h.deviceEquals(1001, []));
      await h.until('1002 after move', () => h.deviceEquals(1002, ['1', '2']));
    } finally {
      await h.stop();
    }
  });

  test('manual: changes wait for an operator\'s sync', async () => {
    const h = await SyncHarness.start({ mode: 'manual' });
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      await h.put(...ids(1, 5).map((id) => makeUser(id)));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(h.onDevice(1001).size, 0, 'nothing is pushed on its own');
      await h.engine.sync({ deviceId: 1001 });
      await h.until('1001 after sync', () => h.deviceEquals(1001, ids(1, 5)));
      assert.equal(h.onDevice(1002).size, 0);
      await h.engine.sync();
      for (const device of [1002, 1003]) await h.until(`device ${device}`, () => h.deviceEquals(device, ids(1, 5)));
    } finally {
      await h.stop();
    }
  });

  test('the expected set brought forward from the feed: a plan after upserts, deletes and rule breaks equals the database', async () => {
    const h = await SyncHarness.start({ mode: 'manual' });
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      await h.put(...ids(1, 5).map((id) => makeUser(id)));
      await h.engine.sync();
      for (const device of [1001, 1002, 1003]) await h.until(`device ${device}`, () => h.deviceEquals(device, ids(1, 5)));
      const nothing = await h.engine.plan({ deviceId: 1001 });
      assert.deepEqual(nothing.map((p) => [p.enroll, p.remove]), [[[], []]], 'in sync: the expected set is built (one scan)');
      // Manual mode holds these back; the plan's expected set is brought forward over them.
      await h.put(makeUser('6'), makeUser('1', { cards: [card(1)] }), makeUser('A-7'));
      await h.remove('2');
      let [plan] = await h.engine.plan({ deviceId: 1001 });
      assert.deepEqual([...plan!.enroll].sort(), ['1', '6'], 'new, and changed credentials');
      assert.deepEqual(plan!.remove, ['2']);
      assert.deepEqual(plan!.skipped.map((s) => s.userId), ['A-7'], 'an alphanumeric ID on a numeric device is left alone');
      await h.remove('A-7', '6');
      [plan] = await h.engine.plan({ deviceId: 1001 });
      assert.deepEqual(plan!.enroll, ['1']);
      assert.deepEqual(plan!.remove, ['2']);
      assert.deepEqual(plan!.skipped, []);
    } finally {
      await h.stop();
    }
  });

  test('all-devices-with-device-updates: a user enrolled at a device is merged and fanned out; merging again changes nothing', async () => {
    const h = await SyncHarness.start({ mode: 'all-devices-with-device-updates' });
    try {
      await h.put(makeUser('1', { name: 'Server name' }));
      for (const device of [1001, 1002, 1003]) await h.until(`device ${device}`, () => h.deviceEquals(device, ['1']));
      // New at the door.
      h.sim.device(1001).enrollAtDevice(toUserInfo(makeUser('42', { name: 'Ana', cards: [card(42)] })));
      await h.until('42 in the database', async () => (await h.store.getUser('42'))?.name === 'Ana');
      for (const device of [1002, 1003]) await h.until(`42 on ${device}`, () => h.deviceEquals(device, ['1', '42']));
      // Edited at the door: fill-vacant keeps the server's name and takes the new card.
      h.sim.device(1002).updateAtDevice(toUserInfo(makeUser('1', { name: 'Door name', cards: [card(7)] })));
      await h.until('card merged', async () => (await h.store.getUser('1'))?.cards.length === 1);
      assert.equal((await h.store.getUser('1'))?.name, 'Server name');
      const conflicts = await h.store.queryEvents({ kind: 'merge.conflict', userId: '1' });
      assert.ok(conflicts.some((e) => e.detail?.field === 'name'));
      for (const device of [1001, 1002, 1003]) await h.until(`merged 1 on ${device}`, () => h.deviceEquals(device, ['1', '42']));
      const events = await h.store.queryEvents({ userId: '42' });
      assert.ok(events.some((e) => e.message === 'User enrollment succeeded (Device)'));
      // The same device user again: nothing changes.
      const seq = h.store.currentSeq();
      h.sim.device(1003).updateAtDevice(toUserInfo((await h.store.getUser('42'))!));
      await h.until('event read', async () => ((await h.store.getDevice(1003))?.lastEventId ?? 0) > 0 && h.engine.device(1003)!.cursor >= seq);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(h.store.currentSeq(), seq);
      const metrics = await h.metrics.registry.metrics();
      assert.match(metrics, /rollcall_device_event_to_fanout_seconds_count [1-9]/);
      assert.match(metrics, /rollcall_merge_total\{result="created"\} 1/);
    } finally {
      await h.stop();
    }
  });

  test('events the gateway drops (a full realtime queue) are read back from the device log', async () => {
    const h = await SyncHarness.start({ mode: 'all-devices-with-device-updates', eventQueueSize: 2 });
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      for (let i = 0; i < 40; i++) h.sim.device(1001).enrollAtDevice(toUserInfo(makeUser(String(100 + i))));
      await h.until('all 40 merged', async () => (await h.store.countUsers()) === 40);
      assert.ok(h.sim.stats().realtime.dropped > 0, `the stream dropped events: ${JSON.stringify(h.sim.stats().realtime)}`);
      for (const device of [1002, 1003]) await h.until(`device ${device}`, () => h.onDevice(device).size === 40);
    } finally {
      await h.stop();
    }
  });

  test('a delete at a device never deletes from the database; restore puts the user back', async () => {
    const h = await SyncHarness.start({ mode: 'all-devices-with-device-updates' });
    try {
      await h.put(...ids(1, 3).map((id) => makeUser(id)));
      await h.until('1002', () => h.deviceEquals(1002, ids(1, 3)));
      h.sim.device(1002).deleteAtDevice(['2']);
      await h.until('2 back on 1002', () => h.deviceEquals(1002, ids(1, 3)));
      assert.ok(await h.store.getUser('2'));
      const events = await h.store.queryEvents({ kind: 'user.delete.device' });
      assert.equal(events.length, 1);
    } finally {
      await h.stop();
    }
  });

  test('a mass removal waits for confirmation and removes nothing before it', async () => {
    const h = await SyncHarness.start();
    try {
      await h.put(...ids(1, 40).map((id) => makeUser(id)));
      for (const device of [1001, 1002, 1003]) await h.until(`device ${device}`, () => h.deviceEquals(device, ids(1, 40)));
      await h.remove(...ids(1, 20));
      await h.until('held', () => h.engine.status().every((d) => d.heldRemoval !== undefined));
      for (const device of [1001, 1002, 1003]) assert.equal(h.onDevice(device).size, 40);
      // The status shows a hold as soon as it is decided; its event lands with the hold's commit.
      await h.until('the holds committed', async () => (await h.store.queryEvents({ kind: 'sync.removal.held' })).length >= 3);
      const held = await h.store.queryEvents({ kind: 'sync.removal.held' });
      assert.equal(held.length, 3);
      assert.match(await h.metrics.registry.metrics(), /rollcall_device_held_removals\{device="1001"\} 20/);
      await h.engine.confirmRemovals(1001);
      await h.until('1001 after confirm', () => h.deviceEquals(1001, ids(21, 20)));
      assert.equal(h.onDevice(1002).size, 40, 'confirming one device releases only that one');
    } finally {
      await h.stop();
    }
  });
});
