/** Close and open again: nothing committed is lost, and numbering carries on. */
import assert from 'node:assert/strict';
import { clockPast, deleteUser, device, event, importRecord, putUser, snapshot, watch, settle, type Harness } from './harness.js';

export function reopenTests({ it }: Harness): void {
  it('reopening keeps seq, feed, horizon, cursors, devices, imports, events and the count', async (subject, t) => {
    if (!subject.reopen) {
      t.skip('this backend has no reopen');
      return;
    }
    let store = subject.store;
    await store.commit([putUser('a'), putUser('b'), putUser('c'), putUser('d')]);
    await store.commit([deleteUser('b'), event('user.delete', { userId: 'b' })]);
    const [tombstone] = (await store.changesSince(0)).filter((c) => c.op === 'delete');
    await clockPast(tombstone!.at);
    await store.pruneTombstones(Date.now());
    await store.commit([
      deleteUser('c'),
      { type: 'setCursor', deviceId: 1, seq: 5 },
      { type: 'setCursor', deviceId: 3, seq: 2 },
      { type: 'putDevice', device: device(1, { lastEventId: 99 }) },
      { type: 'putDevice', device: device(3) },
      { type: 'putImport', record: importRecord('f'.repeat(64), { checkpoint: 12 }) },
      event('import.running', { detail: { rows: 12 } }),
      event('sync.enroll.failed', { userId: 'a', deviceId: 3, at: 5 }),
    ]);
    const before = await snapshot(store);
    assert.equal(before.seq, 6);
    assert.equal(before.horizon, 6);
    assert.equal(before.count, 2);

    store = await subject.reopen();
    assert.deepEqual(await snapshot(store), before);
    assert.equal((await store.getUser('a'))?.name, 'User a');
    assert.deepEqual(
      (await store.queryEvents({ userId: 'a' })).map((e) => e.kind),
      ['sync.enroll.failed'],
    );
    assert.deepEqual(
      (await store.queryEvents({ until: 10 })).map((e) => e.kind),
      ['sync.enroll.failed'],
    );

    // Numbering carries on from where it was, and waiters work on the reopened store.
    const waiting = watch(store.waitForSeq(6));
    await settle();
    assert.equal(waiting.settled, false);
    assert.deepEqual(await store.commit([putUser('e'), event('after.reopen')]), { seq: 7 });
    assert.equal(await waiting.promise, 7);
    const events = await store.queryEvents();
    assert.deepEqual(
      events.map((e) => e.id),
      [1, 2, 3, 4],
    );
    assert.equal(await store.countUsers(), 3);
    await store.commit([putUser('a', { name: 'updated' })]);
    assert.deepEqual(
      (await store.changesSince(0)).map((c) => [c.seq, c.userId, c.op]),
      [
        [4, 'd', 'upsert'],
        [6, 'c', 'delete'],
        [7, 'e', 'upsert'],
        [8, 'a', 'upsert'],
      ],
    );
  });
}
