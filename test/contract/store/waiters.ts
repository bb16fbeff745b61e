/** waitForSeq(): woken by commits, never by polling; honours AbortSignal and close. */
import assert from 'node:assert/strict';
import { event, putUser, rejectsWith, settle, watch, type Harness } from './harness.js';

export function waiterTests({ it }: Harness): void {
  it('resolves at once when the seq is already past', async ({ store }) => {
    await store.commit([putUser('a'), putUser('b')]);
    assert.equal(await store.waitForSeq(0), 2);
    assert.equal(await store.waitForSeq(1), 2);
  });

  it('waits for a commit that moves the seq past it, not for other commits', async ({ store }) => {
    await store.commit([putUser('a')]);
    const waiting = watch(store.waitForSeq(1));
    await store.commit([{ type: 'setCursor', deviceId: 1, seq: 1 }, event('sync.ack')]);
    await settle();
    assert.equal(waiting.settled, false, 'a commit without user changes does not wake it');
    await store.commit([putUser('b'), putUser('c')]);
    assert.equal(await waiting.promise, 3);
  });

  it('wakes each waiter when its own seq is passed', async ({ store }) => {
    const w0 = watch(store.waitForSeq(0));
    const w1 = watch(store.waitForSeq(1));
    const w5 = watch(store.waitForSeq(5));
    await store.commit([putUser('a'), putUser('b')]);
    assert.equal(await w0.promise, 2);
    assert.equal(await w1.promise, 2);
    await settle();
    assert.equal(w5.settled, false);
    await store.commit([putUser('c'), putUser('d'), putUser('e'), putUser('f')]);
    assert.equal(await w5.promise, 6);
  });

  it('rejects with the signal reason when aborted, leaving other waiters alone', async ({ store }) => {
    const controller = new AbortController();
    const reason = new Error('worker stopping');
    const aborted = store.waitForSeq(0, controller.signal);
    const other = watch(store.waitForSeq(0));
    controller.abort(reason);
    await assert.rejects(aborted, (error) => error === reason);
    await settle();
    assert.equal(other.settled, false);
    await store.commit([putUser('a')]);
    assert.equal(await other.promise, 1);
  });

  it('rejects at once with an already aborted signal', async ({ store }) => {
    const reason = new Error('already gone');
    await assert.rejects(store.waitForSeq(0, AbortSignal.abort(reason)), (error) => error === reason);
  });

  it('a signal that aborts after the wait resolved changes nothing', async ({ store }) => {
    const controller = new AbortController();
    const waiting = store.waitForSeq(0, controller.signal);
    await store.commit([putUser('a')]);
    assert.equal(await waiting, 1);
    controller.abort();
    assert.equal(await store.waitForSeq(0, controller.signal), 1);
  });

  it('stop() rejects pending waiters with STORE_CLOSED', async ({ store }) => {
    const rejected = Promise.all([
      rejectsWith(store.waitForSeq(0), 'ROLLCALL_ERR_STORE_CLOSED'),
      rejectsWith(store.waitForSeq(3, new AbortController().signal), 'ROLLCALL_ERR_STORE_CLOSED'),
    ]);
    await store.stop();
    await rejected;
  });
}
