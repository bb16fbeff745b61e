/**
 * Reconcile (ARCHITECTURE §4): makes a device equal to its expected state without trusting
 * any cursor. `headers` compares IDs and credential counts (GetList); `deep` also compares
 * the device-projection hash of every user (Get in pages). Differences are repaired with the
 * fewest calls through the batch sender, then GetList is read again: the device is in sync
 * only if that look finds nothing.
 */
import type { Mutation } from '../plugins/api.js';
import type { DeviceRecord } from '../model/device.js';
import type { User } from '../model/user.js';
import { deviceProjectionHash } from '../model/projection.js';
import { contentDiff, differences, headerDiff, type ExpectedUser } from './reconcile-diff.js';
import { cutBatch, removalNeedsConfirmation } from './planner.js';
import { copyFor } from './placement.js';
import { gaugeLeftOff } from './metrics.js';
import { sumLeftOff, type LeftOffTotal } from '../model/device-copy.js';
import type { CheckDepth, DeviceState } from './device-state.js';
import type { Fleet } from './fleet.js';
import type { ExpectedSets } from './expected-sets.js';
import type { RemovalGuard } from './removal-guard.js';
import type { BatchSender, Refused } from './batch-sender.js';
import { DeviceRefusal, type DeviceHealth } from './device-health.js';
import { checkEvent, deviceFailureEvent, refusedEvents } from './sync-events.js';
import { errorText, type SyncContext } from './context.js';
import { observeCheckedChanges } from './check-latency.js';

export interface CheckResult {
  deviceId: number;
  method: CheckDepth;
  inSync: boolean;
  /** Differences found before any repair. */
  differences: number;
  enrolled: number;
  removed: number;
  /** Removals waiting for `rollcall confirm`. */
  held: number;
  /** Users left alone (rule breaks, refused, deleted at the device). */
  leftAlone: number;
  /** Credentials the device's copies leave off (what it cannot hold), by kind and reason. */
  leftOff: LeftOffTotal[];
  error?: string;
}

export interface DevicePlanPreview {
  deviceId: number;
  enroll: string[];
  remove: string[];
  skipped: { userId: string; reason: string }[];
  /** Credentials the device's copies leave off, by kind and reason. */
  leftOff: LeftOffTotal[];
}

/**
 * What a check needs from the device-event follower, in modes that take device changes:
 * edits made at the device are read before a check could overwrite them, and users found on
 * a device that the database lacks are merged (their enroll events were lost), not removed.
 */
export interface DeviceChanges {
  catchUp(deviceId: number): Promise<void>;
  mergeUnknown(deviceId: number, userIds: readonly string[]): Promise<void>;
}

export interface ReconcileOptions {
  ctx: SyncContext;
  fleet: Fleet;
  expected: ExpectedSets;
  guard: RemovalGuard;
  sender: BatchSender;
  health: DeviceHealth;
  deviceChanges: DeviceChanges | undefined;
}

/** What the copies of the users a device is expected to hold leave off (users left alone are not counted). */
function leftOffOf(expected: ReadonlyMap<string, ExpectedUser>, leaveAlone: ReadonlySet<string>): LeftOffTotal[] {
  function* lists() {
    for (const [id, want] of expected) if (want.leftOff && !leaveAlone.has(id)) yield want.leftOff;
  }
  return sumLeftOff(lists());
}

export function notConnected(deviceId: number, method: CheckDepth): CheckResult {
  return { deviceId, method, inSync: false, differences: 0, enrolled: 0, removed: 0, held: 0, leftAlone: 0, leftOff: [], error: 'not connected' };
}

export class Reconcile {
  readonly #o: ReconcileOptions;

  constructor(options: ReconcileOptions) {
    this.#o = options;
  }

  /** Checks `device` and, with `repair`, makes it equal to its expected state. */
  async check(device: DeviceState, method: CheckDepth, repair = true): Promise<CheckResult> {
    const { ctx, fleet, expected: sets, deviceChanges } = this.#o;
    const { store, transport, config, logger, signal, mode } = ctx;
    const result: CheckResult = { deviceId: device.id, method, inSync: false, differences: 0, enrolled: 0, removed: 0, held: 0, leftAlone: 0, leftOff: [] };
    try {
      await fleet.loadProfile(device);
      if (mode.acceptsDeviceChanges) await deviceChanges?.catchUp(device.id);
      const seqBefore = store.currentSeq();
      // The device's list and the expected set are read at once (the device is busy with this
      // check alone, so nothing reaches it meanwhile): a large device's check takes the longer
      // of the two, not their sum.
      const [{ expected, leaveAlone }, headers] = await Promise.all([sets.of(device), transport.listUsers(device.id, { signal })]);
      result.leftAlone = leaveAlone.size;
      result.leftOff = leftOffOf(expected, leaveAlone);
      gaugeLeftOff(ctx.metrics, device, result.leftOff);
      const diff = headerDiff(expected, headers, leaveAlone);
      const changed: string[] = [];
      if (method === 'deep') {
        for (let i = 0; i < diff.matched.length; i += config.reconcile.pageSize) {
          const page = diff.matched.slice(i, i + config.reconcile.pageSize);
          const [onDevice, hashes] = await Promise.all([transport.getUsers(device.id, page, { signal }), sets.hashes(device, expected, page)]);
          changed.push(...contentDiff(hashes, onDevice.map((u) => ({ id: u.id, hash: deviceProjectionHash(u) }))));
        }
      }
      result.differences = differences(diff, changed);
      if (!repair || result.differences === 0) {
        const settled = repair ? new Set<string>() : undefined;
        await this.#record(device, method, result.differences === 0, result.differences, headers.length, repair ? seqBefore : undefined, undefined, settled);
        result.inSync = result.differences === 0;
        return result;
      }

      let extra = diff.extra;
      if (mode.acceptsDeviceChanges && extra.length > 0 && deviceChanges) {
        await deviceChanges.mergeUnknown(device.id, extra);
        extra = [];
      }
      let removeNow = extra;
      const confirmed = (device.record.removalConfirmedUpTo ?? -1) >= seqBefore;
      if (!confirmed && removalNeedsConfirmation(extra.length, headers.length, config.massRemoval)) {
        await this.#o.guard.hold(device, extra.length, headers.length);
        result.held = extra.length;
        removeNow = [];
      }
      const refused = await this.#enroll(device, [...diff.missing, ...diff.mismatched, ...changed], result);
      if (Object.keys(refused).length > 0) {
        for (const id of Object.keys(refused)) leaveAlone.add(id);
        const record = device.update((r) => ({ ...r, rejectedUsers: { ...r.rejectedUsers, ...refused } }));
        await this.#o.ctx.leases.commit([device.id], [{ type: 'putDevice', device: record }, ...refusedEvents(device.id, refused).map((event): Mutation => ({ type: 'appendEvent', event }))]);
      }
      for (let i = 0; i < removeNow.length; i += config.batch.maxUsers) {
        const ids = removeNow.slice(i, i + config.batch.maxUsers);
        await this.#o.sender.removeFrom(device, ids);
        result.removed += ids.length;
      }
      // Verify: in sync only if a fresh look finds nothing.
      const afterHeaders = await transport.listUsers(device.id, { signal });
      const after = headerDiff(expected, afterHeaders, leaveAlone);
      result.inSync = differences(after) === 0 && result.held === 0;
      const stillOff = new Set([...after.missing, ...after.mismatched, ...Object.keys(refused)]);
      await this.#record(device, method, result.inSync, result.differences, afterHeaders.length, seqBefore, result, stillOff);
      if (result.differences > 0) logger.info({ device: device.id, ...result }, `device ${device.id}: ${method} check repaired ${result.enrolled + result.removed} users`);
      return result;
    } catch (error) {
      result.error = errorText(error);
      if (!signal.aborted) {
        if (error instanceof DeviceRefusal) {
          await store.commit([{ type: 'appendEvent', event: deviceFailureEvent(device.id, error.failure, 0) }]).catch(() => undefined);
        }
        if (repair) device.due(method);
        await this.#o.health.failed(device, `check failed: ${result.error}`);
      }
      return result;
    }
  }

  /** What a sync would change on `device`, without doing it (from a headers check). */
  async preview(device: DeviceState): Promise<DevicePlanPreview> {
    const { expected, leaveAlone } = await this.#o.expected.of(device);
    const headers = await this.#o.ctx.transport.listUsers(device.id, { signal: this.#o.ctx.signal });
    const diff = headerDiff(expected, headers, leaveAlone);
    return {
      deviceId: device.id,
      enroll: [...diff.missing, ...diff.mismatched],
      remove: diff.extra,
      skipped: [...leaveAlone].map((userId) => ({ userId, reason: device.record.rejectedUsers?.[userId]?.reason ?? 'left alone' })),
      leftOff: leftOffOf(expected, leaveAlone),
    };
  }

  /**
   * Enrolls `ids` in batches cut by count and bytes, each user as the device's copy of it;
   * returns the users the device refused.
   */
  async #enroll(device: DeviceState, ids: readonly string[], result: CheckResult): Promise<Refused> {
    const { store, transport, config } = this.#o.ctx;
    const rules = this.#o.fleet.rules(device);
    const refused: Refused = {};
    for (let i = 0; i < ids.length; ) {
      // A device whose batches timed out gets smaller ones (DeviceState.batchCap).
      const max = Math.min(config.batch.maxUsers, device.batchCap ?? Infinity);
      const stored = (await store.getUsers(ids.slice(i, i + max))).filter((u): u is User => u !== undefined);
      const users = stored.map((user) => copyFor(user, rules).copy);
      const items = users.map((user) => ({ change: { seq: 0, userId: user.id, op: 'upsert' as const, at: 0, origin: { kind: 'server' as const } }, user }));
      const n = Math.max(1, cutBatch(items, config.batch, (u) => transport.encodedSize(u)));
      const batch = users.slice(0, n);
      if (batch.length > 0) {
        const refusedNow = await this.#o.sender.enrollApart(device, batch);
        Object.assign(refused, refusedNow);
        result.enrolled += batch.length - Object.keys(refusedNow).length;
      }
      i += Math.min(n, max);
    }
    return refused;
  }

  /**
   * `stillOff`, after a repairing check: the users not yet on the device as expected. A
   * refusal for an unknown cause (offered again by the check) of any other user is over.
   */
  async #record(
    device: DeviceState,
    method: CheckDepth,
    inSync: boolean,
    found: number,
    userCount: number,
    seqBefore: number | undefined,
    repaired?: CheckResult,
    stillOff?: ReadonlySet<string>,
  ): Promise<void> {
    const { store } = this.#o.ctx;
    const record = device.update((r) => ({
      ...r,
      lastCheck: { at: this.#o.ctx.now(), method, inSync, differences: found },
      userCount,
      ...(stillOff ? { rejectedUsers: withoutSettledUnknown(r.rejectedUsers, stillOff) } : {}),
    }));
    const moves = seqBefore !== undefined && seqBefore > device.cursor && (inSync || repaired !== undefined);
    const mutations: Mutation[] = [{ type: 'putDevice', device: record }];
    if (moves) mutations.push({ type: 'setCursor', deviceId: device.id, seq: seqBefore });
    mutations.push({ type: 'appendEvent', event: checkEvent(device.id, method, inSync, found, repaired) });
    await this.#o.ctx.leases.commit([device.id], mutations);
    if (moves) {
      void observeCheckedChanges(store, this.#o.ctx.metrics.latency, device.cursor, seqBefore, this.#o.ctx.now());
      device.cursor = seqBefore;
    }
    this.#o.health.recovered(device);
    this.#o.ctx.metrics.quarantined.set({ device: String(device.id) }, 0);
    this.#o.fleet.setInSync(device, inSync && device.cursor >= store.currentSeq());
  }
}

/** `rejected` without the refusals for an unknown cause of users not in `stillOff`. */
export function withoutSettledUnknown(rejected: DeviceRecord['rejectedUsers'], stillOff: ReadonlySet<string>): DeviceRecord['rejectedUsers'] {
  if (!rejected) return rejected;
  const kept = Object.entries(rejected).filter(([id, refusal]) => !refusal.unknown || stillOff.has(id));
  return kept.length === Object.keys(rejected).length ? rejected : Object.fromEntries(kept);
}
