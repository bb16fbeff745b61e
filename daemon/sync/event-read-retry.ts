/**
 * How long a device-side event whose user cannot be read back (User.Get keeps failing, not
 * with "not found") holds the device's later events (issue 13 item 6): a bounded number of
 * attempts with a growing delay, then the event is skipped and left to a check. Pure
 * bookkeeping, one entry per device: only its oldest unhandled event can be failing.
 */
import { nextDelay } from './backoff.js';

export interface EventReadPolicy {
  /** Tries of one event's read before it is skipped. */
  readAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export type ReadVerdict = { giveUp: false; attempts: number; retryInMs: number } | { giveUp: true; attempts: number };

export class EventReadRetries {
  readonly #failing = new Map<number, { eventId: number; attempts: number }>();

  /** One more failed read of `eventId` on `deviceId`: retry after a delay, or give up. */
  failed(deviceId: number, eventId: number, policy: EventReadPolicy): ReadVerdict {
    const entry = this.#failing.get(deviceId);
    const attempts = entry?.eventId === eventId ? entry.attempts + 1 : 1;
    if (attempts >= policy.readAttempts) {
      this.#failing.delete(deviceId);
      return { giveUp: true, attempts };
    }
    this.#failing.set(deviceId, { eventId, attempts });
    return { giveUp: false, attempts, retryInMs: nextDelay(attempts - 1, { baseMs: policy.retryBaseMs, maxMs: policy.retryMaxMs }) };
  }

  /** The device's events are read from elsewhere now (handled, or a new baseline). */
  clear(deviceId: number): void {
    this.#failing.delete(deviceId);
  }
}
