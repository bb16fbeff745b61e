/**
 * In-process waiters for the store's sequence: device workers sleep here until a commit
 * moves the seq past their cursor. Commits wake them directly, so nobody polls.
 */
interface Waiter {
  seq: number;
  resolve(seq: number): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class SeqWaiters {
  readonly #waiters = new Set<Waiter>();

  /** How many callers are waiting. */
  get size(): number {
    return this.#waiters.size;
  }

  /** Resolves with the seq once it is greater than `seq`; `current` is the seq now. */
  wait(seq: number, current: number, signal?: AbortSignal): Promise<number> {
    if (current > seq) return Promise.resolve(current);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { seq, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          this.#waiters.delete(waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.add(waiter);
    });
  }

  /** Wakes every waiter whose seq is now passed. */
  advance(current: number): void {
    for (const waiter of this.#waiters) {
      if (current > waiter.seq) {
        this.#release(waiter);
        waiter.resolve(current);
      }
    }
  }

  /** Rejects every waiter (the store is closing). */
  rejectAll(reason: unknown): void {
    for (const waiter of this.#waiters) {
      this.#release(waiter);
      waiter.reject(reason);
    }
  }

  #release(waiter: Waiter): void {
    this.#waiters.delete(waiter);
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }
}
