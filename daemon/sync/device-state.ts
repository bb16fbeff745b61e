/**
 * What the engine knows about one device while it runs. The durable part (cursor, last
 * event ID, last check, held removals) is in the store; this adds connection, backoff and
 * what is due next.
 */
import type { DeviceRecord } from '../model/device.js';
import type { DeviceProfile } from '../plugins/api.js';
import { nextDelay, type BackoffPolicy } from './backoff.js';

export type CheckDepth = 'headers' | 'deep';

export class DeviceState {
  record: DeviceRecord;
  cursor: number;
  connected = false;
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
  /** After a shared call failed as a whole, this device is served alone until it succeeds. */
  solo = false;
  /** A shared call with this device was slow: serve it alone once, to see whether it is the slow one. */
  probe = false;
  /** Unix ms until which this device, found slow, is served alone. */
  slowUntil = 0;
  profile: DeviceProfile | undefined;
  lastError: string | undefined;

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

  /** Whether a task may start for this device now. */
  ready(now: number): boolean {
    return this.connected && !this.busy && now >= this.retryAt && this.record.heldRemoval === undefined;
  }

  succeeded(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.quarantined = false;
    this.solo = false;
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
    const entering = !this.quarantined && this.failures >= quarantine.after;
    if (this.failures >= quarantine.after) this.quarantined = true;
    this.retryAt = now + (this.quarantined ? quarantine.retryMs : nextDelay(this.failures - 1, policy));
    return entering;
  }
}
