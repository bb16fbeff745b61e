/**
 * The scheduler's holding of devices: work run by `runExclusive`, and the loop, over a real
 * store and fleet. The work it starts (checks, feed batches) is the test's, promises it
 * settles itself: the scheduler's concern is who holds which device when, not what the
 * work does to devices. Nothing here is timed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { tempLevelStore } from '../../helpers/stores.js';
import { Scheduler, type SyncWork } from '../../../daemon/sync/scheduler.js';
import { ExpectedSets } from '../../../daemon/sync/expected-sets.js';
import { Wakeup } from '../../../daemon/sync/wakeup.js';
import { ImportHold } from '../../../daemon/sync/import-hold.js';
import type { DeviceState } from '../../../daemon/sync/device-state.js';
import { TEST_SYNC_CONFIG, makeUser, putUsers } from '../../helpers/sync-harness.js';
import { syncParts, type SyncParts } from '../../helpers/sync-parts.js';

/** A promise the test settles. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Tracks whether a promise has settled, without timing anything. */
function watch<T>(promise: Promise<T>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

/** Lets everything a settled promise or a wake-up started run (several macrotasks). */
async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await nextTurn();
}

/** Every value `device.busy` is set to, in order. */
function busyLog(device: DeviceState): boolean[] {
  const log: boolean[] = [];
  let busy = device.busy;
  Object.defineProperty(device, 'busy', {
    get: () => busy,
    set: (value: boolean) => {
      busy = value;
      log.push(value);
    },
  });
  return log;
}

interface Subject {
  scheduler: Scheduler;
  parts: SyncParts;
  devices: DeviceState[];
  /** The device IDs of each feed batch the loop started, in order. */
  feeds: number[][];
  /** Resolves at the loop's next feed batch. */
  nextFeed(): Promise<number[]>;
}

function withScheduler(title: string, body: (s: Subject) => Promise<void>, options: { timeout?: number; hold?: ImportHold } = {}): void {
  test(title, { timeout: options.timeout }, async () => {
    const stored = await tempLevelStore();
    // No check on connect: the loop's only work here is feeding devices behind the head.
    const parts = syncParts({
      store: stored.store,
      sync: { reconcile: { ...TEST_SYNC_CONFIG.reconcile, onConnect: false } },
      devices: [1, 2, 3].map((id) => ({ id, port: 51211, useSSL: false, accessGroups: [] })),
    });
    const feeds: number[][] = [];
    let feedWaiters: ((ids: number[]) => void)[] = [];
    const work: SyncWork = {
      check: async () => undefined,
      feed: async (group) => {
        const ids = group.map((d) => d.id);
        feeds.push(ids);
        // The batch is acknowledged: the devices are at the head.
        for (const device of group) device.cursor = parts.fleet.target(device);
        const waiters = feedWaiters;
        feedWaiters = [];
        for (const w of waiters) w(ids);
      },
    };
    const wakeup = new Wakeup();
    if (options.hold) options.hold.onRelease = () => wakeup.wake();
    const scheduler = new Scheduler({ ctx: parts.ctx, fleet: parts.fleet, expected: new ExpectedSets(parts), wakeup, work, ...(options.hold ? { hold: options.hold } : {}) });
    try {
      await parts.fleet.start();
      const devices = parts.fleet.devices.sort((a, b) => a.id - b.id);
      await body({ scheduler, parts, devices, feeds, nextFeed: () => new Promise((resolve) => feedWaiters.push(resolve)) });
    } finally {
      parts.stop();
      await scheduler.stop();
      await stored.cleanup();
    }
  });
}

describe('Scheduler.runExclusive', () => {
  withScheduler('holds its devices (busy) while its work runs, returns its value, and frees them after', async ({ scheduler, devices: [a, b] }) => {
    const work = deferred<string>();
    let ran = false;
    const run = scheduler.runExclusive([a!, b!], () => {
      ran = true;
      return work.promise;
    });
    await settle();
    assert.equal(ran, true);
    assert.deepEqual([a!.busy, b!.busy], [true, true]);
    work.resolve('verified');
    assert.equal(await run, 'verified');
    assert.deepEqual([a!.busy, b!.busy], [false, false]);

    const failing = scheduler.runExclusive([a!], async () => {
      throw new Error('the device said no');
    });
    await assert.rejects(failing, /the device said no/);
    assert.equal(a!.busy, false, 'freed after a failure too');
  });

  withScheduler('waits for a busy device; the device is handed to it without being free in between', async ({ scheduler, devices: [a] }) => {
    const log = busyLog(a!);
    const first = deferred();
    const one = scheduler.runExclusive([a!], () => first.promise);
    let secondRan = false;
    const second = deferred();
    const two = scheduler.runExclusive([a!], () => {
      secondRan = true;
      assert.equal(a!.busy, true);
      return second.promise;
    });
    await settle();
    assert.equal(secondRan, false, 'the second waits while the first holds the device');
    first.resolve();
    await one;
    await settle();
    assert.equal(secondRan, true);
    assert.equal(a!.busy, true);
    second.resolve();
    await two;
    assert.deepEqual(log, [true, false], 'taken once, freed once: never free between the two');
  });

  withScheduler('a device freed while work waits for it goes to that work before the loop feeds it', async ({ scheduler, parts, devices: [a], feeds, nextFeed }) => {
    const first = deferred();
    const one = scheduler.runExclusive([a!], () => first.promise);
    await settle();
    scheduler.start();
    parts.fleet.setConnected(a!.id, true);
    await putUsers(parts.ctx.store, makeUser('1'));
    await settle();
    assert.deepEqual(feeds, [], 'the loop does not feed a device held by runExclusive');

    let fedBeforeSecond: number[][] | undefined;
    const second = deferred();
    const two = scheduler.runExclusive([a!], () => {
      fedBeforeSecond = [...feeds];
      return second.promise;
    });
    first.resolve();
    await one;
    await settle();
    assert.deepEqual(fedBeforeSecond, [], 'handed to the waiting work, not to the loop');
    assert.deepEqual(feeds, [], 'nor fed while that work holds it');
    const fed = nextFeed();
    second.resolve();
    await two;
    assert.deepEqual(await fed, [a!.id], 'then the loop feeds it');
  });

  withScheduler(
    'takes several devices in ID order, so runs that name them in other orders never wait for each other',
    async ({ scheduler, devices: [a, b, c] }) => {
      // Device 1 is held; work for 3, 1 and 2 takes none while it waits for 1.
      const holder = deferred();
      const held = scheduler.runExclusive([a!], () => holder.promise);
      const order: string[] = [];
      const x = scheduler.runExclusive([c!, a!, b!], async () => void order.push('x'));
      await settle();
      assert.deepEqual([b!.busy, c!.busy], [false, false], 'nothing taken past the device it waits for');
      // Two runs naming the same devices in opposite orders.
      const y = scheduler.runExclusive([b!, c!], async () => void order.push('y'));
      const z = scheduler.runExclusive([c!, b!], async () => void order.push('z'));
      holder.resolve();
      await Promise.all([held, x, y, z]);
      assert.deepEqual(order.sort(), ['x', 'y', 'z']);
      assert.deepEqual([a!.busy, b!.busy, c!.busy], [false, false, false]);
    },
    // A deadlock would hang: this ends the test instead (no time is asserted).
    { timeout: 60_000 },
  );

  withScheduler('stop() waits for work run by runExclusive', async ({ scheduler, parts, devices: [a] }) => {
    scheduler.start();
    const work = deferred();
    let started = false;
    const run = scheduler.runExclusive([a!], () => {
      started = true;
      return work.promise;
    });
    await settle();
    assert.equal(started, true);
    parts.stop();
    const stopping = watch(scheduler.stop());
    await settle();
    assert.equal(stopping.settled, false, 'stop() waits while the work runs');
    work.resolve();
    await run;
    await settle();
    assert.equal(stopping.settled, true);
  });
});

describe('Scheduler with an import under way (import-hold.ts)', () => {
  // On the scheduler's clock (Date.now), with times far longer than the test: it lapses only when the import ends.
  const hold = new ImportHold({ maxMs: () => 600_000, idleMs: 600_000 });
  withScheduler(
    'feeds no device while the import commits, and every device behind once it ends',
    async ({ scheduler, parts, devices, feeds, nextFeed }) => {
      scheduler.start();
      for (const device of devices) parts.fleet.setConnected(device.id, true);
      hold.committed();
      await putUsers(parts.ctx.store, makeUser('1'));
      await putUsers(parts.ctx.store, makeUser('2'));
      await settle(30);
      assert.deepEqual(feeds, [], 'no feed batch while the import holds the fan-out');
      const fed = nextFeed();
      hold.ended();
      assert.deepEqual((await fed).sort(), devices.map((d) => d.id).sort(), 'one batch for the devices at the same cursor, once the import ended');
    },
    { hold },
  );
});
