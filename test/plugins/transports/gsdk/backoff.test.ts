import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RollcallError } from '../../../../daemon/errors.js';
import { isTransient, nextDelay, retry, SYNC_BACKOFF } from '../../../../plugins/transports/gsdk/backoff.js';

const middle = (): number => 0.5;
const lowest = (): number => 0;
const highest = (): number => 0.999_999;

function gatewayError(code: number): RollcallError {
  return new RollcallError('ROLLCALL_ERR_GATEWAY_CALL', 'failed', { detail: { method: 'Get', code } });
}

describe('nextDelay', () => {
  test('the sync policy is 1 s × 1.6 up to 2 min with ±20 % jitter', () => {
    assert.deepEqual(
      { baseMs: SYNC_BACKOFF.baseMs, factor: SYNC_BACKOFF.factor, maxMs: SYNC_BACKOFF.maxMs, jitter: SYNC_BACKOFF.jitter },
      { baseMs: 1000, factor: 1.6, maxMs: 120_000, jitter: 0.2 },
    );
  });

  const nominal: Array<[number, number]> = [
    [0, 1000],
    [1, 1600],
    [2, 2560],
    [3, 4096],
    [10, 109_951],
    [11, 120_000],
    [50, 120_000],
    [10_000, 120_000],
    [-3, 1000],
    [Number.NaN, 1000],
  ];
  for (const [attempt, expected] of nominal) {
    test(`attempt ${attempt} waits ${expected} ms without jitter`, () => {
      assert.equal(nextDelay(attempt, { random: middle }), expected);
    });
  }

  const jittered: Array<[number, () => number, number]> = [
    [0, lowest, 800],
    [0, highest, 1200],
    [2, lowest, 2048],
    [2, highest, 3072],
    // At the ceiling the jitter only shortens.
    [20, lowest, 96_000],
    [20, highest, 120_000],
  ];
  for (const [attempt, random, expected] of jittered) {
    test(`attempt ${attempt} with random=${random()} waits ${expected} ms`, () => {
      assert.equal(nextDelay(attempt, { random }), expected);
    });
  }

  test('every delay stays within the jitter band and the ceiling', () => {
    for (let attempt = 0; attempt < 30; attempt++) {
      const nominalMs = Math.min(120_000, 1000 * 1.6 ** attempt);
      for (let i = 0; i < 50; i++) {
        const delay = nextDelay(attempt);
        assert.ok(delay >= Math.floor(nominalMs * 0.8) && delay <= Math.min(120_000, Math.ceil(nominalMs * 1.2)), `attempt ${attempt}: ${delay}`);
      }
    }
  });

  test('a custom policy', () => {
    assert.equal(nextDelay(3, { baseMs: 10, factor: 2, maxMs: 1000, jitter: 0, random: lowest }), 80);
  });
});

describe('isTransient', () => {
  const table: Array<[string, unknown, boolean]> = [
    ['UNAVAILABLE', gatewayError(14), true],
    ['DEADLINE_EXCEEDED', gatewayError(4), true],
    ['ABORTED', gatewayError(10), true],
    ['INVALID_ARGUMENT', gatewayError(3), false],
    ['CANCELLED', gatewayError(1), false],
    ['RESOURCE_EXHAUSTED', gatewayError(8), false],
    ['a plain Error', new Error('x'), false],
    ['a RollcallError without a code', new RollcallError('ROLLCALL_ERR_GATEWAY_CALL', 'x'), false],
  ];
  for (const [name, error, expected] of table) {
    test(`${name} → ${expected}`, () => {
      assert.equal(isTransient(error), expected);
    });
  }
});

describe('retry', () => {
  const fast = { baseMs: 1, factor: 1, maxMs: 2, jitter: 0 };

  test('repeats transient failures until success', async () => {
    const seen: number[] = [];
    const value = await retry(async (attempt) => {
      seen.push(attempt);
      if (attempt < 2) throw gatewayError(14);
      return 'done';
    }, fast);
    assert.equal(value, 'done');
    assert.deepEqual(seen, [0, 1, 2]);
  });

  test('gives up after the attempts and throws the last failure', async () => {
    let calls = 0;
    await assert.rejects(
      retry(async () => {
        calls++;
        throw gatewayError(4);
      }, { ...fast, attempts: 3 }),
      (error: unknown) => error instanceof RollcallError && error.detail?.['code'] === 4,
    );
    assert.equal(calls, 3);
  });

  test('does not repeat a failure that is not retryable', async () => {
    let calls = 0;
    await assert.rejects(
      retry(async () => {
        calls++;
        throw gatewayError(3);
      }, fast),
      /failed/,
    );
    assert.equal(calls, 1);
  });

  test('a custom predicate decides', async () => {
    let calls = 0;
    const value = await retry(
      async () => {
        calls++;
        if (calls === 1) throw new Error('flaky');
        return calls;
      },
      { ...fast, retryable: (error) => error instanceof Error && error.message === 'flaky' },
    );
    assert.equal(value, 2);
  });

  test('an abort ends the wait with the signal\'s reason', async () => {
    const abort = new AbortController();
    const reason = new Error('stopping');
    const pending = retry(
      async () => {
        queueMicrotask(() => abort.abort(reason));
        throw gatewayError(14);
      },
      { baseMs: 60_000, factor: 1, maxMs: 60_000, jitter: 0 },
      abort.signal,
    );
    await assert.rejects(pending, (error: unknown) => error === reason);
  });

  test('an aborted signal stops before the first attempt', async () => {
    let calls = 0;
    await assert.rejects(
      retry(async () => {
        calls++;
      }, fast, AbortSignal.abort(new Error('gone'))),
      /gone/,
    );
    assert.equal(calls, 0);
  });
});
