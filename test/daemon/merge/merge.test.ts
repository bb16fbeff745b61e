import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mergeDeviceUser, resolveMergeLimits, type Conflict, type MergeLimits, type MergePolicy, type MergeResult } from '../../../daemon/merge/merge.js';
import { deviceFieldsDiffer, sameDeviceProjection, type DeviceField } from '../../../daemon/merge/equality.js';
import { isRollcallError } from '../../../daemon/errors.js';
import { defaultAuthModes, emptyUser, type User } from '../../../daemon/model/user.js';
import { card, deepFreeze, face, finger, fullUser, user } from './users.js';

interface Case {
  name: string;
  policy: MergePolicy;
  server: User | undefined;
  device: User;
  limits?: Partial<MergeLimits>;
  outcome: MergeResult['outcome'];
  changedFields: DeviceField[];
  conflicts: Conflict[];
  /** Further checks on the merged user. */
  check?: (merged: User) => void;
}

const S = fullUser('1', 's');
const D: User = {
  ...fullUser('1', 'd'),
  disabled: true,
  startTime: 1_800_000_000,
  endTime: 0,
  auth: { ...defaultAuthModes(), biometric: 1, card: 4, faceExt: 12 },
  securityLevel: 0,
  accessGroups: [2],
  jobCodes: [{ code: 20, label: 'Night' }],
  photo: undefined,
  // A device never reports these; if a caller's device user carries them they must be ignored.
  department: 'Device dept',
  custom: { fromDevice: 'yes' },
};
const serverOnly = (u: User) => ({ department: u.department, title: u.title, phone: u.phone, email: u.email, userGroup: u.userGroup, custom: u.custom });
const ALL_FIELDS_OF_FULL_USER: DeviceField[] = ['name', 'startTime', 'endTime', 'auth', 'securityLevel', 'cards', 'fingers', 'faces', 'accessGroups', 'jobCodes', 'pinHash', 'photo'];

const cA = card('A');
const cB = card('B');
const cC = card('C');
const cD = card('D');

const cases: Case[] = [
  // --- a user the server does not have: taken whole under every policy -------------------
  ...(['fill-vacant', 'device-wins', 'server-wins'] as const).map(
    (policy): Case => ({
      name: `${policy}: a new user is taken whole, without server-only fields`,
      policy,
      server: undefined,
      device: fullUser('1', 'd'),
      outcome: 'created',
      changedFields: ALL_FIELDS_OF_FULL_USER,
      conflicts: [],
      check: (merged) => {
        assert.ok(sameDeviceProjection(merged, fullUser('1', 'd')));
        assert.deepEqual(Object.keys(merged).sort(), [...Object.keys(emptyUser('1')), 'pinHash', 'photo'].sort());
      },
    }),
  ),
  {
    name: 'fill-vacant: a new user with nothing set is created with no changed fields',
    policy: 'fill-vacant',
    server: undefined,
    device: user('9', { pinHash: '', photo: '' }),
    outcome: 'created',
    changedFields: [],
    conflicts: [],
    check: (merged) => assert.deepEqual(merged, emptyUser('9')),
  },

  // --- fill-vacant ----------------------------------------------------------------------
  {
    name: 'fill-vacant: every vacant field of the server is filled from the device',
    policy: 'fill-vacant',
    server: user('1', { department: 'Sales', custom: { k: 'v' } }),
    device: fullUser('1', 'd'),
    outcome: 'updated',
    changedFields: ALL_FIELDS_OF_FULL_USER,
    conflicts: [],
    check: (merged) => {
      assert.ok(sameDeviceProjection(merged, fullUser('1', 'd')));
      assert.equal(merged.department, 'Sales');
      assert.deepEqual(merged.custom, { k: 'v' });
      assert.equal(merged.email, undefined);
    },
  },
  {
    name: 'fill-vacant: set server values win, new credentials are added, every loss is a conflict',
    policy: 'fill-vacant',
    server: S,
    device: D,
    outcome: 'updated',
    changedFields: ['auth', 'cards', 'fingers', 'faces'],
    conflicts: [
      { field: 'name', kept: 'server', serverValue: 'Name s', deviceValue: 'Name d' },
      { field: 'disabled', kept: 'server', serverValue: 'enabled', deviceValue: 'disabled' },
      { field: 'startTime', kept: 'server', serverValue: '2023-11-14T22:13:20Z', deviceValue: '2027-01-15T08:00:00Z' },
      { field: 'endTime', kept: 'server', serverValue: '2030-03-17T17:46:40Z', deviceValue: 'no limit' },
      { field: 'auth', kept: 'server', serverValue: 'biometric 0, card 2, id 8, faceExt 12', deviceValue: 'biometric 1, card 4, faceExt 12' },
      { field: 'securityLevel', kept: 'server', serverValue: 'level 3', deviceValue: 'device default' },
      { field: 'cards', kept: 'server', serverValue: '4 cards, 2 not on the device', deviceValue: '2 cards' },
      { field: 'fingers', kept: 'server', serverValue: '4 fingers, 2 not on the device', deviceValue: '2 fingers' },
      { field: 'faces', kept: 'server', serverValue: '2 faces, 1 not on the device', deviceValue: '1 face' },
      { field: 'accessGroups', kept: 'server', serverValue: 'access groups 1, 7', deviceValue: 'access groups 2' },
      { field: 'jobCodes', kept: 'server', serverValue: 'job codes 10', deviceValue: 'job codes 20' },
      { field: 'pinHash', kept: 'server', serverValue: 'PIN set', deviceValue: 'PIN set' },
      { field: 'photo', kept: 'server', serverValue: 'photo 300 bytes', deviceValue: 'no photo' },
    ],
    check: (merged) => {
      assert.deepEqual(merged.cards, [...S.cards, ...D.cards]);
      assert.deepEqual(merged.fingers, [...S.fingers, ...D.fingers]);
      assert.deepEqual(merged.auth, { ...S.auth, faceExt: 12 });
      assert.deepEqual(serverOnly(merged), serverOnly(S));
    },
  },
  {
    name: 'fill-vacant: auth modes are filled one by one',
    policy: 'fill-vacant',
    server: user('1', { auth: { ...defaultAuthModes(), card: 2 } }),
    device: user('1', { auth: { ...defaultAuthModes(), card: 4, id: 0xfe } }),
    outcome: 'updated',
    changedFields: ['auth'],
    conflicts: [{ field: 'auth', kept: 'server', serverValue: 'card 2, id prohibited', deviceValue: 'card 4, id prohibited' }],
    check: (merged) => assert.deepEqual(merged.auth, { ...defaultAuthModes(), card: 2, id: 0xfe }),
  },
  {
    name: 'fill-vacant: credentials the server has are not added twice (content, not order)',
    policy: 'fill-vacant',
    server: user('1', { cards: [cA, cB] }),
    device: user('1', { cards: [cC, { ...cB }, cA] }),
    outcome: 'updated',
    changedFields: ['cards'],
    conflicts: [],
    check: (merged) => assert.deepEqual(merged.cards, [cA, cB, cC]),
  },
  {
    name: 'fill-vacant: a card the device lost is kept and reported',
    policy: 'fill-vacant',
    server: user('1', { cards: [cA, cB] }),
    device: user('1', { cards: [cB] }),
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [{ field: 'cards', kept: 'server', serverValue: '2 cards, 1 not on the device', deviceValue: '1 card' }],
  },
  {
    name: 'fill-vacant: a card with the same data but another type is a new card',
    policy: 'fill-vacant',
    server: user('1', { cards: [cA] }),
    device: user('1', { cards: [cA, { ...cA, type: 6 }] }),
    outcome: 'updated',
    changedFields: ['cards'],
    conflicts: [],
    check: (merged) => assert.equal(merged.cards.length, 2),
  },
  {
    name: 'fill-vacant: new cards stop at the card limit; the rest are conflicts',
    policy: 'fill-vacant',
    server: user('1', { cards: [1, 2, 3, 4, 5, 6, 7].map((n) => card(`s${n}`)) }),
    device: user('1', { cards: [...[1, 2, 3, 4, 5, 6, 7].map((n) => card(`s${n}`)), cA, cB, cC] }),
    outcome: 'updated',
    changedFields: ['cards'],
    conflicts: [{ field: 'cards', kept: 'server', serverValue: '8 cards', deviceValue: '10 cards, 2 not on the server (limit of 8 cards reached)' }],
    check: (merged) => assert.deepEqual(merged.cards.at(-1), cA),
  },
  {
    name: 'fill-vacant: a lower limit is honoured, and a server over it is not cut',
    policy: 'fill-vacant',
    limits: { maxFingers: 2 },
    server: user('1', { fingers: [finger('a'), finger('b'), finger('c')] }),
    device: user('1', { fingers: [finger('a'), finger('d')] }),
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [
      { field: 'fingers', kept: 'server', serverValue: '3 fingers, 2 not on the device', deviceValue: '2 fingers, 1 not on the server (limit of 2 fingers reached)' },
    ],
    check: (merged) => assert.equal(merged.fingers.length, 3),
  },
  {
    name: 'fill-vacant: the face limit',
    policy: 'fill-vacant',
    limits: { maxFaces: 1 },
    server: user('1'),
    device: user('1', { faces: [face('a'), face('b')] }),
    outcome: 'updated',
    changedFields: ['faces'],
    conflicts: [{ field: 'faces', kept: 'server', serverValue: '1 face', deviceValue: '2 faces, 1 not on the server (limit of 1 face reached)' }],
    check: (merged) => assert.deepEqual(merged.faces, [face('a')]),
  },
  {
    name: 'fill-vacant: a finger the server has with another duress flag is not added; the flag is a conflict',
    policy: 'fill-vacant',
    server: user('1', { fingers: [finger('a', 0)] }),
    device: user('1', { fingers: [finger('a', 1)] }),
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [{ field: 'fingers', kept: 'server', serverValue: '1 finger, 1 not on the device', deviceValue: '1 finger, 1 not on the server' }],
  },
  {
    name: 'fill-vacant: a finger index is not content',
    policy: 'fill-vacant',
    server: user('1', { fingers: [finger('a', 0, 4)] }),
    device: user('1', { fingers: [finger('a', 0, 0)] }),
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [],
    check: (merged) => assert.equal(merged.fingers[0]!.index, 4),
  },
  {
    name: 'fill-vacant: disabled is never filled (a boolean is never vacant)',
    policy: 'fill-vacant',
    server: user('1'),
    device: user('1', { disabled: true }),
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [{ field: 'disabled', kept: 'server', serverValue: 'enabled', deviceValue: 'disabled' }],
  },
  {
    name: 'fill-vacant: access groups are not unioned into a set list',
    policy: 'fill-vacant',
    server: user('1', { accessGroups: [3] }),
    device: user('1', { accessGroups: [3, 1] }),
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [{ field: 'accessGroups', kept: 'server', serverValue: 'access groups 3', deviceValue: 'access groups 1, 3' }],
  },
  {
    name: 'fill-vacant: access groups and job codes fill an empty list',
    policy: 'fill-vacant',
    server: user('1'),
    device: user('1', { accessGroups: [3, 1], jobCodes: [{ code: 2, label: 'x' }] }),
    outcome: 'updated',
    changedFields: ['accessGroups', 'jobCodes'],
    conflicts: [],
    check: (merged) => assert.deepEqual(merged.accessGroups, [3, 1]),
  },
  {
    name: 'fill-vacant: a value the device cleared is not cleared on the server',
    policy: 'fill-vacant',
    server: user('1', { name: 'Alice', pinHash: 'cGlu', endTime: 5 }),
    device: user('1'),
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [
      { field: 'name', kept: 'server', serverValue: 'Alice', deviceValue: 'no name' },
      { field: 'endTime', kept: 'server', serverValue: '1970-01-01T00:00:05Z', deviceValue: 'no limit' },
      { field: 'pinHash', kept: 'server', serverValue: 'PIN set', deviceValue: 'no PIN' },
    ],
  },
  {
    name: 'fill-vacant: an empty PIN hash on the server is vacant',
    policy: 'fill-vacant',
    server: user('1', { pinHash: '' }),
    device: user('1', { pinHash: 'cGlu' }),
    outcome: 'updated',
    changedFields: ['pinHash'],
    conflicts: [],
    check: (merged) => assert.equal(merged.pinHash, 'cGlu'),
  },
  {
    name: 'fill-vacant: the same user again is unchanged and conflict-free',
    policy: 'fill-vacant',
    server: S,
    device: { ...structuredClone(S), department: undefined, cards: [...S.cards].reverse() },
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [],
  },

  // --- device-wins ----------------------------------------------------------------------
  {
    name: 'device-wins: every differing device field is replaced; the server value is the conflict',
    policy: 'device-wins',
    server: S,
    device: D,
    outcome: 'updated',
    changedFields: ['name', 'disabled', 'startTime', 'endTime', 'auth', 'securityLevel', 'cards', 'fingers', 'faces', 'accessGroups', 'jobCodes', 'pinHash', 'photo'],
    conflicts: [
      { field: 'name', kept: 'device', serverValue: 'Name s', deviceValue: 'Name d' },
      { field: 'disabled', kept: 'device', serverValue: 'enabled', deviceValue: 'disabled' },
      { field: 'startTime', kept: 'device', serverValue: '2023-11-14T22:13:20Z', deviceValue: '2027-01-15T08:00:00Z' },
      { field: 'endTime', kept: 'device', serverValue: '2030-03-17T17:46:40Z', deviceValue: 'no limit' },
      { field: 'auth', kept: 'device', serverValue: 'biometric 0, card 2, id 8', deviceValue: 'biometric 1, card 4, faceExt 12' },
      { field: 'securityLevel', kept: 'device', serverValue: 'level 3', deviceValue: 'device default' },
      { field: 'cards', kept: 'device', serverValue: '2 cards, 2 not on the device', deviceValue: '2 cards, 2 not on the server' },
      { field: 'fingers', kept: 'device', serverValue: '2 fingers, 2 not on the device', deviceValue: '2 fingers, 2 not on the server' },
      { field: 'faces', kept: 'device', serverValue: '1 face, 1 not on the device', deviceValue: '1 face, 1 not on the server' },
      { field: 'accessGroups', kept: 'device', serverValue: 'access groups 1, 7', deviceValue: 'access groups 2' },
      { field: 'jobCodes', kept: 'device', serverValue: 'job codes 10', deviceValue: 'job codes 20' },
      { field: 'pinHash', kept: 'device', serverValue: 'PIN set', deviceValue: 'PIN set' },
      { field: 'photo', kept: 'device', serverValue: 'photo 300 bytes', deviceValue: 'no photo' },
    ],
    check: (merged) => {
      assert.ok(sameDeviceProjection(merged, D));
      assert.deepEqual(serverOnly(merged), serverOnly(S));
      assert.ok(!('photo' in merged), 'a photo the device does not have is removed, not set to undefined');
    },
  },
  {
    name: "device-wins: the server's order is kept and new items follow in the device's order",
    policy: 'device-wins',
    server: user('1', { cards: [cA, cB, cC], accessGroups: [5, 6, 7] }),
    device: user('1', { cards: [cD, cC, cA], accessGroups: [8, 7, 5] }),
    outcome: 'updated',
    changedFields: ['cards', 'accessGroups'],
    conflicts: [
      { field: 'cards', kept: 'device', serverValue: '3 cards, 1 not on the device', deviceValue: '3 cards, 1 not on the server' },
      { field: 'accessGroups', kept: 'device', serverValue: 'access groups 5, 6, 7', deviceValue: 'access groups 5, 7, 8' },
    ],
    check: (merged) => {
      assert.deepEqual(merged.cards, [cA, cC, cD]);
      assert.deepEqual(merged.accessGroups, [5, 7, 8]);
    },
  },
  {
    name: "device-wins: a finger whose flag changed is replaced; the others keep the server's index",
    policy: 'device-wins',
    server: user('1', { fingers: [finger('a', 0, 7), finger('b', 0, 8)] }),
    device: user('1', { fingers: [finger('b', 0, 0), finger('a', 1, 0)] }),
    outcome: 'updated',
    changedFields: ['fingers'],
    conflicts: [{ field: 'fingers', kept: 'device', serverValue: '2 fingers, 1 not on the device', deviceValue: '2 fingers, 1 not on the server' }],
    check: (merged) => assert.deepEqual(merged.fingers, [finger('b', 0, 8), finger('a', 1, 0)]),
  },
  {
    name: 'device-wins: a device over the limit is still taken (device-wins has no limit)',
    policy: 'device-wins',
    limits: { maxCards: 1 },
    server: user('1', { cards: [cA] }),
    device: user('1', { cards: [cA, cB] }),
    outcome: 'updated',
    changedFields: ['cards'],
    conflicts: [{ field: 'cards', kept: 'device', serverValue: '1 card', deviceValue: '2 cards, 1 not on the server' }],
  },
  {
    name: 'device-wins: the same projection is unchanged',
    policy: 'device-wins',
    server: S,
    device: { ...structuredClone(S), accessGroups: [7, 1], fingers: S.fingers.map((f) => ({ ...f, index: 0 })) },
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [],
    check: (merged) => assert.deepEqual(merged, S),
  },

  // --- server-wins ----------------------------------------------------------------------
  {
    name: 'server-wins: an existing user is unchanged and every difference is a conflict',
    policy: 'server-wins',
    server: user('1', { name: 'A', cards: [cA], photo: 'AAAA' }),
    device: user('1', { name: 'B', cards: [cA, cB], securityLevel: 2 }),
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [
      { field: 'name', kept: 'server', serverValue: 'A', deviceValue: 'B' },
      { field: 'securityLevel', kept: 'server', serverValue: 'device default', deviceValue: 'level 2' },
      { field: 'cards', kept: 'server', serverValue: '1 card', deviceValue: '2 cards, 1 not on the server' },
      { field: 'photo', kept: 'server', serverValue: 'photo 3 bytes', deviceValue: 'no photo' },
    ],
    check: (merged) => assert.deepEqual(merged, user('1', { name: 'A', cards: [cA], photo: 'AAAA' })),
  },
  {
    name: 'server-wins: vacant server fields are not filled either',
    policy: 'server-wins',
    server: user('1'),
    device: user('1', { name: 'B' }),
    outcome: 'unchanged',
    changedFields: [],
    conflicts: [{ field: 'name', kept: 'server', serverValue: 'no name', deviceValue: 'B' }],
  },
];

describe('mergeDeviceUser', () => {
  for (const c of cases) {
    test(c.name, () => {
      const server = c.server === undefined ? undefined : deepFreeze(structuredClone(c.server));
      const device = deepFreeze(structuredClone(c.device));
      const result = mergeDeviceUser(server, device, c.policy, c.limits);
      assert.equal(result.outcome, c.outcome);
      assert.deepEqual(result.changedFields, c.changedFields);
      assert.deepEqual(result.conflicts, c.conflicts);
      // changedFields is exactly what differs between before and after.
      assert.deepEqual(result.changedFields, deviceFieldsDiffer(server ?? emptyUser(device.id), result.user));
      assert.equal(result.user.id, device.id);
      if (server !== undefined) assert.deepEqual(serverOnly(result.user), serverOnly(server));
      c.check?.(result.user);
    });
  }

  test('the result shares nothing with the inputs', () => {
    for (const policy of ['fill-vacant', 'device-wins', 'server-wins'] as const) {
      for (const server of [undefined, S, user('1')]) {
        const s = server === undefined ? undefined : deepFreeze(structuredClone(server));
        const d = deepFreeze(structuredClone(D));
        const merged = mergeDeviceUser(s, d, policy).user;
        // Throws (strict mode) if any part of the result is a frozen input object.
        merged.name = 'changed';
        merged.auth.card = 1;
        merged.cards.push(cA);
        for (const f of merged.fingers) f.templates.push('AAAA');
        for (const f of merged.faces) f.flag = 99;
        merged.accessGroups.push(99);
        for (const j of merged.jobCodes) j.label = 'changed';
        if (merged.custom !== undefined) merged.custom.changed = 'yes';
      }
    }
  });

  test('users with different IDs are refused', () => {
    assert.throws(
      () => mergeDeviceUser(user('1'), user('2'), 'fill-vacant'),
      (error) => isRollcallError(error, 'ROLLCALL_ERR_USER_INVALID'),
    );
  });

  test('an unknown policy is refused', () => {
    assert.throws(
      () => mergeDeviceUser(user('1'), user('1'), 'newest-wins' as MergePolicy),
      (error) => isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID'),
    );
    assert.throws(
      () => mergeDeviceUser(undefined, user('1'), 'newest-wins' as MergePolicy),
      (error) => isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID'),
    );
  });

  test('limits default to the device limits and take overrides', () => {
    assert.deepEqual(resolveMergeLimits(), { maxCards: 8, maxFingers: 10, maxFaces: 5 });
    assert.deepEqual(resolveMergeLimits({ maxFaces: 2, maxCards: undefined }), { maxCards: 8, maxFingers: 10, maxFaces: 2 });
  });
});
