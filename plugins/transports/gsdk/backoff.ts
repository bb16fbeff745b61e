/**
 * Retry timing for the callers of the transport (ARCHITECTURE §4): the transport never
 * retries by itself, because only the caller knows whether an operation is idempotent and
 * how long it may wait. A device worker uses `nextDelay` between attempts; idempotent reads
 * may use `retry`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isRollcallError } from '../../../daemon/errors.js';
import { GrpcCode } from './status-code.js';

export interface BackoffPolicy {
  /** Delay before the first retry. */
  baseMs: number;
  /** Growth per failed attempt. */
  factor: number;
  /** Ceiling of any delay, jitter included. */
  maxMs: number;
  /** Relative spread: 0.2 draws each delay from ±20 % around its nominal value. */
  jitter: number;
  /** Uniform [0, 1) source; injectable so tests are deterministic. */
  random: () => number;
}

/** The sync engine's policy: 1 s × 1.6 per failure up to 2 min, ±20 % jitter. */
export const SYNC_BACKOFF: BackoffPolicy = {
  baseMs: 1000,
  factor: 1.6,
  maxMs: 120_000,
  jitter: 0.2,
  random: Math.random,
};

/**
 * The delay before retry number `attempt` (0 for the first retry): baseMs × factor^attempt,
 * capped at maxMs, spread by the jitter so that devices failing together do not retry in
 * lockstep, and never above maxMs.
 */
export function nextDelay(attempt: number, policy: Partial<BackoffPolicy> = {}): number {
  const { baseMs, factor, maxMs, jitter, random } = { ...SYNC_BACKOFF, ...policy };
  const step = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt)) : 0;
  const nominal = Math.min(maxMs, baseMs * factor ** step);
  const spread = nominal * jitter * (2 * random() - 1);
  return Math.round(Math.min(maxMs, Math.max(0, nominal + spread)));
}

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
