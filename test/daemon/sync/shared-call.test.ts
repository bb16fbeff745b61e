/**
 * Shared gateway calls under a soft deadline. No device is involved: the call is a promise
 * the test controls, and the durations the deadline learns come from an injected clock.
 * Nothing here is timed: where a call must still be waiting, a call of a warmed-up class
 * started beside it is cut first, which shows that its deadline passed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { pbkdf2 } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CUT_PARTS, Cut, PartsRelease, SharedCall, cutParts } from '../../../daemon/sync/shared-call.js';
import { SoftDeadline, type SoftDeadlineOptions } from '../../../daemon/sync/soft-deadline.js';

/**
 * A gateway call the test answers; like a gRPC call, it ends CANCELLED when its signal fires.
 * The test attaches no handler to it: a cut call's rejection that SharedCall left unhandled
 * would fail the test.
 */
class PendingCall<T> {
  signal: AbortSignal | undefined;
  settled = false;
  #resolve: ((value: T) => void) | undefined;

  start = (signal: AbortSignal): Promise<T> => {
    this.signal = signal;
    return new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      signal.addEventListener(
        'abort',
        () => {
          this.settled = true;
          reject(new Error('CANCELLED'));
        },
        { once: true },
      );
    });
  };

  answer(value: T): void {
    this.settled = true;
    this.#resolve!(value);
  }
}

/** A SharedCall with its own deadline, engine signal, cut count and duration clock. */
function sharedCall(options: Partial<SoftDeadlineOptions>) {
  const engine = new AbortController();
  const deadline = new SoftDeadline({ minSamples: 4, window: 16, factor: 1, floorMs: 1, ceilingMs: () => 60_000, ...options });
  const clock = { ms: 0 };
  let cuts = 0;
  const calls = new SharedCall({ signal: engine.signal, logger: pino({ level: 'silent' }), onCut: () => void cuts++, deadline, elapsed: () => clock.ms });
  return {
    calls,
    deadline,
    clock,
    engine,
    get cuts() {
      return cuts;
    },
    /** Shared calls of `users` × 2 devices that each took `ms` by the injected clock. */
    async warm(users: number, ms: number, count = 4): Promise<void> {
      for (let i = 0; i < count; i++) {
        const result = await calls.run('enroll', [1, 2], users, async () => {
          clock.ms += ms;
          return 'ok';
        });
        assert.equal(result, 'ok');
      }
    },
  };
}

describe('SharedCall.run', () => {
  test('a call for one device is never cut, and does not teach the deadline', async () => {
    const s = sharedCall({});
    await s.warm(10, 1);
    const alone = new PendingCall<string>();
    const running = s.calls.run('enroll', [1], 10, alone.start);
    // A shared call of the same class, started after it, is cut at its deadline ...
    const shared = new PendingCall<string>();
    assert.ok((await s.calls.run('enroll', [1, 2], 10, shared.start)) instanceof Cut);
    // ... while the call for one device still waits, with only the engine's signal.
    assert.equal(alone.settled, false);
    assert.equal(alone.signal, s.engine.signal);
    alone.answer('done');
    assert.equal(await running, 'done');
    assert.equal(s.cuts, 1, 'only the shared call was cut');

    const fresh = sharedCall({});
    for (let i = 0; i < 10; i++) await fresh.calls.run('enroll', [1], 10, async () => 'ok');
    assert.equal(fresh.deadline.budgetMs(10), undefined, 'calls for one device are no samples of shared calls');
  });

  test('a shared call whose size class has too few samples is not cut', async () => {
    const s = sharedCall({});
    await s.warm(10, 1); // 20 units: class 4
    await s.warm(500, 1, 3); // 1,000 units: class 9, one sample short
    const unknown = new PendingCall<string>();
    const running = s.calls.run('enroll', [1, 2], 500, unknown.start);
    const witness = new PendingCall<string>();
    assert.ok((await s.calls.run('enroll', [1, 2], 10, witness.start)) instanceof Cut, 'the warmed class is cut');
    assert.equal(unknown.settled, false, 'the other class waits on');
    assert.equal(unknown.signal?.aborted, false);
    s.clock.ms += 7;
    unknown.answer('done');
    assert.equal(await running, 'done');
    assert.equal(s.cuts, 1);
    assert.equal(s.deadline.budgetMs(1000), 7, 'it became the fourth sample of its class: its duration by the clock (p90 of 1,1,1,7)');
  });

  test('once the class has its samples, a shared call outlasting the deadline is a Cut: its signal is aborted and the cut counted', async () => {
    const s = sharedCall({ factor: 3 });
    await s.warm(10, 2);
    const budget = s.deadline.budgetMs(20);
    assert.equal(budget, 6);
    const slow = new PendingCall<string>();
    const result = await s.calls.run('enroll', [1, 2], 10, slow.start);
    assert.ok(result instanceof Cut);
    assert.equal(result.afterMs, budget);
    assert.equal(slow.signal?.aborted, true, 'the call itself is cancelled');
    assert.match(String((slow.signal?.reason as Error).message), /soft deadline of 6 ms/);
    assert.equal(s.engine.signal.aborted, false, 'the engine goes on');
    assert.equal(s.cuts, 1);
    // The cut counts as having lasted its deadline (p90 of 2,2,2,2,6 is 6: three times that).
    assert.equal(s.deadline.budgetMs(20), 18);
    // The cancelled call's end (CANCELLED) is nobody's error: SharedCall let it go.
    assert.equal(slow.settled, true);
    await new Promise((resolve) => setImmediate(resolve));
  });

  test('a shared call answering in time returns its value, and its duration is learnt', async () => {
    // A deadline of 10 s (ten thousand times the 1 ms calls) is never reached by a call the test answers at once.
    const s = sharedCall({ factor: 10_000 });
    await s.warm(10, 1);
    assert.equal(s.deadline.budgetMs(20), 10_000);
    const quick = new PendingCall<{ ok: number[] }>();
    const running = s.calls.run('enroll', [1, 2], 10, quick.start);
    s.clock.ms += 3;
    quick.answer({ ok: [1, 2] });
    assert.deepEqual(await running, { ok: [1, 2] });
    assert.equal(quick.signal?.aborted, false);
    assert.equal(s.cuts, 0);
    assert.equal(s.deadline.budgetMs(20), 30_000, 'it took 3 ms by the clock: the p90 of 1, 1, 1, 1, 3');
  });

  test('a reply that arrived while the event loop was busy elsewhere wins over a deadline that passed meanwhile', async () => {
    const s = sharedCall({ factor: 1 });
    await s.warm(10, 2); // a deadline of 2 ms
    const busyMs = 100;
    // The reply is I/O finished off the loop (a hash in libuv's thread pool, started with
    // the call), ready before the loop gets back to it; the loop is held past the deadline.
    const result = await s.calls.run('enroll', [1, 2], 10, () => {
      const reply = new Promise<string>((resolve) => pbkdf2('pin', 'salt', 1, 8, 'sha256', () => resolve('answered')));
      queueMicrotask(() => {
        const until = performance.now() + busyMs;
        while (performance.now() < until);
      });
      return reply;
    });
    assert.equal(result, 'answered');
    assert.equal(s.cuts, 0);
  });

  test('stopping the engine cancels a shared call under way', async () => {
    const s = sharedCall({ factor: 10_000 });
    await s.warm(10, 1);
    const call = new PendingCall<string>();
    const running = s.calls.run('delete', [1, 2], 10, call.start);
    s.engine.abort(new Error('stopping'));
    await assert.rejects(running, /CANCELLED/);
    assert.equal(call.signal?.aborted, true);
    assert.equal(s.cuts, 0, 'a stop is no cut');
  });
});

describe('cutParts', () => {
  const items = (n: number) => Array.from({ length: n }, (_, i) => i);
  const cases: { items: number; n?: number; sizes: number[] }[] = [
    { items: 0, sizes: [] },
    { items: 1, sizes: [1] },
    { items: 3, sizes: [1, 1, 1] },
    { items: 8, sizes: [1, 1, 1, 1, 1, 1, 1, 1] },
    { items: 16, sizes: [2, 2, 2, 2, 2, 2, 2, 2] },
    { items: 17, sizes: [3, 3, 3, 3, 3, 2] },
    { items: 500, sizes: [63, 63, 63, 63, 63, 63, 63, 59] },
    { items: 10, n: 2, sizes: [5, 5] },
    { items: 10, n: 4, sizes: [3, 3, 3, 1] },
    { items: 5, n: 1, sizes: [5] },
  ];
  for (const c of cases) {
    test(`${c.items} items in at most ${c.n ?? CUT_PARTS} parts: ${JSON.stringify(c.sizes)}`, () => {
      const n = c.n ?? CUT_PARTS;
      const parts = c.n === undefined ? cutParts(items(c.items)) : cutParts(items(c.items), c.n);
      assert.deepEqual(
        parts.map((p) => p.length),
        c.sizes,
      );
      assert.ok(parts.length <= n);
      assert.ok(
        parts.every((p) => p.length > 0 && p.length <= Math.ceil(c.items / n)),
        'no part empty, none larger than an n-th (rounded up)',
      );
      assert.deepEqual(parts.flat(), items(c.items), 'every item once, in order');
    });
  }
});

describe('PartsRelease', () => {
  test('the devices of parts that end in time go back together, when the last part ends', () => {
    const released: string[] = [];
    const parts = new PartsRelease<string>(3, (d) => released.push(d), 60_000);
    parts.release('a');
    parts.release('b');
    parts.partEnded();
    parts.release('c');
    parts.partEnded();
    assert.deepEqual(released, [], 'held while a part still runs');
    parts.release('d');
    parts.partEnded();
    assert.deepEqual(released, ['a', 'b', 'c', 'd']);
  });

  test('a part still running at the grace after the first part ended holds the others no longer', async () => {
    const released: string[] = [];
    const parts = new PartsRelease<string>(2, (d) => released.push(d), 1);
    parts.release('a');
    parts.partEnded();
    while (released.length === 0) await sleep(5);
    assert.deepEqual(released, ['a']);
    parts.release('b');
    assert.deepEqual(released, ['a', 'b'], 'from then on a device goes back as its part ends');
    parts.partEnded();
    assert.deepEqual(released, ['a', 'b']);
  });

  test('beforeRelease runs once, before the held devices go back', () => {
    const seen: string[] = [];
    const parts = new PartsRelease<string>(2, (d) => seen.push(d), 60_000, () => seen.push('judged'));
    parts.release('a');
    parts.partEnded();
    parts.release('b');
    parts.partEnded();
    parts.partEnded();
    assert.deepEqual(seen, ['judged', 'a', 'b']);
  });
});
