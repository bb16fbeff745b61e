/**
 * PINs hashed through the gateway while it may be away. A PIN cannot be stored before the
 * gateway has hashed it (the algorithm is the gateway's), so when the gateway cannot be
 * reached the import waits, with backoff, in processing/, and goes on when it answers:
 * failing those rows instead would lose them for good, since the file would be recorded
 * as imported and the same file dropped again skipped as a duplicate. A stop while
 * waiting leaves the file in processing/, and the next start resumes it from its last
 * checkpoint (the batch being hashed was not committed).
 *
 * Only "cannot be reached" waits: the transport's ROLLCALL_ERR_GATEWAY_UNAVAILABLE, or a
 * call that failed for the reason `unavailable` (no connection, no answer in time). A
 * gateway that answers and refuses a PIN fails that row (sink.ts), and the file's ledger
 * record says so, so that the same content can be dropped again (ledger.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isRollcallError } from '../errors.js';
import type { HashedPin } from '../model/pin-provenance.js';
import { nextDelay } from '../sync/backoff.js';

/**
 * The transport's hashPin: the device's 32-byte hash of a plaintext PIN, base64, or that hash
 * with the scheme id of the gateway that made it (daemon/model/pin-provenance.ts).
 */
export type HashPin = (pin: string, options?: { signal?: AbortSignal }) => Promise<string | HashedPin>;

export interface PinRetryPolicy {
  baseMs: number;
  factor: number;
  maxMs: number;
}

export const DEFAULT_PIN_RETRY: PinRetryPolicy = { baseMs: 1000, factor: 1.6, maxMs: 60_000 };

/** Whether a hashPin failure means the gateway could not be reached or did not answer in time (worth waiting for). */
export function gatewayUnreachable(error: unknown): boolean {
  if (isRollcallError(error, 'ROLLCALL_ERR_GATEWAY_UNAVAILABLE')) return true;
  if (!isRollcallError(error, 'ROLLCALL_ERR_GATEWAY_CALL')) return false;
  const reason = error.detail?.['reason'];
  return reason === 'unavailable' || reason === 'timeout';
}

export interface PinHasherOptions {
  hashPin: HashPin;
  signal: AbortSignal;
  logger?: Logger;
  retry?: PinRetryPolicy;
  /** Told when the gateway went away (a time) and when it answered again (undefined). */
  onOutage?: (since: number | undefined) => void;
}

/** Hashes PINs for one import, waiting out gateway outages; counts how long it waited. */
export class PinHasher {
  readonly #o: PinHasherOptions;
  #outageSince: number | undefined;
  #outages = 0;
  #waitedMs = 0;

  constructor(options: PinHasherOptions) {
    this.#o = options;
  }

  /** Outages met so far and the time spent waiting them out. */
  get waited(): { outages: number; ms: number } {
    return { outages: this.#outages, ms: this.#waitedMs + (this.#outageSince === undefined ? 0 : Date.now() - this.#outageSince) };
  }

  /**
   * The hash of `pin`. Waits and tries again for as long as the gateway cannot be reached
   * (until the signal aborts: then it rejects with the signal's reason); any other failure
   * rejects at once.
   */
  async hash(pin: string): Promise<HashedPin> {
    const { hashPin, signal } = this.#o;
    for (let attempt = 0; ; attempt++) {
      try {
        const hashed = await hashPin(pin, { signal });
        this.#answered();
        return typeof hashed === 'string' ? { hash: hashed } : hashed;
      } catch (error) {
        signal.throwIfAborted();
        if (!gatewayUnreachable(error)) {
          this.#answered();
          throw error;
        }
        this.#unreachable(error, pin);
        await sleep(nextDelay(attempt, this.#o.retry ?? DEFAULT_PIN_RETRY), undefined, { signal });
      }
    }
  }

  #unreachable(error: unknown, pin: string): void {
    if (this.#outageSince !== undefined) return;
    this.#outageSince = Date.now();
    this.#outages++;
    this.#o.onOutage?.(this.#outageSince);
    // The message names the call and its code; the PIN is cut out should a transport quote it.
    const message = error instanceof Error ? error.message : String(error);
    this.#o.logger?.warn(
      { reason: message.split(pin).join('[PIN]') },
      'the gateway cannot be reached to hash PINs; the import waits in processing/ and goes on when it answers',
    );
  }

  #answered(): void {
    if (this.#outageSince === undefined) return;
    const ms = Date.now() - this.#outageSince;
    this.#waitedMs += ms;
    this.#outageSince = undefined;
    this.#o.onOutage?.(undefined);
    this.#o.logger?.info({ waitedMs: ms }, 'the gateway answers again; the import goes on');
  }
}

/** The reason a PIN row failed, without the PIN even if the error quoted it. */
export function pinFailure(error: unknown, pin: string): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const safe = message.split(pin).join('[PIN]');
  return `pin: the gateway could not hash the PIN (${typeof code === 'string' ? `${code}: ` : ''}${safe}); the row was not imported`;
}
