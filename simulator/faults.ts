import { status } from '@grpc/grpc-js';

/** The faults injected into one device's gsdk calls (control service: SetFault). */
export interface FaultPlan {
  /** Added before every answer of the device. */
  latencyMs: number;
  /** The next failNextCount calls fail with this gRPC code. */
  failNextCode: number;
  failNextCount: number;
  /** Each call fails with errorRateCode with this probability (0..1). */
  errorRate: number;
  errorRateCode: number;
  /** Seed of the generator that draws against errorRate; reseeded whenever it is set. */
  errorRateSeed: number;
  /** The next hangCount calls never answer. */
  hangCount: number;
  /** A write call carrying one of these user IDs fails on the device with poisonCode. */
  poisonUserIDs: string[];
  poisonCode: number;
  /** The poisoned call fails as a whole (no per-device trailer) instead of for this device. */
  poisonWholeCall: boolean;
  /** A user call with more than this many users (0: off) is slow (slowLatencyMs; 0: DEADLINE_EXCEEDED at once). */
  slowAboveUsers: number;
  slowLatencyMs: number;
}

/** What a user call meets for the users it carries, beyond next(): a poisoned user, or a batch too big for the device. */
export type UserFaultDecision =
  | { kind: 'fail'; code: number; reason: string; wholeCall: boolean }
  | { kind: 'slow'; latencyMs: number }
  | undefined;

/** What the next call to the device meets. */
export type FaultDecision =
  | { kind: 'hang' }
  | { kind: 'fail'; latencyMs: number; code: number; reason: string }
  | { kind: 'pass'; latencyMs: number };

export function noFaults(deviceId: number): FaultPlan {
  return {
    latencyMs: 0,
    failNextCode: status.UNAVAILABLE,
    failNextCount: 0,
    errorRate: 0,
    errorRateCode: status.UNAVAILABLE,
    errorRateSeed: deviceId,
    hangCount: 0,
    poisonUserIDs: [],
    poisonCode: status.INTERNAL,
    poisonWholeCall: false,
    slowAboveUsers: 0,
    slowLatencyMs: 0,
  };
}

/** mulberry32: small, seedable and good enough to spread injected errors. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One device's fault state. Every gsdk call that reaches the device draws one decision:
 * a pending hang first, then a pending forced error, then the error rate; latency applies
 * to every call that answers.
 */
export class DeviceFaults {
  private current: FaultPlan;
  private random: () => number;
  private readonly deviceId: number;

  constructor(deviceId: number) {
    this.deviceId = deviceId;
    this.current = noFaults(deviceId);
    this.random = seededRandom(this.current.errorRateSeed);
  }

  get plan(): Readonly<FaultPlan> {
    return this.current;
  }

  /**
   * Changes only the given keys (an empty poisonUserIDs list keeps the IDs). Codes of 0 (OK)
   * would not be a fault: they fall back to UNAVAILABLE (INTERNAL for poisonCode).
   */
  set(change: Partial<FaultPlan>): FaultPlan {
    const next: FaultPlan = { ...this.current, poisonUserIDs: [...this.current.poisonUserIDs] };
    for (const [key, value] of Object.entries(change) as [keyof FaultPlan, FaultPlan[keyof FaultPlan] | undefined][]) {
      if (value === undefined) continue;
      if (key === 'poisonUserIDs') {
        if (Array.isArray(value) && value.length > 0) next.poisonUserIDs = [...value];
        continue;
      }
      (next as unknown as Record<string, unknown>)[key] = value;
    }
    if (next.failNextCode === status.OK) next.failNextCode = status.UNAVAILABLE;
    if (next.errorRateCode === status.OK) next.errorRateCode = status.UNAVAILABLE;
    if (next.poisonCode === status.OK) next.poisonCode = status.INTERNAL;
    next.errorRate = Math.min(1, Math.max(0, next.errorRate));
    this.current = next;
    if (change.errorRateSeed !== undefined || change.errorRate !== undefined) {
      this.random = seededRandom(next.errorRateSeed);
    }
    return { ...next, poisonUserIDs: [...next.poisonUserIDs] };
  }

  clear(): void {
    this.current = noFaults(this.deviceId);
    this.random = seededRandom(this.current.errorRateSeed);
  }

  next(): FaultDecision {
    const plan = this.current;
    if (plan.hangCount > 0) {
      plan.hangCount -= 1;
      return { kind: 'hang' };
    }
    if (plan.failNextCount > 0) {
      plan.failNextCount -= 1;
      return { kind: 'fail', latencyMs: plan.latencyMs, code: plan.failNextCode, reason: 'injected error (next calls)' };
    }
    if (plan.errorRate > 0 && this.random() < plan.errorRate) {
      return { kind: 'fail', latencyMs: plan.latencyMs, code: plan.errorRateCode, reason: 'injected error (error rate)' };
    }
    return { kind: 'pass', latencyMs: plan.latencyMs };
  }

  /**
   * What a user call carrying `userIds` meets (after next()): a poisoned user fails it
   * (faults are counted per call, not per user); a call with more users than slowAboveUsers
   * is slow, or fails DEADLINE_EXCEEDED at once when no latency is set.
   */
  forUsers(userIds: readonly string[], writes: boolean): UserFaultDecision {
    const plan = this.current;
    if (writes && plan.poisonUserIDs.length > 0) {
      const poisoned = userIds.find((id) => plan.poisonUserIDs.includes(id));
      if (poisoned !== undefined) {
        return { kind: 'fail', code: plan.poisonCode, reason: `injected error (user ${poisoned} is poisoned)`, wholeCall: plan.poisonWholeCall };
      }
    }
    if (plan.slowAboveUsers > 0 && userIds.length > plan.slowAboveUsers) {
      if (plan.slowLatencyMs > 0) return { kind: 'slow', latencyMs: plan.slowLatencyMs };
      return { kind: 'fail', code: status.DEADLINE_EXCEEDED, reason: `injected timeout (${userIds.length} users, more than ${plan.slowAboveUsers})`, wholeCall: false };
    }
    return undefined;
  }
}
