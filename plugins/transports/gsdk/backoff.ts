/**
 * Retry timing for the callers of the transport (ARCHITECTURE §4): the transport never
 * retries by itself, because only the caller knows whether an operation is idempotent and
 * how long it may wait. A device worker uses `nextDelay` between attempts; idempotent reads
 * may use `retry`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isRollcallError } from '../../../daemon/errors.js';
import { GrpcCode } from './status-code.js';

// The delay rule is the sync engine's (1 s × 1.6 up to 2 min, with jitter), shared.
import { nextDelay, type BackoffPolicy } from '../../../daemon/sync/backoff.js';
export { nextDelay, SYNC_BACKOFF, type BackoffPolicy } from '../../../daemon/sync/backoff.js';

/** gRPC codes after which repeating an idempotent read may succeed. */
const TRANSIENT_CODES = new Set<number>([GrpcCode.UNAVAILABLE, GrpcCode.DEADLINE_EXCEEDED, GrpcCode.ABORTED]);

/** Whether `error` is a gateway call failure that a later attempt may not repeat. */
export function isTransient(error: unknown): boolean {
  if (!isRollcallError(error)) return false;
  const code = error.detail?.['code'];
  return typeof code === 'number' && TRANSIENT_CODES.has(code);
}

export interface RetryPolicy extends Partial<BackoffPolicy> {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Which failures are worth another attempt; transient gateway failures by default. */
  retryable?: (error: unknown) => boolean;
}

/**
 * Runs `fn` until it resolves, a failure is not retryable, or the attempts run out (the
 * last failure is thrown). Only for idempotent operations. `signal` ends the waiting at
 * once with the signal's reason.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy = {}, signal?: AbortSignal): Promise<T> {
  const attempts = Math.max(1, policy.attempts ?? 5);
  const retryable = policy.retryable ?? isTransient;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt + 1 >= attempts || !retryable(error)) throw error;
    }
    try {
      await sleep(nextDelay(attempt, policy), undefined, signal ? { signal } : undefined);
    } catch (error) {
      signal?.throwIfAborted();
      throw error;
    }
  }
}
