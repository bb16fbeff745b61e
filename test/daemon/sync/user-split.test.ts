/**
 * The batch split of user-split.ts, against a scripted device: which users end refused,
 * how many calls it takes, and when the split gives up and blames the device.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceFailure } from '../../../daemon/plugins/api.js';
import { DeviceRefusal } from '../../../daemon/sync/device-health.js';
import { halves, sendSplitting, splitFor, UNKNOWN_ALONE_LIMIT } from '../../../daemon/sync/user-split.js';
import { BATCH_CAP_GROWS_AFTER, DeviceState } from '../../../daemon/sync/device-state.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';

const internal: DeviceFailure = { reason: 'unknown', code: 13, codeName: 'INTERNAL', message: 'device 7: internal error' };
const invalid: DeviceFailure = { reason: 'refused', code: 3, codeName: 'INVALID_ARGUMENT', message: 'device 7: bad template' };
const timeout: DeviceFailure = { reason: 'timeout', code: 4, codeName: 'DEADLINE_EXCEEDED', message: 'device 7: timed out' };
const down: DeviceFailure = { reason: 'unavailable', code: 14, codeName: 'UNAVAILABLE', message: 'device 7 is disconnected' };

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** A device that fails any batch holding a poisoned item with `failure`; counts and records the batches it got. */
function device(poisoned: readonly number[], failure = internal) {
  const calls: number[][] = [];
  const took = new Set<number>();
  const send = async (part: readonly number[]): Promise<DeviceFailure | undefined> => {
    calls.push([...part]);
    if (part.some((item) => poisoned.includes(item))) return failure;
    for (const item of part) took.add(item);
    return undefined;
  };
  return { calls, took, send };
}

describe('user split', () => {
  test('how each reason splits', () => {
    assert.equal(splitFor(internal), 'users');
    assert.equal(splitFor(invalid), 'users');
    assert.equal(splitFor(timeout), 'smaller');
    assert.equal(splitFor(down), undefined);
    assert.equal(splitFor({ ...down, reason: 'full' }), undefined);
    assert.equal(splitFor({ ...down, reason: 'absent' }), undefined);
    assert.deepEqual(halves([1, 2, 3]), [[1, 2], [3]]);
    assert.deepEqual(halves([1]), [[1], []]);
  });

  test('one poisoned user in 100: only it is refused, the 99 go through, in O(log n) calls', async () => {
    for (const bad of [1, 37, 50, 51, 100]) {
      const d = device([bad]);
      const refused = await sendSplitting(7, range(100), d.send);
      assert.deepEqual(refused.map((r) => r.item), [bad]);
      assert.equal(refused[0]!.failure.codeName, 'INTERNAL');
      assert.equal(d.took.size, 99);
      assert.ok(!d.took.has(bad));
      // The whole batch, then about one call per level of a 7-level split.
      assert.ok(d.calls.length <= 2 * Math.ceil(Math.log2(100)) + 1, `user ${bad}: ${d.calls.length} calls`);
      assert.ok(d.calls.some((c) => c.length === 1 && c[0] === bad), 'the user is refused on its own answer');
    }
  });

  test('two poisoned users: both refused, the rest through, far fewer calls than one by one', async () => {
    const d = device([12, 88]);
    const refused = await sendSplitting(7, range(100), d.send);
    assert.deepEqual(refused.map((r) => r.item).sort((a, b) => a - b), [12, 88]);
    assert.equal(d.took.size, 98);
    assert.ok(d.calls.length <= 4 * Math.ceil(Math.log2(100)) + 1, `${d.calls.length} calls`);
  });

  test('a failure already known is not sent whole again', async () => {
    const d = device([5]);
    const refused = await sendSplitting(7, range(8), d.send, internal);
    assert.deepEqual(refused.map((r) => r.item), [5]);
    assert.ok(!d.calls.some((c) => c.length === 8), 'the batch of 8 was not sent again');
  });

  test('a batch of one that failed for its content is refused on that answer', async () => {
    const d = device([1], invalid);
    const refused = await sendSplitting(7, [1], d.send, invalid);
    assert.deepEqual(refused.map((r) => r.item), [1]);
    assert.equal(d.calls.length, 0);
  });

  test('a failure that does not come back when split refuses nobody', async () => {
    let first = true;
    const took: number[] = [];
    const refused = await sendSplitting(7, range(10), async (part) => {
      if (first) {
        first = false;
        return internal;
      }
      took.push(...part);
      return undefined;
    });
    assert.deepEqual(refused, []);
    assert.deepEqual(took.sort((a, b) => a - b), range(10));
  });

  test('a timeout halves the batch until the parts go through; nobody is refused', async () => {
    const calls: number[] = [];
    const took = new Set<number>();
    const refused = await sendSplitting(7, range(100), async (part) => {
      calls.push(part.length);
      if (part.length > 10) return timeout;
      for (const item of part) took.add(item);
      return undefined;
    });
    assert.deepEqual(refused, []);
    assert.equal(took.size, 100);
    assert.ok(calls.every((n) => n <= 100));
    assert.ok(calls.filter((n) => n <= 10).every((n) => n >= 6), `parts: ${calls.join(',')}`);
  });

  test('a single user that still times out is the device\'s trouble: DeviceRefusal, not a refusal', async () => {
    await assert.rejects(
      sendSplitting(7, range(4), async () => timeout),
      (error: unknown) => error instanceof DeviceRefusal && error.failure.reason === 'timeout',
    );
  });

  test('a device that answers INTERNAL to everything is the device\'s trouble: nobody refused, in about log2(n) + 3 calls', async () => {
    const d = device(range(100));
    await assert.rejects(sendSplitting(7, range(100), d.send), (error: unknown) => error instanceof DeviceRefusal && error.failure.codeName === 'INTERNAL');
    assert.equal(d.took.size, 0);
    assert.ok(d.calls.length <= Math.ceil(Math.log2(100)) + UNKNOWN_ALONE_LIMIT + 1, `${d.calls.length} calls`);
  });

  test('a device that refuses every user for its content refuses them all (the code names the content)', async () => {
    const d = device(range(6), invalid);
    const refused = await sendSplitting(7, range(6), d.send);
    assert.deepEqual(refused.map((r) => r.item).sort((a, b) => a - b), range(6));
  });

  test('two users at fault next to each other at the start are still only theirs', async () => {
    const d = device([1, 2]);
    const refused = await sendSplitting(7, range(100), d.send);
    assert.deepEqual(refused.map((r) => r.item), [1, 2]);
    assert.equal(d.took.size, 98);
  });

  test('a device-level failure during the split stops it', async () => {
    let n = 0;
    await assert.rejects(
      sendSplitting(7, range(16), async () => (n++ === 0 ? internal : down)),
      (error: unknown) => error instanceof DeviceRefusal && error.failure.reason === 'unavailable',
    );
    assert.equal(n, 2);
  });
});

describe('batch cap of a device whose batches timed out', () => {
  test('caps at the largest part that went through, doubles after enough whole batches at the cap, ends at the configured size', () => {
    const d = new DeviceState({ id: 7 } as DeviceRecord, 0);
    assert.equal(d.batchCap, undefined);
    d.batchWent(500, 500);
    assert.equal(d.batchCap, undefined, 'no cap without a timeout');
    d.capBatches(12);
    assert.equal(d.batchCap, 12);
    d.capBatches(30);
    assert.equal(d.batchCap, 12, 'a later, larger part does not raise it');
    d.capBatches(0);
    assert.equal(d.batchCap, 1, 'never below one user');
    for (let i = 1; i < BATCH_CAP_GROWS_AFTER; i += 1) d.batchWent(1, 8);
    assert.equal(d.batchCap, 1);
    d.batchWent(1, 8);
    assert.equal(d.batchCap, 2);
    d.batchWent(1, 8);
    assert.equal(d.batchCapRuns, 0, 'a batch below the cap says nothing');
    for (let i = 0; i < BATCH_CAP_GROWS_AFTER; i += 1) d.batchWent(2, 8);
    assert.equal(d.batchCap, 4);
    for (let i = 0; i < BATCH_CAP_GROWS_AFTER; i += 1) d.batchWent(4, 8);
    assert.equal(d.batchCap, undefined, 'back to the configured size');
  });
});
