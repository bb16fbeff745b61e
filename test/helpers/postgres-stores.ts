/**
 * PostgreSQL stores for tests, on a server from postgres-server.ts: each in a schema of
 * its own (so tests share one server and never see each other's tables), dropped at the end.
 */
import { pino, type Logger } from 'pino';
import { PostgresStore, type PostgresStoreOptions } from '../../plugins/storage/postgres/postgres-store.js';
import { configSchema, type PostgresStorageConfig } from '../../plugins/storage/postgres/schema.js';
import type { PostgresServer } from './postgres-server.js';

let schemas = 0;

/** A schema name no other test of this process uses. */
export function freshSchema(): string {
  schemas += 1;
  return `t${process.pid}_${schemas}`;
}

/** The plugin config that reaches `server` (over its socket) in `schema`, with `overrides`. */
export function postgresConfig(server: PostgresServer, schema: string, overrides: Partial<PostgresStorageConfig> = {}): PostgresStorageConfig {
  return configSchema.parse({
    host: server.socketDir,
    port: server.port,
    database: server.database,
    user: server.user,
    schema,
    startRetryMs: 0,
    ...overrides,
  });
}

/** The `storage:` section of a daemon's YAML that reaches `server` in `schema` (as `user`, with `extra` lines under `postgres:`). */
export function postgresStorageYaml(server: PostgresServer, schema: string, options: { user?: string; extra?: string[] } = {}): string[] {
  return [
    'storage:',
    '  backend: postgres',
    '  postgres:',
    `    host: ${server.socketDir}`,
    `    port: ${server.port}`,
    `    database: ${server.database}`,
    `    user: ${options.user ?? server.user}`,
    `    schema: ${schema}`,
    ...(options.extra ?? []).map((line) => `    ${line}`),
  ];
}

export function postgresStore(
  config: PostgresStorageConfig,
  options: { logger?: Logger } & Partial<Pick<PostgresStoreOptions, 'migrations' | 'now'>> = {},
): PostgresStore {
  return new PostgresStore({
    connection: config,
    poolSize: config.poolSize,
    startRetryMs: config.startRetryMs,
    logger: options.logger ?? pino({ level: 'silent' }),
    ...(options.migrations ? { migrations: options.migrations } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

export interface TempPostgresStore {
  store: PostgresStore;
  schema: string;
  config: PostgresStorageConfig;
  /** Closes the store and opens a new one on the same schema, as a daemon restart would. */
  reopen(): Promise<PostgresStore>;
  /** Closes the store and drops its schema. */
  cleanup(): Promise<void>;
}

/** An open store in a fresh schema of `server`. */
export async function tempPostgresStore(server: PostgresServer, overrides: Partial<PostgresStorageConfig> = {}): Promise<TempPostgresStore> {
  const schema = freshSchema();
  const config = postgresConfig(server, schema, overrides);
  const temp: TempPostgresStore = {
    store: postgresStore(config),
    schema,
    config,
    async reopen() {
      await temp.store.stop();
      temp.store = postgresStore(config);
      await temp.store.start();
      return temp.store;
    },
    async cleanup() {
      await temp.store.stop();
      await server.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
  await temp.store.start();
  return temp;
}
