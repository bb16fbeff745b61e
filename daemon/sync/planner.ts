/**
 * The planner: pure functions that turn a slice of the change feed into device
 * operations (ARCHITECTURE §4). No I/O here; the engine loads the users, asks these
 * functions what to send, and sends it.
 */
import type { Change, SyncModeInstance } from '../plugins/api.js';
import type { User } from '../model/user.js';
import type { DeviceRecord } from '../model/device.js';
import { placement, PlacementFacts, type DeviceRules } from './placement.js';

/** One feed change with the user as the store holds it now (undefined when deleted). */
export interface FeedItem {
  change: Change;
  user: User | undefined;
}

export interface SkippedUser {
  userId: string;
  why: 'rule' | 'refused' | 'deleted-at-device';
  reason: string;
}

export interface DevicePlan {
  /** Users to enroll with overwrite: each as this device gets it (its copy, placement.ts). */
  enroll: User[];
  /** User IDs to delete. */
  remove: string[];
  /** Users left as they are on this device, with why. */
  skipped: SkippedUser[];
  /** The cursor once this plan is acknowledged. */
  upToSeq: number;
  /**
   * Identity of the operations among plans of the same items (one feed read): devices
   * whose plans have the same key can share one EnrollMulti/DeleteMulti call. One letter
   * per item (+ enroll, - remove, = leave alone): the items say which user and version;
   * plans that enroll copies with something left off also name the device shape.
   */
  key: string;
}

export interface BatchLimits {
  maxUsers: number;
  maxBytes: number;
}

/**
 * How many of `items` (oldest first) fit in one batch: at most maxUsers items and at
 * most maxBytes of users to enroll. Always at least one item, so a single user larger
 * than the limit still moves (the gateway's own limit is higher than ours).
 */
export function cutBatch(items: readonly FeedItem[], limits: BatchLimits, sizeOf: (user: User) => number): number {
  let bytes = 0;
  let count = 0;
  for (const item of items) {
    if (count >= limits.maxUsers) break;
    const size = item.user ? sizeOf(item.user) : item.change.userId.length + 8;
    if (count > 0 && bytes + size > limits.maxBytes) break;
    bytes += size;
    count += 1;
  }
  return count;
}

export function planDevice(
  items: readonly FeedItem[],
  device: DeviceRecord,
  mode: Pick<SyncModeInstance, 'targets'>,
  rules: DeviceRules,
  deviceDeletes: 'restore' | 'keep-deleted',
  /** Shared by the devices planned for the same items, so each user is hashed and validated once. */
  facts: PlacementFacts = new PlacementFacts(),
): DevicePlan {
  const enroll: User[] = [];
  const remove: string[] = [];
  const skipped: SkippedUser[] = [];
  let key = '';
  let upToSeq = 0;
  let trimmed = false;
  for (const { change, user } of items) {
    upToSeq = Math.max(upToSeq, change.seq);
    if (change.op === 'delete' || !user) {
      remove.push(change.userId);
      key += '-';
      continue;
    }
    const where = placement(user, device, mode, rules, deviceDeletes, facts);
    if (where.place) {
      enroll.push(where.copy);
      if (where.copy !== user) trimmed = true;
      key += '+';
    } else if (where.why === 'not-targeted') {
      remove.push(user.id);
      key += '-';
    } else {
      skipped.push({ userId: user.id, why: where.why, reason: where.reason });
      key += '=';
    }
  }
  // Devices share a call only when they get the same copies: a plan with a copy that left
  // something off is shared only within the device shape (one call, one encoding per shape).
  const shape = trimmed ? `:${rules.shape ?? JSON.stringify([rules.holds, rules.site])}` : '';
  return { enroll, remove, skipped, upToSeq, key: `${upToSeq}${shape}:${key}` };
}

/** A device to plan for: its record and its rules. */
export interface PlanTarget {
  record: DeviceRecord;
  rules: DeviceRules;
}

/**
 * planDevice for each of `targets`, the same items, in order. Devices placed alike get one plan,
 * worked out once and shared (plans are never changed once made): devices the sync mode
 * targets alike (its placementKey), with the same rules, that refused and deleted nothing
 * themselves. A batch for 50 devices of one kind is planned once, not 50 times.
 */
export function planDevices(
  items: readonly FeedItem[],
  targets: readonly PlanTarget[],
  mode: Pick<SyncModeInstance, 'targets' | 'placementKey'>,
  deviceDeletes: 'restore' | 'keep-deleted',
  facts: PlacementFacts = new PlacementFacts(),
): DevicePlan[] {
  const alike = new Map<string, DevicePlan>();
  return targets.map(({ record, rules }) => {
    const key = placedAlikeKey(record, rules, mode);
    let plan = key === undefined ? undefined : alike.get(key);
    if (plan === undefined) {
      plan = planDevice(items, record, mode, rules, deviceDeletes, facts);
      if (key !== undefined) alike.set(key, plan);
    }
    return plan;
  });
}

/**
 * What decides a device's plan besides the items, as a key; undefined when the device's own
 * record does (users it refused or deleted) or the sync mode cannot say who is targeted alike.
 */
function placedAlikeKey(record: DeviceRecord, rules: DeviceRules, mode: Pick<SyncModeInstance, 'placementKey'>): string | undefined {
  if (!mode.placementKey || hasEntries(record.rejectedUsers) || hasEntries(record.deletedAtDevice)) return undefined;
  const shape = rules.holds ? (rules.shape ?? [rules.holds, rules.site]) : null;
  return JSON.stringify([mode.placementKey(record), rules.alphanumericIds, rules.limits ?? null, shape]);
}

function hasEntries(record: Record<string, unknown> | undefined): boolean {
  if (record === undefined) return false;
  for (const _ in record) return true;
  return false;
}

/** Devices grouped by identical plans, so each group is served by one call per operation. */
export function groupByPlan<T extends { plan: DevicePlan }>(entries: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const entry of entries) {
    const group = groups.get(entry.plan.key);
    if (group) group.push(entry);
    else groups.set(entry.plan.key, [entry]);
  }
  return [...groups.values()];
}

/**
 * The mass-removal guard: whether removing `removals` users from a device that holds
 * `holding` must wait for an operator. A plan may always remove up to `minimum` users;
 * past that, no more than `share` of what the device holds.
 */
export function removalNeedsConfirmation(removals: number, holding: number, guard: { share: number; minimum: number }): boolean {
  if (removals <= guard.minimum) return false;
  return removals > guard.share * holding;
}
