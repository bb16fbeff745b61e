/**
 * HeapRelease: one collection after the last of a burst of work and a quiet time, none after
 * stop(); and with V8's own collector, garbage is gone afterwards (an object only a WeakRef
 * still points to).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { HeapRelease } from '../../../daemon/obs/heap-release.js';

const logger = pino({ level: 'silent' });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await pause(10);
  assert.ok(condition(), what);
}

test('many bursts, one release once quiet; none after stop', async () => {
  let collected = 0;
  const heap = new HeapRelease({ logger, quietMs: 30, collect: () => collected++ });
  for (let i = 0; i < 5; i++) {
    heap.afterBurst();
    await pause(5);
  }
  await until('a release', () => heap.collections === 1);
  await pause(100);
  assert.equal(heap.collections, 1, 'no burst since: no second release');
  assert.equal(collected, 2, 'a release collects twice (the second gives the emptied pages back)');

  heap.afterBurst();
  heap.stop();
  await pause(100);
  assert.equal(collected, 2, 'stopped before the quiet time ended');
  heap.afterBurst();
  await pause(100);
  assert.equal(collected, 2, 'a stopped release does nothing');
});

test("with V8's collector, what only a WeakRef holds is collected", async () => {
  const heap = new HeapRelease({ logger, quietMs: 10 });
  const ref = ((): WeakRef<object> => new WeakRef({ garbage: new Array(1000).fill('x') }))();
  await pause(0);
  heap.afterBurst();
  await until('the collection', () => heap.collections === 1);
  await pause(0);
  assert.equal(ref.deref(), undefined);
  heap.stop();
});
