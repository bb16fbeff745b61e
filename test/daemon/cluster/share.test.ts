/**
 * Fair shares (daemon/cluster/share.ts), table-driven: the target is ceil(devices / live
 * instances); above it the highest IDs go back, below it free or expired leases are taken,
 * lowest first, and never one another instance holds live.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planShare, type ShareInput } from '../../../daemon/cluster/share.js';
import type { InstanceRow, LeaseRow } from '../../../daemon/plugins/lease-api.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const instance = (id: string, live = true): InstanceRow => ({ id, host: 'h', startedAt: 0, seenAt: 0, live });
const lease = (deviceId: number, owner: string | undefined, live = true): LeaseRow => ({ deviceId, owner, epoch: 1, live, ttlMs: live ? 1000 : 0 });
const leases = (ids: number[], owner: string, live = true): LeaseRow[] => ids.map((id) => lease(id, owner, live));

const cases: { name: string; input: ShareInput; expect: { target: number; live: number; acquire: number[]; release: number[] } }[] = [
  {
    name: 'alone on a new fleet: takes every device',
    input: { me: 'A', devices: range(1, 10), held: new Set(), leases: [], instances: [] },
    expect: { target: 10, live: 1, acquire: range(1, 10), release: [] },
  },
  {
    name: 'a second instance joined: the first gives back its highest half',
    input: { me: 'A', devices: range(1, 10), held: new Set(range(1, 10)), leases: leases(range(1, 10), 'A'), instances: [instance('A'), instance('B')] },
    expect: { target: 5, live: 2, acquire: [], release: range(6, 10) },
  },
  {
    name: 'the joiner takes only free leases, up to its share',
    input: { me: 'B', devices: range(1, 10), held: new Set(), leases: [...leases(range(1, 5), 'A'), ...leases(range(6, 10), 'A')], instances: [instance('A'), instance('B')] },
    expect: { target: 5, live: 2, acquire: [], release: [] },
  },
  {
    name: 'the joiner takes the given-back ones',
    input: { me: 'B', devices: range(1, 10), held: new Set(), leases: [...leases(range(1, 5), 'A'), ...range(6, 10).map((id) => lease(id, undefined, false))], instances: [instance('A'), instance('B')] },
    expect: { target: 5, live: 2, acquire: range(6, 10), release: [] },
  },
  {
    name: 'an instance died: its expired leases are taken by a survivor up to the new share (ceil 10/2 = 5)',
    input: {
      me: 'A',
      devices: range(1, 10),
      held: new Set(range(1, 4)),
      leases: [...leases(range(1, 4), 'A'), ...leases(range(5, 7), 'B'), ...leases(range(8, 10), 'C', false)],
      instances: [instance('A'), instance('B'), instance('C', false)],
    },
    expect: { target: 5, live: 2, acquire: [8], release: [] },
  },
  {
    name: 'uneven: 10 devices on 3 instances is a share of 4; holding 4 takes nothing more',
    input: { me: 'A', devices: range(1, 10), held: new Set(range(1, 4)), leases: [...leases(range(1, 4), 'A')], instances: [instance('A'), instance('B'), instance('C')] },
    expect: { target: 4, live: 3, acquire: [], release: [] },
  },
  {
    name: 'a device that left the fleet is given back, whatever the share',
    input: { me: 'A', devices: [1, 2], held: new Set([1, 2, 3]), leases: leases([1, 2, 3], 'A'), instances: [instance('A')] },
    expect: { target: 2, live: 1, acquire: [], release: [3] },
  },
  {
    name: 'itself counted live before its first heartbeat shows',
    input: { me: 'B', devices: range(1, 4), held: new Set(), leases: leases(range(1, 4), 'A'), instances: [instance('A')] },
    expect: { target: 2, live: 2, acquire: [], release: [] },
  },
  {
    name: 'no devices: nothing to do',
    input: { me: 'A', devices: [], held: new Set(), leases: [], instances: [instance('A')] },
    expect: { target: 0, live: 1, acquire: [], release: [] },
  },
];

for (const c of cases) {
  test(`share: ${c.name}`, () => {
    const plan = planShare(c.input);
    assert.deepEqual({ target: plan.target, live: plan.liveInstances, acquire: plan.acquire, release: plan.release }, c.expect);
  });
}
