/**
 * What the engine knows about one device while it runs. The durable part (cursor, last
 * event ID, last check, held removals) is in the store; this adds connection, backoff and
 * what is due next.
 */
import type { DeviceRecord } from '../model/device.js';
import type { DeviceProfile, LinkState } from '../plugins/api.js';
import { nextDelay, type BackoffPolicy } from './backoff.js';

export type CheckDepth = 'headers' | 'deep';

/**
 * How long a device that failed, or was slow alone, is kept out of shared calls: one that
 * failed lately is the likeliest to fail or hang again, and in a shared call it would hold
 * every device of the call until the call's soft deadline.
 */
export const TROUBLE_ALONE_MS = 60_000;

/** Batches in a row at a device's batch cap that go through whole before the cap doubles. */
export const BATCH_CAP_GROWS_AFTER = 4;

export class DeviceState {
  record: DeviceRecord;
  cursor: number;
  connected = false;
  /** The connection as the gateway last reported it; undefined while the gateway does not list the device. */
  link: LinkState | undefined;
  /** A task (feed batch or reconcile) is under way for this device. */
  busy = false;
  failures = 0;
  /** Unix ms before which the device is not tried again. */
  retryAt = 0;
  quarantined = false;
  /** A check is due, and how deep. */
  checkDue: CheckDepth | undefined;
  /** The last check passed and nothing was pending since. */
  inSync = false;
  /** Manual mode: the operator allowed the feed up to this seq. */
  allowedUpTo = 0;
  /**
   * Served alone (not in shared calls) until its next call alone succeeds: a shared call with
   * it failed as a whole or was cut at its soft deadline, and nothing said which device was
   * at fault.
   */
  alone = false;
  /** Unix ms until which this device is served alone: it failed, or was slow alone, lately. */
  aloneUntil = 0;
  /** `aloneUntil` was set because the device was slow alone (not because it failed). */
  aloneForSlowness = false;
  /** Since when its calls alone have all been in time (unset: its last one was slow). */
  inTimeSince: number | undefined;
  /** The device refused users for want of room (RESOURCE_EXHAUSTED): fed one user at a time until one goes in. */
  full = false;
  /**
   * Batches timed out on this device (DEADLINE_EXCEEDED): it is fed alone, at most this many
   * users at a time (the largest part that went through), growing back as batches go through.
   */
  batchCap: number | undefined;
  /** Batches in a row that went through whole at `batchCap`: BATCH_CAP_GROWS_AFTER of them double it. */
  batchCapRuns = 0;
  profile: DeviceProfile | undefined;
  lastError: string | undefined;
  /** The `credential:reason` series of rollcall_device_left_off_credentials set for this device (set to 0 when they clear). */
  leftOffSeries = new Set<string>();

  constructor(record: DeviceRecord, cursor: number) {
    this.record = record;
    this.cursor = cursor;
  }

  get id(): number {
    return this.record.id;
  }

  /**
   * Changes the record in memory at once, so that a change made meanwhile by another task
   * builds on this one, and returns it for the caller's commit. Commits are applied in the
   * order they are made, so the store ends with the last record too.
   */
  update(change: (record: DeviceRecord) => DeviceRecord): DeviceRecord {
    this.record = change(this.record);
    return this.record;
  }

  /** Asks for a check of this depth; a deep check already due stays deep. */
  due(depth: CheckDepth): void {
    if (this.checkDue !== 'deep') this.checkDue = depth;
  }

  /** Whether a task may start for this device now. */
  ready(now: number): boolean {
    return this.connected && !this.busy && now >= this.retryAt && this.record.heldRemoval === undefined;
  }

  /** A batch timed out and went through in parts of at most `largest` users: cap later batches there. */
  capBatches(largest: number): void {
    this.batchCap = Math.max(1, Math.min(this.batchCap ?? Infinity, largest));
    this.batchCapRuns = 0;
  }

  /** A batch of `users` went through whole: after enough at the cap, the cap doubles (and ends at `max`). */
  batchWent(users: number, max: number): void {
    if (this.batchCap === undefined || users < this.batchCap) return;
    this.batchCapRuns += 1;
    if (this.batchCapRuns < BATCH_CAP_GROWS_AFTER) return;
    this.batchCapRuns = 0;
    this.batchCap = this.batchCap * 2 >= max ? undefined : this.batchCap * 2;
  }

  succeeded(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.quarantined = false;
    this.full = false;
    this.lastError = undefined;
  }

  /**
   * Records a failure and schedules the next try. Returns true when this failure put the
   * device into quarantine.
   */
  failed(reason: string, now: number, policy: Partial<BackoffPolicy>, quarantine: { after: number; retryMs: number }): boolean {
    this.failures += 1;
    this.lastError = reason;
    this.inSync = false;
    this.aloneUntil = now + TROUBLE_ALONE_MS;
    this.aloneForSlowness = false;
    const entering = !this.quarantined && this.failures >= quarantine.after;
    if (this.failures >= quarantine.after) this.quarantined = true;
    this.retryAt = now + (this.quarantined ? quarantine.retryMs : nextDelay(this.failures - 1, policy));
    return entering;
  }
}
