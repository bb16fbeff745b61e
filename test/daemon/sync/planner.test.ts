import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cutBatch, groupByPlan, planDevice, planDevices, removalNeedsConfirmation, type FeedItem } from '../../../daemon/sync/planner.js';
import { placement } from '../../../daemon/sync/placement.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';
import type { Change } from '../../../daemon/plugins/api.js';
import { deviceProjectionHash } from '../../../daemon/model/projection.js';
import allDevices from '../../../plugins/sync-modes/all-devices/index.js';
import accessGroupDevices from '../../../plugins/sync-modes/access-group-devices/index.js';

const everyDevice = { targets: () => true };
const byGroup = accessGroupDevices.create({} as never, {});
const device = (id: number, extra: Partial<DeviceRecord> = {}): DeviceRecord => ({ id, source: 'config', lastEventId: 0, ...extra });
const user = (id: string, extra: Partial<User> = {}): User => ({ ...emptyUser(id), name: `User ${id}`, ...extra });
const change = (seq: number, userId: string, op: Change['op'] = 'upsert'): Change => ({ seq, userId, op, at: 0, origin: { kind: 'server' } });
const item = (seq: number, u: User | string, op: Change['op'] = 'upsert'): FeedItem =>
  typeof u === 'string' ? { change: change(seq, u, op), user: undefined } : { change: change(seq, u.id, op), user: u };
const numeric = { alphanumericIds: false };

describe('planDevice', () => {
  test('upserts are enrolled, deletes removed, and the cursor goes to the last seq', () => {
    const plan = planDevice([item(3, user('1')), item(5, '2', 'delete'), item(7, user('3'))], device(1), everyDevice, numeric, 'restore');
    assert.deepEqual(plan.enroll.map((u) => u.id), ['1', '3']);
    assert.deepEqual(plan.remove, ['2']);
    assert.deepEqual(plan.skipped, []);
    assert.equal(plan.upToSeq, 7);
  });

  test('an upsert whose user has gone since is a removal', () => {
    const plan = planDevice([item(1, '9', 'upsert')], device(1), everyDevice, numeric, 'restore');
    assert.deepEqual(plan.remove, ['9']);
  });

  test('access-group-devices: users go only to devices serving one of their groups, and leave the others', () => {
    const items = [item(1, user('1', { accessGroups: [10] })), item(2, user('2', { accessGroups: [20, 30] })), item(3, user('3'))];
    const door = planDevice(items, device(1, { accessGroups: [10, 30] }), byGroup, numeric, 'restore');
    assert.deepEqual(door.enroll.map((u) => u.id), ['1', '2']);
    assert.deepEqual(door.remove, ['3']);
    const none = planDevice(items, device(2), byGroup, numeric, 'restore');
    assert.deepEqual(none.enroll, []);
    assert.deepEqual(none.remove, ['1', '2', '3']);
  });

  test('users breaking a device rule are skipped with the reason, not sent', () => {
    const items = [item(1, user('A12')), item(2, user('12')), item(3, user('13', { name: 'x'.repeat(49) }))];
    const plan = planDevice(items, device(1), everyDevice, numeric, 'restore');
    assert.deepEqual(plan.enroll.map((u) => u.id), ['12']);
    assert.deepEqual(plan.skipped.map((s) => [s.userId, s.why]), [['A12', 'rule'], ['13', 'rule']]);
    assert.match(plan.skipped[1]!.reason, /name/);
    const alnum = planDevice(items, device(1), everyDevice, { alphanumericIds: true }, 'restore');
    assert.deepEqual(alnum.enroll.map((u) => u.id), ['A12', '12']);
  });

  test('a version the device refused before is not offered again; a changed one is', () => {
    const u = user('5');
    const refused = device(1, { rejectedUsers: { '5': { hash: deviceProjectionHash(u), reason: 'INVALID_ARGUMENT: template format' } } });
    assert.deepEqual(planDevice([item(1, u)], refused, everyDevice, numeric, 'restore').skipped.map((s) => s.why), ['refused']);
    const changed = { ...u, name: 'New name' };
    assert.deepEqual(planDevice([item(2, changed)], refused, everyDevice, numeric, 'restore').enroll.map((x) => x.id), ['5']);
  });

  test('keep-deleted holds a user deleted at the device until the user changes; restore does not', () => {
    const u = user('8');
    const d = device(1, { deletedAtDevice: { '8': deviceProjectionHash(u) } });
    assert.equal(placement(u, d, everyDevice, numeric, 'keep-deleted').place, false);
    assert.equal(placement(u, d, everyDevice, numeric, 'restore').place, true);
    assert.equal(placement({ ...u, name: 'Renamed' }, d, everyDevice, numeric, 'keep-deleted').place, true);
  });

  test('devices with the same operations share a plan key; different ones do not', () => {
    const items = [item(1, user('1', { accessGroups: [10] })), item(2, user('2', { accessGroups: [20] }))];
    const a = planDevice(items, device(1, { accessGroups: [10] }), byGroup, numeric, 'restore');
    const b = planDevice(items, device(2, { accessGroups: [10] }), byGroup, numeric, 'restore');
    const c = planDevice(items, device(3, { accessGroups: [20] }), byGroup, numeric, 'restore');
    const groups = groupByPlan([{ id: 1, plan: a }, { id: 2, plan: b }, { id: 3, plan: c }]);
    assert.deepEqual(groups.map((g) => g.map((e) => e.id)), [[1, 2], [3]]);
    const allMode = allDevices.create({} as never, {});
    assert.equal(planDevice(items, device(4), allMode, numeric, 'restore').key, planDevice(items, device(5), allMode, numeric, 'restore').key);
  });
});

describe('planDevices', () => {
  const every = allDevices.create({} as never, {});
  const noCards = { alphanumericIds: false, holds: { cards: false }, site: {}, shape: 'no-cards' };
  const items = [
    item(1, user('1', { accessGroups: [10], cards: [{ type: 1, data: 'AAEC' }] })),
    item(2, user('2', { accessGroups: [20] })),
    item(3, '3', 'delete'),
    item(4, user('4', { accessGroups: [10, 20] })),
  ];
  const cases: Array<[string, typeof every, Array<{ record: DeviceRecord; rules: typeof numeric | typeof noCards }>, number[][]]> = [
    ['all devices of one kind: one plan for all', every, [1, 2, 3].map((id) => ({ record: device(id), rules: numeric })), [[0, 1, 2]]],
    [
      'a device that refused a user, one that deleted one, and one of another shape get plans of their own',
      every,
      [
        { record: device(1), rules: numeric },
        { record: device(2, { rejectedUsers: { '2': { hash: deviceProjectionHash(items[1]!.user!), reason: 'refused' } } }), rules: numeric },
        { record: device(3, { deletedAtDevice: { '4': 'x' } }), rules: numeric },
        { record: device(4), rules: noCards },
        { record: device(5), rules: numeric },
        { record: device(6), rules: noCards },
        { record: device(7), rules: { alphanumericIds: true } },
      ],
      [[0, 4], [1], [2], [3, 5], [6]],
    ],
    [
      'access-group-devices: devices serving the same groups share a plan',
      byGroup,
      [
        { record: device(1, { accessGroups: [10] }), rules: numeric },
        { record: device(2, { accessGroups: [20] }), rules: numeric },
        { record: device(3, { accessGroups: [10] }), rules: numeric },
        { record: device(4, { accessGroups: [20, 10] }), rules: numeric },
        { record: device(5, { accessGroups: [10, 20] }), rules: numeric },
      ],
      [[0, 2], [1], [3, 4]],
    ],
  ];
  for (const [title, mode, targets, shared] of cases) {
    test(title, () => {
      const plans = planDevices(items, targets, mode, 'keep-deleted');
      // Each plan is what planDevice makes for that device alone.
      targets.forEach((t, i) => assert.deepEqual(plans[i], planDevice(items, t.record, mode, t.rules, 'keep-deleted'), `device ${t.record.id}`));
      // Devices placed alike are handed the very same plan; the others each their own.
      const sameAs = shared.map((indices) => new Set(indices.map((i) => plans[i])));
      for (const set of sameAs) assert.equal(set.size, 1);
      assert.equal(new Set(plans).size, shared.length);
    });
  }

  test('a mode without placementKey plans every device on its own', () => {
    const plans = planDevices(items, [1, 2].map((id) => ({ record: device(id), rules: numeric })), everyDevice, 'restore');
    assert.notEqual(plans[0], plans[1]);
    assert.deepEqual(plans[0], plans[1]);
  });
});

describe('cutBatch', () => {
  const items = Array.from({ length: 10 }, (_, i) => item(i + 1, user(String(i + 1))));
  test('is bounded by count', () => {
    assert.equal(cutBatch(items, { maxUsers: 4, maxBytes: 1e9 }, () => 100), 4);
  });
  test('is bounded by bytes', () => {
    assert.equal(cutBatch(items, { maxUsers: 100, maxBytes: 350 }, () => 100), 3);
  });
  test('always takes at least one item, even one larger than the byte limit', () => {
    assert.equal(cutBatch(items, { maxUsers: 100, maxBytes: 10 }, () => 100), 1);
  });
  test('an empty feed gives an empty batch', () => {
    assert.equal(cutBatch([], { maxUsers: 10, maxBytes: 10 }, () => 1), 0);
  });
});

describe('removalNeedsConfirmation', () => {
  const guard = { share: 0.1, minimum: 10 };
  const cases: [number, number, boolean][] = [
    [0, 1000, false],
    [10, 20, false], // at or under the minimum: always allowed
    [11, 1000, false], // 1.1 %
    [100, 1000, false], // exactly 10 %
    [101, 1000, true],
    [11, 50, true],
    [500, 0, true], // a device we believe empty
  ];
  for (const [removals, holding, expected] of cases) {
    test(`${removals} of ${holding} → ${expected ? 'hold' : 'go'}`, () => {
      assert.equal(removalNeedsConfirmation(removals, holding, guard), expected);
    });
  }
});
