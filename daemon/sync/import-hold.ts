/**
 * An import's precedence over the fan-out it feeds (issue 14). While a file is imported,
 * every commit of 500 rows used to wake each device's batch of those 500 users: the daemon's
 * one loop then encoded, sent and acknowledged small batches between the import's commits,
 * and the import of 200,000 rows took 7.6 s with no device, 13.8 s with one and 26.8 s with
 * three (the devices in sync at 41.9 s). Held back until the import is done, the fan-out
 * sends full batches from the feed and the devices are in sync sooner too.
 *
 * The hold lasts while an import commits: it lapses `idleMs` after the last commit (an
 * import waiting for the gateway to hash PINs, or stopped, holds nothing), at the end of
 * the import, and `maxMs` after it began (a file larger than a site's usual ones is then
 * fanned out while it is still being imported). It delays nothing but feed batches:
 * checks, device events and their merges go on. A change committed during an import is
 * behind the import's own changes in the feed anyway.
 */
export interface ImportHoldOptions {
  /** The longest one import holds the fan-out, ms (`sync.importHoldMs`, read at each look); 0: no hold. */
  maxMs: () => number;
  /** How long after its last commit an import stops holding. Default 2000. */
  idleMs?: number;
  now?: () => number;
}

const DEFAULT_IDLE_MS = 2000;

export class ImportHold {
  readonly #o: ImportHoldOptions;
  /** When the import under way began and last committed; undefined when none is. */
  #import: { since: number; last: number } | undefined;
  #onRelease: (() => void) | undefined;

  constructor(options: ImportHoldOptions) {
    this.#o = options;
  }

  /** Called when the hold ends before its time (the import finished): the scheduler looks again. */
  set onRelease(listener: (() => void) | undefined) {
    this.#onRelease = listener;
  }

  /** An import committed a batch (its first commit begins the hold). */
  committed(): void {
    const now = this.#now();
    if (this.#import === undefined) this.#import = { since: now, last: now };
    else this.#import.last = now;
  }

  /** The import ended (done, refused, failed or interrupted). */
  ended(): void {
    if (this.#import === undefined) return;
    this.#import = undefined;
    this.#onRelease?.();
  }

  /** Until when (Unix ms, on the clock of `now`) feed batches wait, as of `now`; 0 when they need not. */
  until(now: number): number {
    const current = this.#import;
    if (current === undefined) return 0;
    const lapses = Math.min(current.last + (this.#o.idleMs ?? DEFAULT_IDLE_MS), current.since + this.#o.maxMs());
    return lapses > now ? lapses : 0;
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }
}
