import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FanoutTracker } from '../../../daemon/sync/fanout.js';
import { nextDelay } from '../../../daemon/sync/backoff.js';
import { DeviceState } from '../../../daemon/sync/device-state.js';

test('a fan-out is observed when the last device acknowledged its seq', () => {
  let now = 1000;
  const seen: number[] = [];
  const tracker = new FanoutTracker((s) => seen.push(s), () => now);
  tracker.track(5, 1000, [1, 2, 3]);
  now = 1100;
  tracker.acknowledged(1, 5);
  tracker.acknowledged(2, 4); // not far enough
  assert.deepEqual(seen, []);
  now = 1250;
  tracker.acknowledged(2, 9);
  tracker.acknowledged(3, 5);
  assert.deepEqual(seen, [0.25]);
  assert.equal(tracker.size, 0);
});

test('a device that goes away no longer holds a fan-out open', () => {
  const seen: number[] = [];
  const tracker = new FanoutTracker((s) => seen.push(s), () => 2000);
  tracker.track(1, 1000, [1, 2]);
  tracker.acknowledged(1, 1);
  tracker.forget(2);
  assert.deepEqual(seen, [1]);
});

test('a fan-out with no other device is observed at once', () => {
  const seen: number[] = [];
  new FanoutTracker((s) => seen.push(s), () => 1500).track(1, 1000, []);
  assert.deepEqual(seen, [0.5]);
});

test('backoff grows by 1.6 from 1 s up to 2 min, jitter within ±20 %', () => {
  const mid = { random: () => 0.5 };
  assert.deepEqual([0, 1, 2, 3].map((a) => nextDelay(a, mid)), [1000, 1600, 2560, 4096]);
  assert.equal(nextDelay(50, mid), 120_000);
  assert.equal(nextDelay(0, { random: () => 0 }), 800);
  assert.equal(nextDelay(0, { random: () => 0.999999 }), 1200);
  assert.ok(nextDelay(40, { random: () => 0.999999 }) <= 120_000);
});

test('a device is quarantined after repeated failures and retried slowly, and recovers on success', () => {
  const d = new DeviceState({ id: 1, source: 'config', lastEventId: 0 }, 0);
  d.connected = true;
  const policy = { random: () => 0.5 };
  const quarantine = { after: 3, retryMs: 300_000 };
  assert.equal(d.failed('x', 0, policy, quarantine), false);
  assert.equal(d.retryAt, 1000);
  assert.equal(d.failed('x', 0, policy, quarantine), false);
  assert.equal(d.retryAt, 1600);
  assert.equal(d.failed('x', 0, policy, quarantine), true);
  assert.equal(d.quarantined, true);
  assert.equal(d.retryAt, 300_000);
  assert.equal(d.failed('x', 0, policy, quarantine), false, 'entering quarantine is reported once');
  assert.equal(d.ready(299_999), false);
  assert.equal(d.ready(300_000), true);
  d.succeeded();
  assert.equal(d.quarantined, false);
  assert.equal(d.failures, 0);
});
