/**
 * Whether a device served alone was slow. A call alone was slow when it took longer than its
 * size explains (slowCallMs) and longer than `factor` × the median of the other devices'
 * recent calls alone of the same size class. The second half matters on a loaded host or
 * gateway: every device's calls are slow alike then, and keeping each alone for it would
 * only multiply the calls (one EnrollMulti per device instead of one for all) and make
 * the load worse. A device slow on its own is still seen: the others' calls are fast, or
 * there are none (no other device is alone), and the fixed allowance alone decides.
 *
 * Sizes are classes of users by power of two, as in soft-deadline.ts.
 */
import { slowCallMs } from './soft-deadline.js';

export interface AloneTimesOptions {
  /** How many of the latest calls alone each size class keeps. */
  window: number;
  /** How many calls of other devices a class needs before they count. */
  minOthers: number;
  factor: number;
}

export const ALONE_TIMES_DEFAULTS: AloneTimesOptions = { window: 64, minOthers: 2, factor: 3 };

export interface AloneCall {
  device: number;
  ms: number;
  users: number;
}

interface Sample {
  device: number;
  ms: number;
}

export class AloneTimes {
  readonly #o: AloneTimesOptions;
  readonly #classes = new Map<number, Sample[]>();

  constructor(options: Partial<AloneTimesOptions> = {}) {
    this.#o = { ...ALONE_TIMES_DEFAULTS, ...options };
  }

  /** How long a call alone of `users` to `device` may take before it counts as slow. */
  allowanceMs(device: number, users: number): number {
    const fixed = slowCallMs(users);
    const others = (this.#classes.get(sizeClass(users)) ?? []).filter((s) => s.device !== device).map((s) => s.ms);
    if (others.length < this.#o.minOthers) return fixed;
    others.sort((a, b) => a - b);
    const median = others[Math.floor(others.length / 2)]!;
    return Math.max(fixed, this.#o.factor * median);
  }

  /** Records a call alone of `users` to `device` that took `ms`; returns whether it was slow. */
  slow(device: number, ms: number, users: number): boolean {
    const allowed = this.allowanceMs(device, users);
    this.#record({ device, ms, users });
    return ms > allowed;
  }

  /**
   * Records calls alone made at the same time (the parts of a cut call) and returns which
   * were slow, each judged against the others and what came before: the first to answer
   * is not judged before the rest of a load that slowed them all are in.
   */
  slowTogether(calls: readonly AloneCall[]): boolean[] {
    for (const call of calls) this.#record(call);
    return calls.map((c) => c.ms > this.allowanceMs(c.device, c.users));
  }

  #record(call: AloneCall): void {
    const key = sizeClass(call.users);
    let samples = this.#classes.get(key);
    if (!samples) this.#classes.set(key, (samples = []));
    samples.push({ device: call.device, ms: call.ms });
    if (samples.length > this.#o.window) samples.shift();
  }
}

function sizeClass(users: number): number {
  return Math.floor(Math.log2(Math.max(1, users)));
}
