/** commit(): seqs, atomicity, argument checks, ordering under concurrency, isolation. */
import assert from 'node:assert/strict';
import { emptyUser } from '../../../daemon/model/user.js';
import type { Mutation } from '../../../daemon/plugins/api.js';
import {
  device,
  deleteUser,
  event,
  importRecord,
  putUser,
  rejectsWith,
  server,
  snapshot,
  user,
  type Harness,
} from './harness.js';

/** Mutations a store must refuse: each case makes the whole commit fail. */
function malformedCommits(): [string, unknown][] {
  const cyclic: Record<string, unknown> = { id: 'cyclic', name: 'loop' };
  cyclic['self'] = cyclic;
  const withBigInt = { ...emptyUser('big'), custom: { n: 1n } };
  return [
    ['mutations that are not an array', putUser('a')],
    ['an unknown type', [{ type: 'putUsers', user: user('a'), origin: server }]],
    ['a null mutation', [null]],
    ['putUser without a user', [{ type: 'putUser', origin: server }]],
    ['putUser with a missing id', [{ type: 'putUser', user: { name: 'x' }, origin: server }]],
    ['putUser with an empty id', [{ type: 'putUser', user: user(''), origin: server }]],
    ['putUser with a numeric id', [{ type: 'putUser', user: { ...user('a'), id: 7 }, origin: server }]],
    ['putUser with a lone surrogate in the id', [{ type: 'putUser', user: user('a\ud800'), origin: server }]],
    ['putUser without an origin', [{ type: 'putUser', user: user('a') }]],
    ['putUser with an unknown origin kind', [{ type: 'putUser', user: user('a'), origin: { kind: 'robot' } }]],
    ['putUser with a device origin lacking deviceId', [{ type: 'putUser', user: user('a'), origin: { kind: 'device' } }]],
    ['putUser with a cyclic value', [{ type: 'putUser', user: cyclic, origin: server }]],
    ['putUser with a BigInt', [{ type: 'putUser', user: withBigInt, origin: server }]],
    ['deleteUser without a userId', [{ type: 'deleteUser', origin: server }]],
    ['setCursor with a fractional seq', [{ type: 'setCursor', deviceId: 1, seq: 0.5 }]],
    ['setCursor with a negative seq', [{ type: 'setCursor', deviceId: 1, seq: -1 }]],
    ['setCursor with a string seq', [{ type: 'setCursor', deviceId: 1, seq: '0' }]],
    ['setCursor with a string deviceId', [{ type: 'setCursor', deviceId: '1', seq: 0 }]],
    ['setCursor ahead of the seq', [{ type: 'setCursor', deviceId: 1, seq: 99 }]],
    ['putDevice without an id', [{ type: 'putDevice', device: { source: 'config', lastEventId: 0 } }]],
    ['deleteDevice with a negative id', [{ type: 'deleteDevice', deviceId: -3 }]],
    ['putImport without a hash', [{ type: 'putImport', record: { ...importRecord('x'), hash: '' } }]],
    ['putImport with an unknown state', [{ type: 'putImport', record: { ...importRecord('ab'), state: 'paused' } }]],
    ['putImport with a fractional checkpoint', [{ type: 'putImport', record: importRecord('ab', { checkpoint: 1.5 }) }]],
    ['appendEvent without a kind', [{ type: 'appendEvent', event: { message: 'm' } }]],
    ['appendEvent without a message', [{ type: 'appendEvent', event: { kind: 'k' } }]],
    ['appendEvent with a fractional at', [{ type: 'appendEvent', event: { kind: 'k', message: 'm', at: 1.5 } }]],
    ['appendEvent with a non-object detail', [{ type: 'appendEvent', event: { kind: 'k', message: 'm', detail: 'x' } }]],
  ];
}

export function commitTests({ it }: Harness): void {
  it('each user mutation takes the next seq; other mutations leave it', async ({ store }) => {
    assert.deepEqual(await store.commit([putUser('a'), putUser('b'), deleteUser('c')]), { seq: 3 });
    assert.equal(store.currentSeq(), 3);
    const other: Mutation[] = [
      { type: 'setCursor', deviceId: 1, seq: 2 },
      { type: 'putDevice', device: device(1) },
      { type: 'putImport', record: importRecord('aa') },
      event('sync.enroll.failed'),
    ];
    assert.deepEqual(await store.commit(other), { seq: 3 });
    assert.deepEqual(await store.commit([]), { seq: 3 });
    assert.deepEqual(await store.commit([putUser('d')]), { seq: 4 });
  });

  it('a user twice in one commit: both ops take a seq, the last wins and is the one feed entry', async ({ store }) => {
    const result = await store.commit([putUser('a', { name: 'first' }), putUser('b'), putUser('a', { name: 'second' })]);
    assert.equal(result.seq, 3);
    assert.equal((await store.getUser('a'))?.name, 'second');
    assert.equal(await store.countUsers(), 2);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId, c.op]),
      [
        [2, 'b', 'upsert'],
        [3, 'a', 'upsert'],
      ],
    );
  });

  it('put then delete of a user in one commit leaves a tombstone and no user', async ({ store }) => {
    await store.commit([putUser('a'), deleteUser('a')]);
    assert.equal(await store.getUser('a'), undefined);
    assert.equal(await store.countUsers(), 0);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId, c.op]),
      [[2, 'a', 'delete']],
    );
  });

  it('a malformed mutation rejects the whole commit with INVALID_ARGUMENT and changes nothing', async ({ store }) => {
    await store.commit([putUser('kept'), { type: 'setCursor', deviceId: 1, seq: 1 }, event('user.update.server')]);
    const before = await snapshot(store);
    for (const [name, bad] of malformedCommits()) {
      const mutations = Array.isArray(bad)
        ? [putUser('z'), { type: 'putImport', record: importRecord('cafe') }, ...bad, event('never')]
        : bad;
      await rejectsWith(store.commit(mutations as Mutation[]), 'ROLLCALL_ERR_STORE_INVALID_ARGUMENT', name);
      assert.deepEqual(await snapshot(store), before, `${name} changed the store`);
    }
  });

  it('a cursor may reach the seq of user changes in the same commit, not beyond', async ({ store }) => {
    assert.deepEqual(await store.commit([putUser('a'), putUser('b'), { type: 'setCursor', deviceId: 1, seq: 2 }]), {
      seq: 2,
    });
    assert.equal(await store.cursor(1), 2);
    await rejectsWith(
      store.commit([putUser('c'), { type: 'setCursor', deviceId: 1, seq: 4 }]),
      'ROLLCALL_ERR_STORE_INVALID_ARGUMENT',
    );
    assert.equal(store.currentSeq(), 2);
    assert.equal(await store.getUser('c'), undefined);
    assert.equal(await store.cursor(1), 2);
  });

  it('a cursor is checked in turn: it may name the seq of a commit queued before it', async ({ store }) => {
    const first = store.commit([putUser('a')]);
    const second = store.commit([{ type: 'setCursor', deviceId: 7, seq: 1 }]);
    assert.deepEqual(await first, { seq: 1 });
    assert.deepEqual(await second, { seq: 1 });
    assert.equal(await store.cursor(7), 1);
  });

  it('concurrent commits are applied one at a time, in call order', async ({ store }) => {
    const ids = Array.from({ length: 40 }, (_, i) => `user-${String(i).padStart(2, '0')}`);
    const results = await Promise.all(
      ids.map((id, i) => store.commit(i % 5 === 0 ? [putUser(id), event('user.update.server', { userId: id })] : [putUser(id)])),
    );
    assert.deepEqual(
      results.map((r) => r.seq),
      ids.map((_, i) => i + 1),
    );
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId]),
      ids.map((id, i) => [i + 1, id]),
    );
    const events = await store.queryEvents();
    assert.deepEqual(
      events.map((e) => [e.id, e.userId]),
      ids.filter((_, i) => i % 5 === 0).map((id, n) => [n + 1, id]),
    );
  });

  it('a failed commit does not stop the commits queued behind it', async ({ store }) => {
    const results = await Promise.allSettled([
      store.commit([putUser('a')]),
      store.commit([putUser('b'), { type: 'setCursor', deviceId: 1, seq: 50 }]),
      store.commit([putUser('c')]),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(store.currentSeq(), 2);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => c.userId),
      ['a', 'c'],
    );
  });

  it('a commit made `after` an earlier one applies only if that one did, and fails with its error', async ({ store }) => {
    const first = store.commit([putUser('a')]);
    const applied = store.commit([putUser('b')], { after: first });
    const failed = store.commit([putUser('c'), { type: 'setCursor', deviceId: 1, seq: 50 }], { after: applied });
    const behind = store.commit([putUser('d')], { after: failed });
    const unrelated = store.commit([putUser('e')]);
    const results = await Promise.allSettled([first, applied, failed, behind, unrelated]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    const [, , failure, follower] = results as PromiseRejectedResult[];
    assert.equal(follower!.reason, failure!.reason, 'the follower fails with the error of the commit it followed');
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => c.userId),
      ['a', 'b', 'e'],
    );
    await rejectsWith(store.commit([putUser('f')], { after: 'not a promise' as unknown as Promise<unknown> }), 'ROLLCALL_ERR_STORE_INVALID_ARGUMENT');
  });

  it('values are copied on the way in and on the way out', async ({ store }) => {
    const original = user('a', { cards: [{ type: 1, data: 'AQID' }], custom: { badge: 'x' } });
    const pending = store.commit([{ type: 'putUser', user: original, origin: server }]);
    original.name = 'changed after commit()';
    original.cards.push({ type: 1, data: 'BAUG' });
    await pending;
    const read = await store.getUser('a');
    assert.equal(read?.name, 'User a');
    assert.equal(read?.cards.length, 1);
    read!.custom!['badge'] = 'mutated';
    read!.cards.length = 0;
    const again = await store.getUser('a');
    assert.equal(again?.custom?.['badge'], 'x');
    assert.equal(again?.cards.length, 1);

    const record = device(4, { accessGroups: [1] });
    await store.commit([{ type: 'putDevice', device: record }]);
    record.accessGroups!.push(2);
    const stored = await store.getDevice(4);
    stored!.accessGroups!.push(3);
    assert.deepEqual((await store.getDevice(4))?.accessGroups, [1]);
  });

  it('values are stored as JSON: undefined fields are dropped', async ({ store }) => {
    await store.commit([putUser('a', { photo: undefined, department: 'ops' })]);
    const read = await store.getUser('a');
    assert.ok(read);
    assert.equal(Object.hasOwn(read, 'photo'), false);
    assert.equal(read.department, 'ops');
  });
}
