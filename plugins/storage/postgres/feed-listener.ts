/**
 * One connection that LISTENs on the store's channel. Every commit that moves the seq
 * sends `pg_notify(channel, seq)` inside its transaction; PostgreSQL delivers it when (and
 * only if) the commit is visible, so a follower woken with seq N can read every change up
 * to N. Nobody polls.
 *
 * When the connection is lost it is made again with backoff (0.5 s × 1.6 up to 30 s, with
 * jitter), and `onConnected` runs after each (re)connect so the store can read the seq it
 * may have missed meanwhile. `up` says whether it is listening (feeds health()).
 *
 * A link cut without a reset (a partition, a host gone) raises no error on an idle
 * connection, so the listener sends `SELECT 1` every `heartbeatMs`; one that does not answer
 * within the connect timeout counts as lost.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { describeServer, type ConnectionConfig } from './connection.js';

export interface FeedListenerOptions {
  settings: pg.ClientConfig;
  config: ConnectionConfig;
  channel: string;
  logger: Logger;
  /** A notification's payload: the seq a commit reached. */
  onSeq(seq: number): void;
  /** After every connect, once LISTEN is in place. */
  onConnected(): Promise<void>;
  /** The link went down (or came back: `up` true). */
  onState(up: boolean, reason?: string): void;
}

const firstDelayMs = 500;
const maxDelayMs = 30_000;
export const heartbeatMs = 5_000;

export class FeedListener {
  readonly #options: FeedListenerOptions;
  #client: pg.Client | undefined = undefined;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined = undefined;
  #attempt = 0;
  #up = false;
  #heartbeat: NodeJS.Timeout | undefined = undefined;

  constructor(options: FeedListenerOptions) {
    this.#options = options;
  }

  get up(): boolean {
    return this.#up;
  }

  /** Connects and listens; rejects if the first attempt fails (the store's start retries). */
  async start(): Promise<void> {
    this.#stopped = false;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const client = this.#client;
    this.#client = undefined;
    this.#up = false;
    if (client) await client.end().catch(() => {});
  }

  /** Another part of the store saw the link break: reconnect now rather than at the next failure. */
  suspect(): void {
    if (!this.#up || this.#stopped) return;
    const client = this.#client;
    if (client) this.#lost(client, 'a query lost its connection');
  }

  async #connect(): Promise<void> {
    const { settings, channel, onSeq } = this.#options;
    // query_timeout: a heartbeat that gets no answer rejects instead of waiting forever.
    const client = new pg.Client({ ...settings, query_timeout: this.#options.config.connectTimeoutMs });
    // Until it listens, a failure arrives as the rejection below; only then is it "lost".
    client.on('error', () => {});
    client.on('notification', (message) => {
      if (message.channel !== channel) return;
      const seq = Number(message.payload);
      if (Number.isSafeInteger(seq)) onSeq(seq);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    // Stopped meanwhile, or another attempt got there first: this one is not needed.
    if (this.#stopped || this.#client) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    client.removeAllListeners('error');
    client.on('error', (error) => this.#lost(client, error.message));
    client.on('end', () => this.#lost(client, 'the connection ended'));
    this.#up = true;
    this.#attempt = 0;
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((error: Error) => this.#lost(client, `no answer to a heartbeat: ${error.message}`));
    }, heartbeatMs);
    this.#heartbeat.unref();
    this.#options.onState(true);
    await this.#options.onConnected();
  }

  #lost(client: pg.Client, reason: string): void {
    if (client !== this.#client || this.#stopped) return;
    this.#client = undefined;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => {});
    if (this.#up) {
      this.#up = false;
      this.#options.logger.warn({ reason, server: describeServer(this.#options.config) }, 'PostgreSQL connection lost; reconnecting with backoff');
      this.#options.onState(false, reason);
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped || this.#retry) return;
    const base = Math.min(maxDelayMs, firstDelayMs * 1.6 ** this.#attempt);
    const delay = base * (0.8 + Math.random() * 0.4);
    this.#attempt += 1;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#connect().catch((error: Error) => {
        this.#options.logger.debug({ reason: error.message, attempt: this.#attempt }, 'PostgreSQL reconnect failed');
        this.#options.onState(false, error.message);
        this.#schedule();
      });
    }, delay);
    this.#retry.unref();
  }
}
