/**
 * How long a lease counts as held here (daemon/cluster/member.ts): by this process's
 * monotonic clock from when the renew or take was sent, ending half a renew interval before
 * the store's expiry; a renewal on time keeps it held without a gap; a pause past it ends it
 * before the store could give the device to another instance.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { ClusterMember } from '../../../daemon/cluster/member.js';
import type { DeviceLeases, HeldLease, Store } from '../../../daemon/plugins/api.js';

const TTL = 15_000;
const RENEW = 5_000;

/** Leases of a store that grants and renews everything asked for `ttl`, as the store measured it. */
function grantingLeases(): DeviceLeases {
  const grant = (ids: readonly number[], ttlMs: number): HeldLease[] => ids.map((deviceId) => ({ deviceId, epoch: 1, ttlMs }));
  return {
    shared: true,
    heartbeat: async () => undefined,
    acquire: async (_owner, ids, ttlMs) => grant(ids, ttlMs),
    renew: async (_owner, held, ttlMs) => grant(held.map((h) => h.deviceId), ttlMs),
    release: async () => undefined,
    leave: async () => undefined,
    list: async () => ({ leases: [], instances: [{ id: 'me', host: 'h', startedAt: 0, seenAt: 0, live: true }] }),
  };
}

test('a lease is held until ttl − renewInterval/2 after it was asked for, and a renewal on time extends it', async () => {
  let now = 1_000;
  const member = new ClusterMember({
    store: { leases: grantingLeases() } as unknown as Store,
    settings: { instanceId: 'me', host: 'h', leaseTtlMs: TTL, renewIntervalMs: RENEW },
    logger: pino({ level: 'silent' }),
    clock: () => now,
    handlers: { deviceIds: () => [1, 2], gained: async () => undefined, lost: () => undefined, drain: async () => undefined },
  });
  await member.balance();
  assert.deepEqual(member.held(), [1, 2]);
  now = 1_000 + TTL - RENEW / 2 - 1;
  assert.equal(member.holds(1), true);
  now = 1_000 + TTL - RENEW / 2;
  assert.equal(member.holds(1), false, 'half a renew interval before the store\'s expiry');

  // Renewed on time (one interval after): held on, with more than the margin to spare before the next one.
  now = 1_000 + RENEW;
  await member.balance();
  now = 1_000 + 2 * RENEW + 1;
  assert.equal(member.holds(2), true);
  // A process paused past it (SIGSTOP) wakes with its clock moved on: nothing is held.
  now = 1_000 + RENEW + 40_000;
  assert.deepEqual(member.held(), []);
});
