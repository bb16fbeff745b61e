/**
 * A fleet of 20 devices under mixed traffic: server-side and device-side changes,
 * disconnects, error bursts and a slow device; afterwards every device's dump equals its
 * expected state. Also: a device-side edit merged by each policy.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SyncHarness, makeUser } from '../../helpers/sync-harness.js';
import { toUserInfo } from '../../../plugins/transports/gsdk/user-info.js';
import { CardType } from '../../../daemon/model/user.js';

const card = (n: number) => ({ type: CardType.CSN, data: Buffer.alloc(32, n % 256).toString('base64') });
const UNAVAILABLE = 14;

test('20 devices converge after server and device changes, disconnects and faults', async () => {
  const ids = Array.from({ length: 20 }, (_, i) => 4001 + i);
  const h = await SyncHarness.start({ devices: ids.map((id) => ({ id })), mode: 'all-devices-with-device-updates' });
  try {
    await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
    await h.put(...Array.from({ length: 200 }, (_, i) => makeUser(String(i + 1))));
    // Faults while it works: two devices away, one failing its next calls, one slow.
    h.sim.device(4002).disconnect();
    h.sim.device(4003).disconnect();
    h.sim.device(4004).setFault({ failNextCode: UNAVAILABLE, failNextCount: 3 });
    h.sim.device(4005).setFault({ latencyMs: 150 });
    await h.put(...Array.from({ length: 50 }, (_, i) => makeUser(String(i + 1), { name: `Renamed ${i + 1}`, cards: [card(i + 1)] })));
    await h.remove(...Array.from({ length: 10 }, (_, i) => String(191 + i)));
    // At the doors: a new user at one device, an edit at another.
    h.sim.device(4006).enrollAtDevice(toUserInfo(makeUser('5000', { name: 'Door person', cards: [card(200)] })));
    await h.until('user 60 on 4007', () => h.onDevice(4007).has('60'));
    h.sim.device(4007).updateAtDevice(toUserInfo(makeUser('60', { name: 'User 60', cards: [card(60)] })));
    await h.until('merged', async () => (await h.store.getUser('5000')) !== undefined && (await h.store.getUser('60'))?.cards.length === 1);
    h.sim.device(4002).reconnect();
    h.sim.device(4003).reconnect();
    h.sim.device(4005).clearFaults();

    const expected: string[] = [];
    for await (const user of h.store.scanUsers()) expected.push(user.id);
    assert.equal(expected.length, 191);
    for (const id of ids) await h.until(`device ${id} equal`, () => h.deviceEquals(id, expected), 60_000);
    await h.until('every device checked in sync', () => h.engine.status().every((d) => d.inSync), 30_000);
  } finally {
    await h.stop();
  }
});

test('a device whose calls never answer holds the others for one deadline at most, then catches up', async () => {
  const ids = [4101, 4102, 4103, 4104];
  const h = await SyncHarness.start({ devices: ids.map((id) => ({ id })), gateway: { deadlines: { defaultMs: 400, longMs: 600 } } });
  try {
    await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
    h.sim.device(4102).setFault({ hangCount: 1000 });
    await h.put(...Array.from({ length: 30 }, (_, i) => makeUser(String(i + 1))));
    const all = Array.from({ length: 30 }, (_, i) => String(i + 1));
    for (const id of [4101, 4103, 4104]) await h.until(`healthy device ${id}`, () => h.deviceEquals(id, all), 30_000);
    await h.put(makeUser('31'));
    // Served alone now, the healthy devices are not held by the hung one any more.
    for (const id of [4101, 4103, 4104]) await h.until(`healthy device ${id} again`, () => h.deviceEquals(id, [...all, '31']), 30_000);
    assert.equal(h.onDevice(4102).size, 0);
    await h.until('the hung device backs off', () => (h.engine.device(4102)?.failures ?? 0) > 0, 30_000);
    h.sim.device(4102).clearFaults();
    await h.until('hung device recovered', () => h.deviceEquals(4102, [...all, '31']), 30_000);
  } finally {
    await h.stop();
  }
});

test('a shared call with a hung device is cut at its soft deadline: the others are acknowledged while the hung call still waits', async () => {
  const ids = [4201, 4202, 4203, 4204];
  // Hard deadlines far away: if the healthy devices waited for the hung call, they would wait this long.
  const h = await SyncHarness.start({ devices: ids.map((id) => ({ id })), gateway: { deadlines: { defaultMs: 60_000, longMs: 60_000 } } });
  try {
    await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined && d.pending === 0));
    // Calls of this size are cut only once it is known what they take: ten ordinary ones first.
    for (let i = 0; i < 10; i++) {
      const seq = await h.put(...Array.from({ length: 20 }, (_, j) => makeUser(String(1000 + i * 20 + j))));
      await h.until('warm-up acknowledged', () => h.engine.status().every((d) => d.cursor >= seq));
    }
    // Two calls hang: the shared one, and the one it is sent again in after the cut.
    h.sim.device(4202).setFault({ hangCount: 2 });
    const users = Array.from({ length: 20 }, (_, i) => makeUser(String(i + 1)));
    const seq = await h.put(...users);
    const all = [...Array.from({ length: 10 }, (_, i) => Array.from({ length: 20 }, (_, j) => String(1000 + i * 20 + j))).flat(), ...users.map((u) => u.id)];
    // Acknowledged (the cursor moved), not only written: the shared call wrote to them before it hung.
    const cursor = (id: number) => h.engine.status().find((d) => d.id === id)!.cursor;
    await h.until('healthy devices acknowledged', () => [4201, 4203, 4204].every((id) => cursor(id) >= seq), 30_000);
    for (const id of [4201, 4203, 4204]) assert.ok(await h.deviceEquals(id, all), `healthy device ${id}`);
    // The hung call (alone now, after the cut) is still under way: nothing failed, nothing reached 4202.
    const hung = h.engine.device(4202)!;
    assert.equal(hung.busy, true, 'the hung device is still waiting for its call');
    assert.equal(hung.failures, 0);
    assert.ok(cursor(4202) < seq);
    assert.equal(h.onDevice(4202).size, 200, 'the warm-up users only');
    assert.match(await h.metrics.registry.metrics(), /rollcall_sync_calls_cut_total [1-9]/);
  } finally {
    await h.stop();
  }
});

test('after a cut, the devices of its parts go on sharing calls: one EnrollMulti per batch for all of them, not one per part', async () => {
  const ids = [4301, 4302, 4303, 4304];
  const h = await SyncHarness.start({ devices: ids.map((id) => ({ id })), sync: { batch: { maxUsers: 20, maxBytes: 3 * 1024 * 1024 } } });
  try {
    await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined && d.pending === 0));
    for (let i = 0; i < 10; i++) {
      const seq = await h.put(...Array.from({ length: 20 }, (_, j) => makeUser(String(1000 + i * 20 + j))));
      await h.until('warm-up acknowledged', () => h.engine.status().every((d) => d.cursor >= seq));
    }
    const enrollMultiCalls = async (): Promise<number> =>
      (await h.metrics.registry.getSingleMetric('rollcall_gateway_calls_total')!.get()).values
        .filter((v) => v.labels['method'] === 'EnrollMulti')
        .reduce((sum, v) => sum + v.value, 0);
    // Acknowledged batches ask each device's user count (GetStatistic); the hang below is
    // for the next call, so those counts must be in first.
    await h.until('user counts refreshed', () => h.engine.status().every((d) => d.userCount === 200));
    const before = await enrollMultiCalls();
    // The first shared call of the next ten batches hangs on one device and is cut; its parts
    // (one device each) go through, the hung device's too.
    h.sim.device(4302).setFault({ hangCount: 1 });
    const seq = await h.put(...Array.from({ length: 200 }, (_, i) => makeUser(String(i + 1))));
    await h.until('every device acknowledged', () => h.engine.status().every((d) => d.cursor >= seq), 30_000);
    const calls = (await enrollMultiCalls()) - before;
    assert.match(await h.metrics.registry.metrics(), /rollcall_sync_calls_cut_total [1-9]/);
    // 1 cut call + 4 parts + 9 shared batches = 14. Devices that went on in two groups
    // after the cut would take 1 + 4 + 2 × 9 = 23; room is left for one more cut of a
    // loaded machine (5 calls).
    assert.ok(calls <= 19, `${calls} EnrollMulti calls for 10 batches to 4 devices`);
  } finally {
    await h.stop();
  }
});

describe('a device-side edit under each merge policy', () => {
  const cases = [
    { policy: 'fill-vacant' as const, name: 'Server name', cards: 2, conflict: 'server' },
    { policy: 'device-wins' as const, name: 'Door name', cards: 1, conflict: 'device' },
    { policy: 'server-wins' as const, name: 'Server name', cards: 1, conflict: 'server' },
  ];
  for (const c of cases) {
    test(`${c.policy}: name ${c.name}, ${c.cards} card(s), conflict kept by the ${c.conflict}`, async () => {
      const h = await SyncHarness.start({ mode: 'all-devices-with-device-updates', sync: { mergePolicy: c.policy } });
      try {
        await h.put(makeUser('1', { name: 'Server name', cards: [card(1)] }));
        for (const d of [1001, 1002, 1003]) await h.until(`device ${d}`, () => h.deviceEquals(d, ['1']));
        h.sim.device(1002).updateAtDevice(toUserInfo(makeUser('1', { name: 'Door name', cards: [card(2)] })));
        await h.until('conflict logged', async () => (await h.store.queryEvents({ kind: 'merge.conflict', userId: '1' })).length > 0);
        const user = await h.store.getUser('1');
        assert.equal(user?.name, c.name);
        assert.equal(user?.cards.length, c.cards);
        const conflicts = await h.store.queryEvents({ kind: 'merge.conflict', userId: '1' });
        const onName = conflicts.find((e) => e.detail?.field === 'name');
        assert.equal(onName?.detail?.kept, c.conflict);
        // Every device ends with the database's version, the one that edited it included.
        for (const d of [1001, 1002, 1003]) await h.until(`device ${d} after merge`, () => h.deviceEquals(d, ['1']));
        assert.match(await h.metrics.registry.metrics(), /rollcall_merge_conflicts_total [1-9]/);
      } finally {
        await h.stop();
      }
    });
  }
});
