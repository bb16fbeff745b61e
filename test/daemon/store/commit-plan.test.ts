import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRollcallError } from '../../../daemon/errors.js';
import { emptyUser, type Origin } from '../../../daemon/model/user.js';
import type { Mutation } from '../../../daemon/plugins/api.js';
import { planCommit, prepareMutations, type CommitPlan } from '../../../daemon/store/commit-plan.js';

const origin: Origin = { kind: 'server' };
const put = (id: string, name = id): Mutation => ({ type: 'putUser', user: { ...emptyUser(id), name }, origin });
const del = (id: string): Mutation => ({ type: 'deleteUser', userId: id, origin });
const base = { seq: 10, lastEventId: 4, at: 5000 };

function plan(mutations: Mutation[]): CommitPlan {
  return planCommit(prepareMutations(mutations), base);
}

describe('planCommit', () => {
  const cases: [string, Mutation[], (p: CommitPlan) => void][] = [
    [
      'each user op takes the next seq',
      [put('a'), put('b'), del('c')],
      (p) => {
        assert.equal(p.seq, 13);
        assert.deepEqual(
          p.users.map((u) => [u.seq, u.userId, u.op]),
          [
            [11, 'a', 'upsert'],
            [12, 'b', 'upsert'],
            [13, 'c', 'delete'],
          ],
        );
      },
    ],
    [
      'a repeated user keeps its last op, in the last op’s place',
      [put('a', 'one'), put('b'), put('a', 'two'), del('b')],
      (p) => {
        assert.equal(p.seq, 14);
        assert.deepEqual(
          p.users.map((u) => [u.seq, u.userId, u.op]),
          [
            [13, 'a', 'upsert'],
            [14, 'b', 'delete'],
          ],
        );
        const a = p.users[0]!;
        assert.equal(a.op === 'upsert' && JSON.parse(a.record).name, 'two');
      },
    ],
    [
      'no user op leaves the seq',
      [{ type: 'setCursor', deviceId: 1, seq: 10 }],
      (p) => {
        assert.equal(p.seq, 10);
        assert.deepEqual(p.cursors, [{ deviceId: 1, seq: 10 }]);
      },
    ],
    [
      'deleteDevice removes its cursor unless a later setCursor sets it',
      [
        { type: 'setCursor', deviceId: 1, seq: 3 },
        { type: 'deleteDevice', deviceId: 1 },
        { type: 'deleteDevice', deviceId: 2 },
        { type: 'setCursor', deviceId: 2, seq: 4 },
      ],
      (p) => {
        assert.deepEqual(p.cursors, [
          { deviceId: 1, seq: null },
          { deviceId: 2, seq: 4 },
        ]);
        assert.deepEqual(p.devices, [
          { deviceId: 1, device: null },
          { deviceId: 2, device: null },
        ]);
      },
    ],
    [
      'the last device op wins',
      [
        { type: 'putDevice', device: { id: 5, source: 'config', lastEventId: 1 } },
        { type: 'putDevice', device: { id: 5, source: 'config', lastEventId: 2 } },
      ],
      (p) => assert.deepEqual(p.devices, [{ deviceId: 5, device: { id: 5, source: 'config', lastEventId: 2 } }]),
    ],
    [
      'events get the next IDs and the commit time when they have none',
      [
        { type: 'appendEvent', event: { kind: 'user.seed', message: 'x' } },
        { type: 'appendEvent', event: { kind: 'import.done', message: 'y', at: 1, userId: 'u', deviceId: 0, detail: { k: 1 } } },
      ],
      (p) => {
        assert.equal(p.lastEventId, 6);
        assert.deepEqual(p.events, [
          { id: 5, kind: 'user.seed', message: 'x', at: 5000 },
          { id: 6, kind: 'import.done', message: 'y', at: 1, userId: 'u', deviceId: 0, detail: { k: 1 } },
        ]);
      },
    ],
    [
      'the last record per import hash wins',
      [
        { type: 'putImport', record: { hash: 'h', file: 'f', format: 'csv', state: 'running', startedAt: 1, checkpoint: 1, counts: { ok: 1, failed: 0, skipped: 0 } } },
        { type: 'putImport', record: { hash: 'h', file: 'f', format: 'csv', state: 'done', startedAt: 1, checkpoint: 2, counts: { ok: 2, failed: 0, skipped: 0 } } },
      ],
      (p) => assert.deepEqual(p.imports.map((r) => [r.hash, r.state, r.checkpoint]), [['h', 'done', 2]]),
    ],
  ];
  for (const [name, mutations, check] of cases) test(name, () => check(plan(mutations)));

  test('a cursor ahead of the seq after the commit is refused', () => {
    assert.doesNotThrow(() => plan([put('a'), { type: 'setCursor', deviceId: 1, seq: 11 }]));
    assert.throws(
      () => plan([put('a'), { type: 'setCursor', deviceId: 1, seq: 12 }]),
      (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_INVALID_ARGUMENT') && error.detail?.['deviceId'] === 1,
    );
  });
});

describe('prepareMutations', () => {
  test('copies values, so later edits by the caller do not reach the store', () => {
    const user = { ...emptyUser('a'), custom: { k: 'v' } };
    const device = { id: 1, source: 'config' as const, lastEventId: 0, accessGroups: [1] };
    const prepared = prepareMutations([
      { type: 'putUser', user, origin },
      { type: 'putDevice', device },
    ]);
    user.custom.k = 'changed';
    device.accessGroups.push(2);
    const [u, d] = prepared;
    assert.equal(u?.type === 'putUser' && JSON.parse(u.record).custom.k, 'v');
    assert.deepEqual(d?.type === 'putDevice' && d.device.accessGroups, [1]);
  });

  test('names the faulty mutation', () => {
    assert.throws(
      () => prepareMutations([put('a'), { type: 'deleteUser', userId: '', origin }]),
      (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_INVALID_ARGUMENT') && /mutations\[1\]\.userId/.test(error.message),
    );
  });
});
