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
      timer = setTimeout(() => resolve(new Cut(budget)), budget);
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
