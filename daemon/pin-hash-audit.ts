/**
 * Users whose PIN hash was made by another gateway's scheme than the current one (issue 13
 * item 8; daemon/model/pin-provenance.ts): counted for `rollcall status` and the
 * `rollcall_users_pin_hash_foreign` gauge, listed by `rollcall users list --foreign-pin-hash`,
 * and reported once at start. Counting reads every user, so a count is kept until the
 * store's seq or the gateway's scheme moves on, and a scrape recounts at most once a minute.
 */
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';
import type { Metrics } from './obs/metrics.js';
import { pinHashIsForeign, type HashedPin } from './model/pin-provenance.js';
import type { User } from './model/user.js';
import { summaryPin } from './model/user-summary.js';
import type { Store, TransportInstance } from './plugins/api.js';

export interface PinHashAuditOptions {
  store: () => Store | undefined;
  /** The current gateway's scheme id; undefined when no gateway answers. */
  scheme: () => Promise<string | undefined>;
  logger: Logger;
  metrics: Metrics;
}

export interface ForeignPinHashes {
  /** The current gateway's scheme; undefined when it is not known (then nothing is foreign). */
  scheme: string | undefined;
  /** Users whose hash is of another scheme. */
  count: number;
}

/** The transport's hash of a plaintext PIN, with the scheme of the gateway that made it. */
export async function hashPinWithScheme(transport: TransportInstance, pin: string, options?: { signal?: AbortSignal }): Promise<HashedPin> {
  const [hash, scheme] = await Promise.all([transport.hashPin(pin, options), transport.pinHashScheme(options)]);
  return { hash, scheme };
}

/** A scrape recounts when the last count is older than this (a count reads every user). */
const GAUGE_RECOUNT_MS = 60_000;

function pinHashForeignGauge(metrics: Metrics, recount: () => Promise<void>): Gauge {
  return metrics.gauge({
    name: 'rollcall_users_pin_hash_foreign',
    help: 'Users whose PIN hash was made by another gateway hash scheme than the current gateway\'s; their PIN is not sent to devices until rehashed',
    async collect() {
      await recount();
    },
  });
}

export class PinHashAudit {
  readonly #o: PinHashAuditOptions;
  readonly #gauge: Gauge;
  #cached: { seq: number; scheme: string | undefined; count: number; at: number } | undefined;
  /** The count under way: callers meanwhile share it rather than each reading every user again. */
  #counting: Promise<ForeignPinHashes> | undefined;
  #started = false;

  constructor(options: PinHashAuditOptions) {
    this.#o = options;
    this.#gauge = pinHashForeignGauge(options.metrics, () => this.#recountForScrape());
  }

  /** A scrape serves the last count, recounting when it is old (never before start, never failing the scrape). */
  async #recountForScrape(): Promise<void> {
    if (!this.#started) return;
    const cached = this.#cached;
    if (cached !== undefined && Date.now() - cached.at < GAUGE_RECOUNT_MS) return;
    await this.count().catch((error: unknown) => this.#o.logger.debug({ err: error }, 'the PIN hashes from other gateways could not be counted for a scrape'));
  }

  /** Sets the gauge's series to 0, then counts and says so in the log when there are any. */
  async start(signal: AbortSignal): Promise<void> {
    this.#gauge.set(0);
    this.#started = true;
    const found = await this.count();
    signal.throwIfAborted();
    if (found.count > 0) {
      this.#o.logger.warn(
        { users: found.count, scheme: found.scheme },
        `${found.count} user(s) have a PIN hash made by another gateway; their PIN is not sent to devices until the plaintext PIN is imported or set again (rollcall users list --foreign-pin-hash lists them)`,
      );
    }
  }

  /**
   * How many users have a foreign PIN hash now. A count reads every user: scrapes that come
   * while one is under way (a large store, a busy daemon) wait for it instead of starting
   * another scan each.
   */
  count(): Promise<ForeignPinHashes> {
    this.#counting ??= this.#count().finally(() => (this.#counting = undefined));
    return this.#counting;
  }

  async #count(): Promise<ForeignPinHashes> {
    const store = this.#o.store();
    const scheme = await this.#o.scheme().catch(() => undefined);
    if (!store) return { scheme, count: 0 };
    const seq = store.currentSeq();
    const cached = this.#cached;
    if (cached !== undefined && cached.seq === seq && cached.scheme === scheme) return { scheme, count: cached.count };
    let count = 0;
    // From the summaries: whether a user has a PIN hash and its scheme is all this needs.
    if (scheme !== undefined) {
      for await (const page of store.scanUserSummaries()) {
        for (const summary of page) if (pinHashIsForeign(summaryPin(summary), scheme)) count++;
      }
    }
    this.#cached = { seq, scheme, count, at: Date.now() };
    this.#gauge.set(count);
    return { scheme, count };
  }

  /** The users with a foreign PIN hash, in ID order, at most `limit` (0 = all). */
  async list(limit: number): Promise<{ scheme: string | undefined; users: User[] }> {
    const store = this.#o.store();
    const scheme = await this.#o.scheme().catch(() => undefined);
    const users: User[] = [];
    if (!store || scheme === undefined) return { scheme, users };
    for await (const user of store.scanUsers()) {
      if (!pinHashIsForeign(user, scheme)) continue;
      users.push(user);
      if (limit > 0 && users.length >= limit) break;
    }
    return { scheme, users };
  }
}
