/** The change feed: coalescing, tombstones, pruning and the horizon. */
import assert from 'node:assert/strict';
import type { Origin } from '../../../daemon/model/user.js';
import { clockPast, deleteUser, putUser, server, type Harness } from './harness.js';

export function feedTests({ it }: Harness): void {
  it('the feed keeps one entry per user, its latest op, in seq order', async ({ store }) => {
    await store.commit([putUser('a')]);
    await store.commit([putUser('b')]);
    await store.commit([putUser('a', { name: 'again' })]);
    await store.commit([putUser('c')]);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId]),
      [
        [2, 'b'],
        [3, 'a'],
        [4, 'c'],
      ],
    );
    assert.deepEqual(
      (await store.changesSince(2)).map((c) => c.seq),
      [3, 4],
    );
    assert.deepEqual(await store.changesSince(4), []);
    assert.deepEqual(await store.changesSince(1000), []);
  });

  it('a change carries its op, commit time and origin', async ({ store }) => {
    const device: Origin = { kind: 'device', deviceId: 541234567 };
    const imported: Origin = { kind: 'import', file: 'staff.csv', format: 'csv' };
    const before = Date.now();
    await store.commit([putUser('a', {}, device), deleteUser('b', imported)]);
    const after = Date.now();
    const [a, b] = await store.changesSince(0);
    assert.deepEqual({ ...a, at: 0 }, { seq: 1, userId: 'a', op: 'upsert', at: 0, origin: device });
    assert.deepEqual({ ...b, at: 0 }, { seq: 2, userId: 'b', op: 'delete', at: 0, origin: imported });
    assert.ok(a!.at >= before && a!.at <= after, 'at is the commit time');
    assert.equal(a!.at, b!.at, 'one commit, one time');
  });

  it('limit pages through the feed without skipping or repeating', async ({ store }) => {
    for (let i = 0; i < 25; i++) await store.commit([putUser(`u${i % 17}`, { name: `v${i}` })]);
    const all = await store.changesSince(0);
    assert.equal(all.length, 17);
    const paged = [];
    let cursor = 0;
    for (;;) {
      const page = await store.changesSince(cursor, { limit: 4 });
      assert.ok(page.length <= 4);
      if (page.length === 0) break;
      paged.push(...page);
      cursor = page[page.length - 1]!.seq;
    }
    assert.deepEqual(paged, all);
    assert.deepEqual(await store.changesSince(0, { limit: 0 }), []);
  });

  it('deleting a user removes it and leaves a tombstone; the count follows', async ({ store }) => {
    await store.commit([putUser('a'), putUser('b')]);
    assert.equal(await store.countUsers(), 2);
    await store.commit([deleteUser('a')]);
    assert.equal(await store.getUser('a'), undefined);
    assert.equal(await store.countUsers(), 1);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId, c.op]),
      [
        [2, 'b', 'upsert'],
        [3, 'a', 'delete'],
      ],
    );
  });

  it('deleting a user that does not exist is still a change (devices may hold it)', async ({ store }) => {
    assert.deepEqual(await store.commit([deleteUser('ghost')]), { seq: 1 });
    assert.equal(await store.countUsers(), 0);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId, c.op]),
      [[1, 'ghost', 'delete']],
    );
    await store.commit([deleteUser('ghost')]);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.op]),
      [[2, 'delete']],
    );
  });

  it('a user put again after a delete replaces its tombstone', async ({ store }) => {
    await store.commit([putUser('a')]);
    await store.commit([deleteUser('a')]);
    await store.commit([putUser('a', { name: 'back' })]);
    assert.equal(await store.countUsers(), 1);
    assert.equal((await store.getUser('a'))?.name, 'back');
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId, c.op]),
      [[3, 'a', 'upsert']],
    );
    // The old tombstone is gone, so pruning finds nothing and the horizon stays.
    assert.equal(await store.pruneTombstones(Date.now() + 60_000), 0);
    assert.equal(await store.feedHorizon(), 0);
  });

  it('pruneTombstones removes tombstones older than the given time and moves the horizon', async ({ store }) => {
    await store.commit([putUser('a'), putUser('b'), putUser('c'), putUser('d')]);
    await store.commit([deleteUser('a'), deleteUser('b')]);
    const [, , oldest] = await store.changesSince(0);
    assert.equal(oldest?.op, 'delete');
    const before = await clockPast(oldest!.at);
    await store.commit([deleteUser('c')]);

    assert.equal(await store.pruneTombstones(oldest!.at), 0, 'before is exclusive');
    assert.equal(await store.feedHorizon(), 0);
    assert.equal(await store.pruneTombstones(before), 2);
    assert.equal(await store.feedHorizon(), 7, '1 + the highest pruned seq (b deleted at 6)');
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId, c.op]),
      [
        [4, 'd', 'upsert'],
        [7, 'c', 'delete'],
      ],
    );
    assert.equal(await store.pruneTombstones(before), 0);
    assert.equal(await store.feedHorizon(), 7);
    assert.equal(store.currentSeq(), 7, 'pruning is not a change');

    // Upserts are never pruned; a pruned user can come back.
    await store.commit([putUser('a')]);
    assert.equal(await store.countUsers(), 2);
    assert.equal(await store.pruneTombstones(Date.now() + 60_000), 1);
    assert.equal(await store.feedHorizon(), 8);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId, c.op]),
      [
        [4, 'd', 'upsert'],
        [8, 'a', 'upsert'],
      ],
    );
    await store.commit([deleteUser('a')]);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId, c.op]),
      [
        [4, 'd', 'upsert'],
        [9, 'a', 'delete'],
      ],
    );
    assert.equal(await store.countUsers(), 1);
  });

  it('the count matches the users through every kind of change', async ({ store }) => {
    const origin: Origin = server;
    await store.commit([putUser('a'), putUser('b'), putUser('c')]);
    await store.commit([putUser('a', { name: 'update' }), deleteUser('b'), deleteUser('nobody')]);
    await store.commit([putUser('b'), putUser('b'), deleteUser('c'), putUser('c')]);
    await store.commit([{ type: 'deleteUser', userId: 'a', origin }, putUser('d'), deleteUser('d')]);
    assert.equal(await store.countUsers(), 2);
    const ids: string[] = [];
    for await (const u of store.scanUsers()) ids.push(u.id);
    assert.deepEqual(ids, ['b', 'c']);
  });
}
