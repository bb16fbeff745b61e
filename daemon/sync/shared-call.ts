/**
 * Running one gateway call for a group of devices under a soft deadline (soft-deadline.ts
 * says how long calls of a size may take). A call for one device has only its hard
 * deadline; a shared call that outlasts its soft deadline is cancelled and resolves to a
 * `Cut`, and nothing it did is counted on: the batch sender sends the same plan again in
 * smaller calls (`cutParts`).
 */
import type { Logger } from 'pino';
import { SoftDeadline } from './soft-deadline.js';

/** What a shared call resolves to when it was cut at its soft deadline (after `afterMs`). */
export class Cut {
  constructor(readonly afterMs: number) {}
}

/** Into how many smaller calls a shared call cut at its soft deadline is split. */
export const CUT_PARTS = 8;

/** `items` in at most `n` parts of near-equal size, in order. */
export function cutParts<T>(items: readonly T[], n = CUT_PARTS): T[][] {
  const size = Math.ceil(items.length / Math.min(n, items.length));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Hands back the devices of a cut call's parts together, so that they go on as one group
 * again: released part by part, each part would go on at its own pace and its devices would
 * not share a call again. A part still running `graceMs` after the first one ended holds the
 * others no longer (it may be the device at fault): from then on, devices go back as their
 * part ends. `beforeRelease` runs once, before the held devices go back.
 */
export class PartsRelease<D> {
  readonly #release: (device: D) => void;
  readonly #graceMs: number;
  #pending: number;
  #held: D[] | undefined = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #beforeRelease: (() => void) | undefined;

  constructor(parts: number, release: (device: D) => void, graceMs: number, beforeRelease?: () => void) {
    this.#pending = parts;
    this.#release = release;
    this.#graceMs = graceMs;
    this.#beforeRelease = beforeRelease;
  }

  /** The release a part's devices go back through. */
  readonly release = (device: D): void => {
    if (this.#held) this.#held.push(device);
    else this.#release(device);
  };

  /** A part ended (its devices were released through `release`). */
  partEnded(): void {
    this.#pending -= 1;
    if (this.#pending <= 0) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.#graceMs);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    if (!this.#held) return;
    const held = this.#held;
    this.#held = undefined;
    this.#beforeRelease?.();
    for (const device of held) this.#release(device);
  }
}

export interface SharedCallOptions {
  /** Fires when the engine stops. */
  signal: AbortSignal;
  logger: Logger;
  /** Counts each cut (rollcall_sync_calls_cut_total). */
  onCut: () => void;
  deadline?: SoftDeadline;
  /** Monotonic ms for call durations. */
  elapsed?: () => number;
}

export class SharedCall {
  readonly #o: SharedCallOptions;
  readonly #deadline: SoftDeadline;
  readonly #elapsed: () => number;

  constructor(options: SharedCallOptions) {
    this.#o = options;
    this.#deadline = options.deadline ?? new SoftDeadline();
    this.#elapsed = options.elapsed ?? (() => performance.now());
  }

  /**
   * Runs `call` for `devices` devices and `users` users. `name` and `deviceIds` are for
   * the log line of a cut.
   */
  async run<T>(name: string, deviceIds: readonly number[], users: number, call: (signal: AbortSignal) => Promise<T>): Promise<T | Cut> {
    if (deviceIds.length === 1) return call(this.#o.signal);
    const units = users * deviceIds.length;
    const budget = this.#deadline.budgetMs(units);
    const started = this.#elapsed();
    if (budget === undefined) {
      const result = await call(this.#o.signal);
      this.#deadline.record(units, this.#elapsed() - started);
      return result;
    }
    const cut = new AbortController();
    const pending = call(AbortSignal.any([this.#o.signal, cut.signal]));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<Cut>((resolve) => {
      // The cut waits one turn of the event loop past its timer: a reply that arrived while
      // the loop was busy elsewhere is read (poll phase) before it (check phase), and wins.
      timer = setTimeout(() => setImmediate(() => resolve(new Cut(budget))), budget);
    });
    try {
      const result = await Promise.race([pending, expired]);
      this.#deadline.record(units, result instanceof Cut ? budget : this.#elapsed() - started);
      if (result instanceof Cut) {
        // Its end (CANCELLED, or a reply that lost the race) is of no interest any more.
        pending.catch(() => undefined);
        cut.abort(new Error(`soft deadline of ${Math.round(budget)} ms`));
        this.#o.onCut();
        this.#o.logger.debug({ devices: deviceIds, afterMs: Math.round(budget) }, `a shared ${name} outlasted its soft deadline: sending it again in smaller calls`);
      }
      return result;
    } finally {
      clearTimeout(timer);
    }
  }
}
