/**
 * Fair shares of the fleet (pure): each live instance holds at most
 * ceil(devices / live instances) devices. An instance above its share gives back its
 * highest device IDs; one below it takes free, released or expired leases, lowest IDs
 * first. Nobody takes a lease another instance holds live: devices move only by being
 * given back or by expiring, so two instances never hold one device at once.
 */
import type { InstanceRow, LeaseRow } from '../plugins/lease-api.js';

export interface ShareInput {
  /** This instance. */
  me: string;
  /** Every device of the fleet, as this instance knows it. */
  devices: readonly number[];
  /** The devices this instance holds now. */
  held: ReadonlySet<number>;
  leases: readonly LeaseRow[];
  instances: readonly InstanceRow[];
}

export interface SharePlan {
  /** ceil(devices / live instances), this instance counted live. */
  target: number;
  liveInstances: number;
  acquire: number[];
  release: number[];
}

export function planShare(input: ShareInput): SharePlan {
  const live = new Set(input.instances.filter((i) => i.live).map((i) => i.id));
  live.add(input.me);
  const fleet = new Set(input.devices);
  const target = Math.ceil(fleet.size / live.size);
  // Held devices that left the fleet (a reload removed them) go back first.
  const gone = [...input.held].filter((id) => !fleet.has(id));
  const kept = [...input.held].filter((id) => fleet.has(id)).sort((a, b) => a - b);
  const release = [...gone, ...(kept.length > target ? kept.slice(target) : [])];
  if (kept.length >= target) return { target, liveInstances: live.size, acquire: [], release };
  const taken = new Map(input.leases.filter((l) => l.live && l.owner !== undefined).map((l) => [l.deviceId, l.owner!]));
  const free = [...fleet].filter((id) => !input.held.has(id) && !taken.has(id)).sort((a, b) => a - b);
  return { target, liveInstances: live.size, acquire: free.slice(0, target - kept.length), release };
}
