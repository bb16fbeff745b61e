/**
 * Acknowledgements in the realtime log, coalesced. Every push logs one event per user at every
 * device (subCode 1, our own): a batch of 500 to 10 devices is 5,000 events that change
 * nothing but where reading each device's log stands. The follower queues one cursor move per
 * run of them on a device, to the last of the run, instead of one per event; a device-side
 * change in between ends the run (it is handled in order, and moving past it is its handling's
 * business, not the acknowledgements').
 */
import type { DeviceEvent } from '../plugins/api.js';

export class PendingAcks {
  /** The latest acknowledgement of each device whose cursor move is queued, not yet made. */
  readonly #latest = new Map<number, DeviceEvent>();

  /**
   * Notes `event`, an event that only moves its device's cursor. True when no move of that
   * device is queued: the caller queues one, which takes the latest event noted by then.
   */
  note(event: DeviceEvent): boolean {
    const queued = this.#latest.has(event.deviceId);
    this.#latest.set(event.deviceId, event);
    return !queued;
  }

  /** The event a queued move goes to; undefined when a change of the device came after it (the change covers it). */
  take(deviceId: number): DeviceEvent | undefined {
    const event = this.#latest.get(deviceId);
    this.#latest.delete(deviceId);
    return event;
  }

  /** A change of the device is queued next: the acknowledgements noted before it need no move of their own. */
  changeQueued(deviceId: number): void {
    this.#latest.delete(deviceId);
  }
}
