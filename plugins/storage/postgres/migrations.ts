/**
 * The store's schema, as numbered migrations (the tables are described in README.md).
 * At start, `migrate` applies the ones the database lacks, all in one transaction under an
 * advisory lock (two daemons starting together do not both migrate), and records each in
 * `schema_migrations`. A database whose version is newer than the newest here was migrated
 * by a newer rollcall: it is refused and left untouched.
 *
 * A migration is never edited once released: a change is a new migration.
 */
import type pg from 'pg';
import { RollcallError } from '../../../daemon/errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'users, change feed, cursors, devices, import ledger, event log',
    sql: `
      -- One row: the numbering of commits. Every commit locks it first (SELECT ... FOR UPDATE),
      -- so commits are numbered in the order they commit, across every connection.
      CREATE TABLE store_state (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        seq bigint NOT NULL DEFAULT 0,
        last_event_id bigint NOT NULL DEFAULT 0,
        user_count bigint NOT NULL DEFAULT 0,
        horizon bigint NOT NULL DEFAULT 0
      );
      INSERT INTO store_state DEFAULT VALUES;

      -- IDs are their UTF-8 bytes: bytea orders by bytes, and holds any ID (NUL included).
      CREATE TABLE users (
        id bytea PRIMARY KEY,
        record json NOT NULL
      );

      -- At most one entry per user: its latest op.
      CREATE TABLE feed (
        seq bigint PRIMARY KEY,
        user_id bytea NOT NULL UNIQUE,
        op text NOT NULL CHECK (op IN ('upsert', 'delete')),
        at bigint NOT NULL,
        origin json NOT NULL
      );
      CREATE INDEX feed_tombstones ON feed (at) WHERE op = 'delete';

      CREATE TABLE cursors (
        device_id bigint PRIMARY KEY,
        seq bigint NOT NULL
      );

      CREATE TABLE devices (
        id bigint PRIMARY KEY,
        record json NOT NULL
      );

      CREATE TABLE imports (
        hash bytea PRIMARY KEY,
        state text NOT NULL,
        started_at double precision NOT NULL,
        record json NOT NULL
      );
      CREATE INDEX imports_by_start ON imports (started_at, hash);

      CREATE TABLE events (
        id bigint PRIMARY KEY,
        at bigint NOT NULL,
        kind text NOT NULL,
        user_id bytea,
        device_id bigint,
        event json NOT NULL
      );
      CREATE INDEX events_by_user ON events (user_id, id) WHERE user_id IS NOT NULL;
      CREATE INDEX events_by_device ON events (device_id, id) WHERE device_id IS NOT NULL;
      CREATE INDEX events_by_time ON events (at, id);
    `,
  },
  {
    version: 2,
    name: 'instances and device leases (several instances, one fleet)',
    sql: `
      -- Every rollcall instance on this schema; live while expires_at (server time) is ahead.
      CREATE TABLE instances (
        id text PRIMARY KEY,
        host text NOT NULL,
        started_at timestamptz NOT NULL,
        seen_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      );

      -- One row per device ever leased (never deleted, so epoch only grows): the instance
      -- that may call the device and commit its cursor and state, until expires_at (server
      -- time). owner NULL: released. epoch grows by one on every change of owner.
      CREATE TABLE leases (
        device_id bigint PRIMARY KEY,
        owner text,
        epoch bigint NOT NULL CHECK (epoch > 0),
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX leases_by_owner ON leases (owner) WHERE owner IS NOT NULL;
    `,
  },
];

export const latestVersion = migrations[migrations.length - 1]!.version;

export interface MigrationOutcome {
  /** The version the database had before (0: a new schema). */
  from: number;
  to: number;
  applied: number[];
}

/**
 * Brings `schema` up to the newest version in one transaction. `client` is a dedicated
 * connection (not in a transaction). `known` is the list to apply (the default in code;
 * tests pass a longer one to hold the refusal of a newer database).
 */
export async function migrate(client: pg.ClientBase, schema: string, known: readonly Migration[] = migrations): Promise<MigrationOutcome> {
  const id = client.escapeIdentifier(schema);
  const newest = known[known.length - 1]?.version ?? 0;
  await client.query('BEGIN');
  try {
    // Serializes every rollcall migrating this schema; released at COMMIT or ROLLBACK.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rollcall.migrate.${schema}`]);
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    // Asked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${id}`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${id}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const result = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${id}.schema_migrations`);
    const from = result.rows[0]?.version ?? 0;
    if (from > newest) {
      throw new RollcallError(
        'ROLLCALL_ERR_STORE_VERSION',
        `The PostgreSQL schema ${schema} is at version ${from}, newer than this rollcall knows (${newest}): a newer rollcall migrated it. Run that version; nothing was changed`,
        { detail: { schema, version: from, known: newest } },
      );
    }
    const applied: number[] = [];
    for (const migration of known) {
      if (migration.version <= from) continue;
      await client.query(`SET LOCAL search_path = ${id}`);
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${id}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return { from, to: Math.max(from, newest), applied };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
