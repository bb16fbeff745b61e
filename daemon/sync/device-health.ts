/**
 * How each device is faring: failures and backoff (1 s × 1.6 up to `sync.backoff.maxMs`,
 * with jitter), quarantine after `sync.quarantine.after` failures in a row, the first
 * success that ends it, and which devices are kept out of shared calls for a while (they
 * failed, a shared call with them failed as a whole, or they were slow alone).
 */
import { isRollcallError, RollcallError } from '../errors.js';
import type { DeviceFailure, FailureReason } from '../plugins/api.js';
import { TROUBLE_ALONE_MS, type DeviceState } from './device-state.js';
import type { Fleet } from './fleet.js';
import { AloneTimes } from './alone-times.js';
import { failureText, quarantinedEvent } from './sync-events.js';
import { errorText, type SyncContext } from './context.js';

/** A device refused an operation for a reason that is not about one user (ROLLCALL_ERR_DEVICE). */
export class DeviceRefusal extends RollcallError {
  readonly failure: DeviceFailure;
  constructor(deviceId: number, failure: DeviceFailure) {
    super('ROLLCALL_ERR_DEVICE', `device ${deviceId}: ${failureText(failure)}`, { detail: { deviceId, reason: failure.reason, code: failure.codeName } });
    this.failure = failure;
  }
}

const REASONS: readonly FailureReason[] = ['refused', 'absent', 'full', 'unavailable', 'timeout', 'unknown'];

/**
 * A gateway call that failed as a whole (no per-device result) as a DeviceFailure, from the
 * reason the transport puts in the error's detail (STYLE §16); undefined for any other
 * error, or one without a reason the contract knows.
 */
export function callFailure(error: unknown): DeviceFailure | undefined {
  if (!isRollcallError(error, 'ROLLCALL_ERR_GATEWAY_CALL')) return undefined;
  const reason = error.detail?.['reason'];
  if (typeof reason !== 'string' || !(REASONS as readonly string[]).includes(reason)) return undefined;
  const code = error.detail?.['code'];
  const codeName = error.detail?.['codeName'];
  return {
    reason: reason as FailureReason,
    code: typeof code === 'number' ? code : -1,
    codeName: typeof codeName === 'string' ? codeName : 'UNKNOWN',
    message: error.message,
  };
}

export interface DeviceHealthOptions {
  ctx: SyncContext;
  fleet: Fleet;
}

/** How a call to one device alone that succeeded is timed: `ms` for `users` users. */
export type AloneTiming = (device: DeviceState, ms: number, users: number) => void;

/** How long a device kept alone for slowness answers in time before it shares calls again. */
export const IN_TIME_TO_SHARE_MS = 10_000;

export class DeviceHealth {
  readonly #ctx: SyncContext;
  readonly #fleet: Fleet;
  readonly #aloneTimes: AloneTimes;

  constructor(options: DeviceHealthOptions) {
    this.#ctx = options.ctx;
    this.#fleet = options.fleet;
    this.#aloneTimes = new AloneTimes();
  }

  /** The device did what it was asked: failures, backoff and quarantine end. */
  recovered(device: DeviceState): void {
    const wasQuarantined = device.quarantined;
    device.succeeded();
    if (!wasQuarantined) return;
    this.#ctx.metrics.quarantined.set({ device: String(device.id) }, 0);
    this.#ctx.logger.info({ device: device.id }, `device ${device.id} recovered from quarantine`);
  }

  /** The device failed: back off, and quarantine it after too many failures in a row. */
  async failed(device: DeviceState, reason: string): Promise<void> {
    const { config, logger, metrics, store } = this.#ctx;
    const now = this.#ctx.now();
    const entering = device.failed(reason, now, config.backoff, config.quarantine);
    this.#fleet.setInSync(device, false);
    logger.warn({ device: device.id, failures: device.failures, retryInMs: device.retryAt - now }, `device ${device.id}: ${reason}`);
    if (!entering) return;
    metrics.quarantined.set({ device: String(device.id) }, 1);
    await store.commit([{ type: 'appendEvent', event: quarantinedEvent(device.id, device.failures, reason) }]).catch(() => undefined);
  }

  /** A call to `devices` failed as a whole: nothing says which device is to blame. */
  async callFailed(devices: DeviceState[], error: unknown): Promise<void> {
    if (this.#ctx.signal.aborted) return;
    if (devices.length > 1) {
      // Serve each alone next time, so the one at fault no longer holds the others.
      for (const d of devices) d.alone = true;
      this.#ctx.logger.warn({ devices: devices.map((d) => d.id), err: error }, `a shared call failed as a whole (${errorText(error)}); serving those devices one by one`);
      return;
    }
    await this.failed(devices[0]!, errorText(error));
  }

  /**
   * A call to one device alone succeeded in `ms` for `users` users: one that was slow (its
   * call took longer than its size explains, and than other devices' calls alone take:
   * alone-times.ts) is kept alone for a while, so that it cannot hold shared calls (each
   * would be cut at its soft deadline first). It shares calls again once every call alone
   * it made for IN_TIME_TO_SHARE_MS was in time, not sooner: a device slow now and then (a
   * busy link) would otherwise cost the healthy devices of its calls a cut each time it is
   * slow again, and one found slow by mistake (a pause of this process) need not wait the
   * whole minute.
   */
  timedAlone(device: DeviceState, ms: number, users: number): void {
    this.#judged(device, ms, this.#aloneTimes.slow(device.id, ms, users));
  }

  /**
   * Timings of calls alone made at once (the parts of a cut call), judged together when
   * `judge` is called: each against the others, so that a load that slowed them alike
   * keeps none of them alone. Timings that come after `judge` are judged as they come.
   */
  together(): { timed: AloneTiming; judge(): void } {
    let waiting: { device: DeviceState; ms: number; users: number }[] | undefined = [];
    return {
      timed: (device, ms, users) => {
        if (waiting) waiting.push({ device, ms, users });
        else this.timedAlone(device, ms, users);
      },
      judge: () => {
        const calls = waiting ?? [];
        waiting = undefined;
        const slow = this.#aloneTimes.slowTogether(calls.map((c) => ({ device: c.device.id, ms: c.ms, users: c.users })));
        calls.forEach((c, i) => this.#judged(c.device, c.ms, slow[i]!));
      },
    };
  }

  #judged(device: DeviceState, ms: number, slow: boolean): void {
    device.alone = false;
    const now = this.#ctx.now();
    if (!slow) {
      device.inTimeSince ??= now;
      if (device.aloneForSlowness && device.aloneUntil > now && now - device.inTimeSince >= IN_TIME_TO_SHARE_MS) {
        device.aloneUntil = 0;
        device.aloneForSlowness = false;
        this.#ctx.logger.info({ device: device.id }, `device ${device.id} answers in time again; it shares calls again`);
      }
      return;
    }
    device.inTimeSince = undefined;
    if (device.aloneUntil <= now) this.#ctx.logger.info({ device: device.id, ms: Math.round(ms) }, `device ${device.id} is slow; serving it alone for a minute`);
    if (device.aloneUntil <= now || device.aloneForSlowness) device.aloneForSlowness = true;
    device.aloneUntil = Math.max(device.aloneUntil, now + TROUBLE_ALONE_MS);
  }
}
