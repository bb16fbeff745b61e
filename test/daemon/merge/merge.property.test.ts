import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MERGE_POLICIES, mergeDeviceUser, type MergeLimits } from '../../../daemon/merge/merge.js';
import { deviceFieldsDiffer, sameDeviceProjection } from '../../../daemon/merge/equality.js';
import { mergeEvents } from '../../../daemon/merge/events.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import { card, deepFreeze, face, finger, secretsOf } from './users.js';

// Small pools, so that servers and devices often share values, credentials and lists.
const cardArb = fc.constantFrom('a', 'b', 'c', 'd', 'e').chain((seed) => fc.constantFrom(1, 2, 6).map((type) => card(seed, type)));
const fingerArb = fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.constantFrom(0, 1), fc.nat(9)).map(([s, flag, index]) => finger(s, flag, index));
const faceArb = fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom(0, 0x100)).map(([s, flag]) => face(s, flag));
const authMode = fc.constantFrom(0xff, 0xff, 0xfe, 0, 2, 8);
const binary = (prefix: string) => fc.option(fc.constantFrom('', `${prefix}AAAAAAAAAAAAAAAAAAAA`, `${prefix}BBBBBBBBBBBBBBBBBBBB`), { nil: undefined });

const userArb: fc.Arbitrary<User> = fc.record({
  id: fc.constant('42'),
  name: fc.constantFrom('', 'Alice', 'Bob'),
  disabled: fc.boolean(),
  startTime: fc.constantFrom(0, 1_700_000_000),
  endTime: fc.constantFrom(0, 1_900_000_000, 2_000_000_000),
  auth: fc.record({ biometric: authMode, card: authMode, id: authMode, faceExt: authMode, fingerExt: authMode, cardExt: authMode, idExt: authMode }),
  securityLevel: fc.integer({ min: 0, max: 5 }),
  cards: fc.array(cardArb, { maxLength: 9 }),
  fingers: fc.array(fingerArb, { maxLength: 5 }),
  faces: fc.array(faceArb, { maxLength: 3 }),
  accessGroups: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 4 }),
  jobCodes: fc.uniqueArray(fc.record({ code: fc.integer({ min: 1, max: 3 }), label: fc.constantFrom('', 'Day') }), { maxLength: 2, selector: (j) => j.code }),
  pinHash: binary('P'),
  photo: binary('F'),
  department: fc.option(fc.constantFrom('Sales', 'IT'), { nil: undefined }),
  custom: fc.option(fc.constant({ k: 'v' }), { nil: undefined }),
  // Plain objects: fast-check may build records without a prototype, which deepEqual tells apart.
}).map((u) => structuredClone(u));
const serverArb = fc.option(userArb, { nil: undefined, freq: 4 });
const policyArb = fc.constantFrom(...MERGE_POLICIES);
const limitsArb: fc.Arbitrary<Partial<MergeLimits>> = fc.record(
  { maxCards: fc.integer({ min: 1, max: 8 }), maxFingers: fc.integer({ min: 1, max: 10 }), maxFaces: fc.integer({ min: 1, max: 5 }) },
  { requiredKeys: [] },
);

const runs = { numRuns: 200 };

describe('mergeDeviceUser properties', () => {
  test('merging the same device user twice changes nothing the second time', () => {
    fc.assert(
      fc.property(serverArb, userArb, policyArb, limitsArb, (server, device, policy, limits) => {
        const first = mergeDeviceUser(server, device, policy, limits);
        const second = mergeDeviceUser(first.user, device, policy, limits);
        assert.equal(second.outcome, 'unchanged');
        assert.deepEqual(second.changedFields, []);
        assert.deepEqual(second.user, first.user);
      }),
      runs,
    );
  });

  test('changedFields are exactly the fields that changed, and the outcome follows them', () => {
    fc.assert(
      fc.property(serverArb, userArb, policyArb, limitsArb, (server, device, policy, limits) => {
        const result = mergeDeviceUser(server, device, policy, limits);
        const before = server ?? emptyUser(device.id);
        assert.deepEqual(result.changedFields, deviceFieldsDiffer(before, result.user));
        const expected = server === undefined ? 'created' : result.changedFields.length > 0 ? 'updated' : 'unchanged';
        assert.equal(result.outcome, expected);
      }),
      runs,
    );
  });

  test('inputs are not changed and server-only fields never move', () => {
    fc.assert(
      fc.property(serverArb, userArb, policyArb, limitsArb, (server, device, policy, limits) => {
        const result = mergeDeviceUser(server === undefined ? undefined : deepFreeze(server), deepFreeze(device), policy, limits);
        for (const key of ['department', 'title', 'phone', 'email', 'userGroup', 'custom'] as const) {
          assert.deepEqual(result.user[key], server?.[key], key);
        }
      }),
      runs,
    );
  });

  test('each policy leaves the user where it says', () => {
    fc.assert(
      fc.property(serverArb, userArb, policyArb, limitsArb, (server, device, policy, limits) => {
        const result = mergeDeviceUser(server, device, policy, limits);
        if (server === undefined || policy === 'device-wins') {
          assert.ok(sameDeviceProjection(result.user, device));
          assert.ok(result.conflicts.every((c) => c.kept === 'device'));
        } else {
          assert.ok(result.conflicts.every((c) => c.kept === 'server'));
          if (policy === 'server-wins') assert.deepEqual(result.user, server);
        }
        // Every field that still differs from the device is reported: no silent conflicts.
        if (server !== undefined && policy !== 'device-wins') {
          assert.deepEqual(result.conflicts.map((c) => c.field), deviceFieldsDiffer(result.user, device));
        }
        if (server !== undefined && policy === 'device-wins') {
          assert.deepEqual(result.conflicts.map((c) => c.field), deviceFieldsDiffer(server, device));
        }
      }),
      runs,
    );
  });

  test('fill-vacant adds credentials only up to the limit and never removes one', () => {
    fc.assert(
      fc.property(userArb, userArb, limitsArb, (server, device, limits) => {
        const merged = mergeDeviceUser(server, device, 'fill-vacant', limits).user;
        const max = { cards: limits.maxCards ?? 8, fingers: limits.maxFingers ?? 10, faces: limits.maxFaces ?? 5 };
        for (const field of ['cards', 'fingers', 'faces'] as const) {
          assert.ok(merged[field].length <= Math.max(max[field], server[field].length), field);
          assert.deepEqual(merged[field].slice(0, server[field].length), server[field], `${field}: server items first, in order`);
        }
      }),
      runs,
    );
  });

  test('no secret of either user reaches a conflict or an event', () => {
    fc.assert(
      fc.property(serverArb, userArb, policyArb, (server, device, policy) => {
        const result = mergeDeviceUser(server, device, policy);
        const text = JSON.stringify([result.conflicts, mergeEvents(device.id, 7, result, policy)]);
        for (const secret of [...secretsOf(device), ...(server === undefined ? [] : secretsOf(server))]) {
          assert.ok(!text.includes(secret), 'a secret leaked into the conflicts or events');
        }
      }),
      runs,
    );
  });
});
