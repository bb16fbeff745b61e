/**
 * Retry timing of a failing device (ARCHITECTURE §4): 1 s × 1.6 per failure up to 2 min,
 * with jitter so devices that failed together do not retry in lockstep. Pure.
 */
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

export const SYNC_BACKOFF: BackoffPolicy = { baseMs: 1000, factor: 1.6, maxMs: 120_000, jitter: 0.2, random: Math.random };

/** The delay before retry number `attempt` (0 for the first retry). */
export function nextDelay(attempt: number, policy: Partial<BackoffPolicy> = {}): number {
  const { baseMs, factor, maxMs, jitter, random } = { ...SYNC_BACKOFF, ...policy };
  const step = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt)) : 0;
  const nominal = Math.min(maxMs, baseMs * factor ** step);
  const spread = nominal * jitter * (2 * random() - 1);
  return Math.round(Math.min(maxMs, Math.max(0, nominal + spread)));
}
