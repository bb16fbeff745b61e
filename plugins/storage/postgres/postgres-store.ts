/**
 * The store contract on PostgreSQL (node-postgres). Every commit is one transaction that
 * first locks the one row of `store_state`, plans the commit from the numbers in it
 * (AbstractStore's planner), writes, moves the numbers and notifies, then commits: seqs are
 * given in commit order across every connection, so a follower reading "seq > cursor"
 * can never pass a lower seq that is still in flight. The tables are in README.md and
 * migrations.ts.
 *
 * Beside it: connection settings (connection.ts), the schema (migrations.ts), the LISTEN
 * connection (feed-listener.ts), the SQL that writes a plan (plan-writes.ts), the leases
 * (leases.ts). Just over 400 lines: the two commit paths (numbered under the lock,
 * unnumbered beside it) and the connection handling they share stay in one place.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { isRollcallError } from '../../../daemon/errors.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';
import type { Origin, User } from '../../../daemon/model/user.js';
import type { Change, DeviceLeases, EventQuery, HealthReport, ImportRecord, StoredEvent } from '../../../daemon/plugins/api.js';
import { AbstractStore, type AbstractStoreOptions, type CommitGuards, type NumberingBase, type OpenedState } from '../../../daemon/store/abstract-store.js';
import { checkImportClaim } from '../../../daemon/store/lease-errors.js';
import type { CommitPlan } from '../../../daemon/store/commit-plan.js';
import { storeClosedError } from '../../../daemon/store/store-errors.js';
import { clientSettings, describeServer, isConnectionLoss, isLoginRefusal, unavailableError, type ConnectionConfig } from './connection.js';
import { FeedListener } from './feed-listener.js';
import { checkFences, PostgresLeases } from './leases.js';
import { migrate, migrations, type Migration } from './migrations.js';
import { idBytes, idText, readState, toNumber, writePlan } from './plan-writes.js';

export interface PostgresStoreOptions extends AbstractStoreOptions {
  connection: ConnectionConfig;
  poolSize: number;
  /** How long start keeps retrying an unreachable server. */
  startRetryMs: number;
  logger: Logger;
  /** The migrations to apply (tests give a longer list); default: the code's. */
  migrations?: readonly Migration[];
}

/** Users read per query while scanning. */
const scanPage = 256;

interface Connection {
  pool: pg.Pool;
  listener: FeedListener;
}


export class PostgresStore extends AbstractStore {
  readonly #options: PostgresStoreOptions;
  #connection: Connection | undefined = undefined;
  /** Why the link to the server is down, while it is. */
  #down: string | undefined = undefined;
  /** The highest seq known committed (as AbstractStore's, but readable while closing: queued commits still run). */
  #knownSeq = 0;

  readonly #leases: PostgresLeases;

  constructor(options: PostgresStoreOptions) {
    super(options);
    this.#options = options;
    this.#leases = new PostgresLeases((sql, params) => this.#query(sql, params));
  }

  /** Shared by every instance on this schema (leases.ts). */
  override get leases(): DeviceLeases {
    return this.#leases;
  }

  /** The schema that holds the tables. */
  get schema(): string {
    return this.#options.connection.schema;
  }

  /** The NOTIFY channel of this schema. */
  get channel(): string {
    return `rollcall_feed.${this.#options.connection.schema}`;
  }

  override health(): HealthReport {
    const base = super.health();
    if (!base.ok) return base;
    if (this.#down !== undefined) return { ok: false, detail: `reconnecting to PostgreSQL: ${this.#down}` };
    return base;
  }

  protected override async _open(signal?: AbortSignal): Promise<OpenedState> {
    const { connection: config, logger } = this.#options;
    const settings = await clientSettings(config);
    const pool = new pg.Pool({ ...settings, max: this.#options.poolSize });
    // An idle connection that breaks is reported here; without a handler it would crash the process.
    pool.on('error', (error) => this.#connectionLost(error));
    const listener = new FeedListener({
      settings,
      config,
      channel: this.channel,
      logger,
      onSeq: (seq) => this._seqCommitted(seq),
      onConnected: () => this.#caughtUp(),
      onState: (up, reason) => {
        this.#down = up ? undefined : (reason ?? 'connection lost');
      },
    });
    try {
      const outcome = await this.#withRetry(signal, async () => {
        const client = await pool.connect();
        const lost = watchCheckedOut(client);
        try {
          return await migrate(client, config.schema, this.#options.migrations ?? migrations);
        } finally {
          client.release(lost.error);
          lost.stop();
        }
      });
      if (outcome.applied.length > 0) logger.info({ schema: config.schema, from: outcome.from, to: outcome.to }, 'PostgreSQL schema migrated');
      // Listening before the numbers are read: no commit falls between the two unseen.
      await this.#withRetry(signal, () => listener.start());
      signal?.throwIfAborted();
      const state = await readState(pool);
      this.#connection = { pool, listener };
      this.#down = undefined;
      this.#knownSeq = state.seq;
      logger.info({ server: describeServer(config), schema: config.schema, seq: state.seq }, 'PostgreSQL store open');
      return { seq: state.seq, lastEventId: state.lastEventId };
    } catch (error) {
      await listener.stop();
      await pool.end().catch(() => {});
      if (isRollcallError(error) || (error as Error)?.name === 'AbortError' || signal?.aborted) throw error;
      throw unavailableError(config, 'The PostgreSQL store could not be opened', error);
    }
  }

  protected override async _close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    await connection.listener.stop();
    await connection.pool.end();
  }

  /**
   * The commit's numbers come from the locked `store_state` row, not from this process:
   * another daemon (or connection) may have committed since. The lock is held to COMMIT,
   * so the next commit is numbered only after this one is visible. A commit that takes no
   * number is written without the lock. The fences are checked in the same transaction as
   * the writes, their lease rows locked to COMMIT (leases.ts), on either path.
   */
  protected override async _numberAndCommit(plan: (base: NumberingBase) => CommitPlan, guards: CommitGuards = { fences: [] }): Promise<CommitPlan> {
    // A commit that takes no number (cursor moves, device records: no user, no event) needs
    // no lock: planned from the seq this process knows (never above the database's, and a
    // cursor is never given beyond a seq read from it), it is written beside other commits,
    // so the commits of several instances share the server's WAL flushes instead of
    // queueing on the row. Anything the probe refuses is planned again under the lock. A
    // ledger claim always takes the locked path: its check relies on the store_state lock.
    const known = { seq: this.#knownSeq, lastEventId: 0 };
    let probe: CommitPlan | undefined;
    try {
      probe = guards.claim ? undefined : plan(known);
    } catch {
      probe = undefined;
    }
    if (probe && probe.seq === known.seq && probe.lastEventId === known.lastEventId) {
      const unnumbered = probe;
      return this.#transaction(async (client) => {
        await checkFences(client, guards.fences);
        await writePlan(client, unnumbered);
        return unnumbered;
      });
    }
    return this.#transaction(async (client) => {
      const locked = await client.query<{ seq: string; last_event_id: string }>('SELECT seq, last_event_id FROM store_state FOR UPDATE');
      await checkFences(client, guards.fences);
      // Every commit holds the store_state lock: the ledger read here cannot change before COMMIT.
      if (guards.claim) {
        const current = await client.query<{ record: ImportRecord }>('SELECT record FROM imports WHERE hash = $1', [idBytes(guards.claim.hash)]);
        checkImportClaim(guards.claim, current.rows[0]?.record);
      }
      const row = locked.rows[0]!;
      const base = { seq: toNumber(row.seq), lastEventId: toNumber(row.last_event_id) };
      const planned = plan(base);
      const userDelta = await writePlan(client, planned);
      await client.query('UPDATE store_state SET seq = $1, last_event_id = $2, user_count = user_count + $3', [planned.seq, planned.lastEventId, userDelta]);
      // Delivered to listeners at COMMIT, in commit order; never if the commit rolls back.
      if (planned.seq > base.seq) await client.query('SELECT pg_notify($1, $2)', [this.channel, String(planned.seq)]);
      return planned;
    });
  }

  protected override _seqCommitted(seq: number): void {
    if (seq > this.#knownSeq) this.#knownSeq = seq;
    super._seqCommitted(seq);
  }

  /** Not used: a plan numbered in this process could be stale (see _numberAndCommit). */
  protected override async _commit(): Promise<void> {
    throw new Error('PostgresStore numbers its commits in the database; _commit is not used');
  }

  protected override async _pruneTombstones(before: number): Promise<number> {
    return this.#transaction(async (client) => {
      await client.query('SELECT 1 FROM store_state FOR UPDATE');
      const removed = await client.query<{ seq: string }>("DELETE FROM feed WHERE op = 'delete' AND at < $1::float8 RETURNING seq", [before]);
      if (removed.rowCount === 0) return 0;
      const highest = Math.max(...removed.rows.map((r) => toNumber(r.seq)));
      await client.query('UPDATE store_state SET horizon = GREATEST(horizon, $1)', [highest + 1]);
      return removed.rowCount ?? removed.rows.length;
    });
  }

  protected override async _getUsers(ids: string[]): Promise<(User | undefined)[]> {
    const result = await this.#query<{ id: Buffer; record: User }>('SELECT id, record FROM users WHERE id = ANY($1::bytea[])', [ids.map(idBytes)]);
    const found = new Map(result.rows.map((row) => [idText(row.id), row.record]));
    return ids.map((id) => found.get(id));
  }

  protected override async *_scanUsers(options: { after: string | undefined; limit: number | undefined }): AsyncGenerator<User> {
    let after = options.after === undefined ? undefined : idBytes(options.after);
    let left = options.limit ?? Infinity;
    while (left > 0) {
      const page = Math.min(scanPage, left);
      const result =
        after === undefined
          ? await this.#query<{ id: Buffer; record: User }>('SELECT id, record FROM users ORDER BY id LIMIT $1', [page])
          : await this.#query<{ id: Buffer; record: User }>('SELECT id, record FROM users WHERE id > $1 ORDER BY id LIMIT $2', [after, page]);
      for (const row of result.rows) {
        yield row.record;
        left -= 1;
      }
      if (result.rows.length < page) return;
      after = result.rows[result.rows.length - 1]!.id;
    }
  }

  protected override async _countUsers(): Promise<number> {
    const result = await this.#query<{ user_count: string }>('SELECT user_count FROM store_state');
    return toNumber(result.rows[0]!.user_count);
  }

  protected override async _changesSince(seq: number, upTo: number, limit: number | undefined): Promise<Change[]> {
    const result = await this.#query<{ seq: string; user_id: Buffer; op: Change['op']; at: string; origin: Origin }>(
      'SELECT seq, user_id, op, at, origin FROM feed WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3',
      [seq, upTo, limit ?? null],
    );
    return result.rows.map((row) => ({ seq: toNumber(row.seq), userId: idText(row.user_id), op: row.op, at: toNumber(row.at), origin: row.origin }));
  }

  protected override async _feedHorizon(): Promise<number> {
    const result = await this.#query<{ horizon: string }>('SELECT horizon FROM store_state');
    return toNumber(result.rows[0]!.horizon);
  }

  protected override async _cursor(deviceId: number): Promise<number> {
    const result = await this.#query<{ seq: string }>('SELECT seq FROM cursors WHERE device_id = $1', [deviceId]);
    const row = result.rows[0];
    return row === undefined ? 0 : toNumber(row.seq);
  }

  protected override async _getDevice(id: number): Promise<DeviceRecord | undefined> {
    const result = await this.#query<{ record: DeviceRecord }>('SELECT record FROM devices WHERE id = $1', [id]);
    return result.rows[0]?.record;
  }

  protected override async _listDevices(): Promise<DeviceRecord[]> {
    const result = await this.#query<{ record: DeviceRecord }>('SELECT record FROM devices ORDER BY id');
    return result.rows.map((row) => row.record);
  }

  protected override async _getImport(hash: string): Promise<ImportRecord | undefined> {
    const result = await this.#query<{ record: ImportRecord }>('SELECT record FROM imports WHERE hash = $1', [idBytes(hash)]);
    return result.rows[0]?.record;
  }

  protected override async _listImports(state: ImportRecord['state'] | undefined): Promise<ImportRecord[]> {
    const result =
      state === undefined
        ? await this.#query<{ record: ImportRecord }>('SELECT record FROM imports ORDER BY started_at, hash')
        : await this.#query<{ record: ImportRecord }>('SELECT record FROM imports WHERE state = $1 ORDER BY started_at, hash', [state]);
    return result.rows.map((row) => row.record);
  }

  /** Every filter is a condition of one statement; the planner picks the index (user, device, time or ID). */
  protected override async _queryEvents(query: EventQuery): Promise<StoredEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown, cast: string): string => {
      params.push(value);
      return `$${params.length}::${cast}`;
    };
    if (query.afterId !== undefined) where.push(`id > ${param(query.afterId, 'bigint')}`);
    if (query.since !== undefined) where.push(`at >= ${param(query.since, 'float8')}`);
    if (query.until !== undefined) where.push(`at < ${param(query.until, 'float8')}`);
    if (query.userId !== undefined) where.push(`user_id = ${param(idBytes(query.userId), 'bytea')}`);
    if (query.deviceId !== undefined) where.push(`device_id = ${param(query.deviceId, 'bigint')}`);
    if (query.kind !== undefined) {
      // A pattern ending in '.' is a prefix; compared as text, so no LIKE escaping is needed.
      if (query.kind.endsWith('.')) where.push(`starts_with(kind, ${param(query.kind, 'text')})`);
      else where.push(`kind = ${param(query.kind, 'text')}`);
    }
    const limit = query.limit === undefined ? '' : ` LIMIT ${param(query.limit, 'bigint')}`;
    const sql = `SELECT event FROM events${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id${limit}`;
    const result = await this.#query<{ event: StoredEvent }>(sql, params);
    return result.rows.map((row) => row.event);
  }

  // -------------------------------------------------------------------------

  get #pool(): pg.Pool {
    if (!this.#connection) throw storeClosedError('closed');
    return this.#connection.pool;
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    const pool = this.#pool;
    try {
      return await pool.query<R>(sql, params);
    } catch (error) {
      throw this.#translate(error, 'A PostgreSQL read failed');
    }
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const pool = this.#pool;
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw this.#translate(error, 'A PostgreSQL commit could not get a connection');
    }
    let broken: unknown = undefined;
    const lost = watchCheckedOut(client);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollback) {
        broken = rollback;
      }
      throw isRollcallError(error) ? error : this.#translate(error, 'A PostgreSQL commit failed; nothing of it was applied unless the link broke during COMMIT');
    } finally {
      // A connection whose ROLLBACK failed, or that broke meanwhile, is not given back to the pool.
      client.release(lost.error ?? (broken === undefined ? undefined : (broken as Error)));
      lost.stop();
    }
  }

  #translate(error: unknown, what: string): unknown {
    if (isRollcallError(error)) return error;
    if (isConnectionLoss(error) || isLoginRefusal(error)) {
      this.#connectionLost(error);
      return unavailableError(this.#options.connection, what, error);
    }
    return error;
  }

  #connectionLost(error: unknown): void {
    if (this.#down === undefined) this.#down = (error as Error)?.message ?? 'connection lost';
    this.#connection?.listener.suspect();
  }

  /** After (re)connecting the listener: a commit made while it was away wakes nobody, so read the seq. */
  async #caughtUp(): Promise<void> {
    const pool = this.#connection?.pool;
    if (!pool) return;
    try {
      const state = await readState(pool);
      this.#down = undefined;
      this._seqCommitted(state.seq);
    } catch (error) {
      this.#connectionLost(error);
    }
  }

  /** Retries work that failed to reach the server, with backoff, for up to startRetryMs. */
  async #withRetry<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#options.startRetryMs;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await work();
      } catch (error) {
        const delay = Math.min(5_000, 250 * 1.6 ** attempt) * (0.8 + Math.random() * 0.4);
        if (!isConnectionLoss(error) || Date.now() + delay > deadline) throw error;
        this.#options.logger.warn({ reason: (error as Error).message, server: describeServer(this.#options.connection) }, 'PostgreSQL not reachable yet; retrying');
        await sleep(delay, undefined, signal ? { signal } : undefined);
      }
    }
  }
}

/**
 * pg-pool takes its error listener off a client while it is checked out, so a connection
 * that breaks then (ECONNRESET, a terminated backend) emits 'error' with no listener and
 * would crash the process. The failing query rejects anyway; this keeps the error for the
 * release (a broken client is not given back) and takes itself off before that.
 */
function watchCheckedOut(client: pg.PoolClient): { readonly error: Error | undefined; stop: () => void } {
  const state: { error: Error | undefined } = { error: undefined };
  const onError = (error: Error): void => {
    state.error = error;
  };
  client.on('error', onError);
  return {
    get error() {
      return state.error;
    },
    stop: () => void client.removeListener('error', onError),
  };
}
