/**
 * The failover suite's oracle (lease-history.ts) on hand-made histories: it must find calls
 * of a paused instance after another took the device, calls after a give-back or an expiry,
 * and calls before a take, and accept a clean hand-over.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLeasePeriods, leasePeriods, type LeaseChange } from './lease-history.js';

// Device 7: a takes epoch 1 at 1000, its last renewal made it expire at 5000, b takes epoch 2
// at 5200; b gives it back at 9000; a takes epoch 3 at 9500.
const history: LeaseChange[] = [
  { deviceId: 7, atMs: 9500, owner: 'a', epoch: 3 },
  { deviceId: 7, atMs: 1000, owner: 'a', epoch: 1 },
  { deviceId: 7, atMs: 5200, owner: 'b', epoch: 2, previousExpiresAtMs: 5000 },
  { deviceId: 7, atMs: 9000, owner: undefined, epoch: 2 },
];

test('lease periods: from one take to the next, held until the expiry or the give-back', () => {
  assert.deepEqual(leasePeriods(history).get(7), [
    { owner: 'a', epoch: 1, fromMs: 1000, toMs: 5200, heldUntilMs: 5000 },
    { owner: 'b', epoch: 2, fromMs: 5200, toMs: 9500, heldUntilMs: 9000 },
    { owner: 'a', epoch: 3, fromMs: 9500, toMs: Infinity, heldUntilMs: Infinity },
  ]);
});

test('a clean hand-over passes', () => {
  const check = checkLeasePeriods(history, [
    {
      deviceID: 7,
      runs: [
        { caller: 'a', firstAtMs: 1010, lastAtMs: 4800, calls: 30 },
        { caller: 'b', firstAtMs: 5300, lastAtMs: 8900, calls: 12 },
        { caller: 'a', firstAtMs: 9600, lastAtMs: 9700, calls: 2 },
      ],
    },
  ]);
  assert.deepEqual([check.devices, check.calls, check.runs, check.handedOver], [1, 44, 3, 1]);
  assert.deepEqual(check.twoInstances, []);
  assert.deepEqual(check.outsideOwnLease, []);
});

test('a paused instance that calls after the takeover is caught in two ways', () => {
  const check = checkLeasePeriods(history, [
    {
      deviceID: 7,
      runs: [
        { caller: 'a', firstAtMs: 1010, lastAtMs: 4800, calls: 30 },
        { caller: 'b', firstAtMs: 5300, lastAtMs: 6000, calls: 5 },
        // a resumed at 6500 and made one call it had in flight
        { caller: 'a', firstAtMs: 6500, lastAtMs: 6500, calls: 1 },
        { caller: 'b', firstAtMs: 6600, lastAtMs: 8900, calls: 5 },
      ],
    },
  ]);
  assert.equal(check.twoInstances.length, 1);
  assert.deepEqual(check.twoInstances[0]!.periods.map((p) => [p.owner, p.epoch]), [['b', 2]]);
  assert.deepEqual(check.outsideOwnLease.map((v) => [v.caller, v.firstAtMs]), [['a', 6500]]);
});

test('a run that lasts into the next owner\'s period is caught even when its first call was in time', () => {
  const check = checkLeasePeriods(history, [{ deviceID: 7, runs: [{ caller: 'a', firstAtMs: 4000, lastAtMs: 5250, calls: 3 }] }]);
  assert.equal(check.twoInstances.length, 1);
  assert.equal(check.outsideOwnLease.length, 1);
});

test('calls after the own expiry, after a give-back, or before any take are outside the own lease', () => {
  const check = checkLeasePeriods(history, [
    {
      deviceID: 7,
      runs: [
        { caller: 'a', firstAtMs: 500, lastAtMs: 500, calls: 1 },
        { caller: 'b', firstAtMs: 600, lastAtMs: 600, calls: 1 },
      ],
    },
  ]);
  // Before the first take: nobody's period, so not "two instances", but neither held it.
  assert.deepEqual(check.twoInstances, []);
  assert.deepEqual(check.outsideOwnLease.map((v) => v.caller), ['a', 'b']);
  const late = checkLeasePeriods(history, [
    { deviceID: 7, runs: [{ caller: 'a', firstAtMs: 1010, lastAtMs: 5100, calls: 9 }] },
    { deviceID: 7, runs: [{ caller: 'b', firstAtMs: 5300, lastAtMs: 9200, calls: 9 }] },
  ]);
  assert.deepEqual(late.twoInstances, []);
  assert.deepEqual(late.outsideOwnLease.map((v) => [v.caller, v.lastAtMs]), [['a', 5100], ['b', 9200]]);
});

test('a device never leased has no periods: every call to it is outside a lease', () => {
  const check = checkLeasePeriods([], [{ deviceID: 9, runs: [{ caller: 'a', firstAtMs: 1, lastAtMs: 2, calls: 2 }] }]);
  assert.equal(check.outsideOwnLease.length, 1);
});
