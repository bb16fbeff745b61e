import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SeqWaiters } from '../../../daemon/store/seq-waiters.js';

function track(promise: Promise<number>) {
  const state: { value?: number; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

test('wait resolves at once when the seq is already past', async () => {
  const waiters = new SeqWaiters();
  assert.equal(await waiters.wait(3, 4), 4);
  assert.equal(waiters.size, 0);
});

test('advance wakes exactly the waiters it passes, with the new seq', async () => {
  const waiters = new SeqWaiters();
  const a = track(waiters.wait(0, 0));
  const b = track(waiters.wait(2, 0));
  const c = track(waiters.wait(5, 0));
  waiters.advance(3);
  await nextTurn();
  assert.deepEqual([a.value, b.value, c.settled], [3, 3, false]);
  assert.equal(waiters.size, 1);
  waiters.advance(5);
  await nextTurn();
  assert.equal(c.settled, false, 'seq 5 is not past 5');
  waiters.advance(6);
  await nextTurn();
  assert.equal(c.value, 6);
  assert.equal(waiters.size, 0);
});

test('abort rejects with the reason and forgets the waiter; a later abort does nothing', async () => {
  const waiters = new SeqWaiters();
  const controller = new AbortController();
  const aborted = track(waiters.wait(1, 0, controller.signal));
  const reason = new Error('stop');
  controller.abort(reason);
  await nextTurn();
  assert.equal(aborted.error, reason);
  assert.equal(waiters.size, 0);

  const second = new AbortController();
  const resolved = track(waiters.wait(1, 0, second.signal));
  waiters.advance(2);
  second.abort();
  await nextTurn();
  assert.equal(resolved.value, 2);
  assert.equal(resolved.error, undefined);
});

test('an already aborted signal rejects at once unless the seq is past', async () => {
  const waiters = new SeqWaiters();
  const reason = new Error('gone');
  await assert.rejects(waiters.wait(1, 0, AbortSignal.abort(reason)), (error) => error === reason);
  assert.equal(await waiters.wait(1, 2, AbortSignal.abort(reason)), 2);
  assert.equal(waiters.size, 0);
});

test('rejectAll rejects every waiter and leaves none', async () => {
  const waiters = new SeqWaiters();
  const reason = new Error('closing');
  const one = track(waiters.wait(1, 0));
  const two = track(waiters.wait(9, 0, new AbortController().signal));
  waiters.rejectAll(reason);
  await nextTurn();
  assert.equal(one.error, reason);
  assert.equal(two.error, reason);
  assert.equal(waiters.size, 0);
});
