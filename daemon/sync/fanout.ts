/**
 * Measures `rollcall_device_event_to_fanout_seconds`: from the moment a device-side
 * enrollment or edit was received to the acknowledgement of its merged version by the
 * last other device that should get it.
 */
export interface PendingFanout {
  seq: number;
  startedAt: number;
  waiting: Set<number>;
}

export class FanoutTracker {
  readonly #pending: PendingFanout[] = [];
  readonly #observe: (seconds: number) => void;
  readonly #now: () => number;

  constructor(observe: (seconds: number) => void, now: () => number = () => performance.now()) {
    this.#observe = observe;
    this.#now = now;
  }

  /** A device-origin change committed at `seq`, to be acknowledged by `devices`. */
  track(seq: number, startedAt: number, devices: Iterable<number>): void {
    const waiting = new Set(devices);
    if (waiting.size === 0) {
      this.#observe((this.#now() - startedAt) / 1000);
      return;
    }
    this.#pending.push({ seq, startedAt, waiting });
  }

  /** `device` acknowledged everything up to `seq`. */
  acknowledged(device: number, seq: number): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const entry = this.#pending[i]!;
      if (entry.seq > seq || !entry.waiting.delete(device)) continue;
      if (entry.waiting.size === 0) {
        this.#observe((this.#now() - entry.startedAt) / 1000);
        this.#pending.splice(i, 1);
      }
    }
  }

  /** A device that went away no longer holds a fan-out open; the others still count. */
  forget(device: number): void {
    this.acknowledged(device, Number.POSITIVE_INFINITY);
  }

  get size(): number {
    return this.#pending.length;
  }
}
