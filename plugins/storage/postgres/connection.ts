/**
 * From the plugin's config to node-postgres connection settings, and the errors of a
 * connection in the store's words. The password is read from its file at start and kept
 * only inside the settings object handed to `pg`: it is never put in a message, a log
 * line or an error's detail (errors name host, port, database and user only).
 */
import { readFile } from 'node:fs/promises';
import type { ClientConfig } from 'pg';
import { RollcallError } from '../../../daemon/errors.js';
import type { PostgresStorageConfig } from './schema.js';

export type ConnectionConfig = Pick<PostgresStorageConfig, 'host' | 'port' | 'database' | 'user' | 'passwordFile' | 'schema' | 'tls' | 'connectTimeoutMs'> &
  Partial<Pick<PostgresStorageConfig, 'idleInTransactionTimeoutMs'>>;

/** Where the store connects, for messages: never the password. */
export function describeServer(config: ConnectionConfig): string {
  const where = config.host.startsWith('/') ? `socket ${config.host}/.s.PGSQL.${config.port}` : `${config.host}:${config.port}`;
  return `PostgreSQL ${where}, database ${config.database}, user ${config.user}`;
}

export function serverDetail(config: ConnectionConfig): Record<string, unknown> {
  return { host: config.host, port: config.port, database: config.database, user: config.user };
}

/** The settings every connection of the store uses (the pool's and the listener's). */
export async function clientSettings(config: ConnectionConfig): Promise<ClientConfig> {
  const settings: ClientConfig = {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    connectionTimeoutMillis: config.connectTimeoutMs,
    // Every statement names tables without their schema.
    // A transaction left open by a paused or cut-off instance holds its locks (the lease rows a
    // fenced commit locked): the server ends it, so the others can take the leases over.
    options: `-c search_path=${config.schema} -c idle_in_transaction_session_timeout=${config.idleInTransactionTimeoutMs ?? 5000}`,
    // The process in pg_stat_activity: several instances may share the server.
    application_name: `rollcall/${process.pid}`,
    // TCP keepalive, so that the kernel in time ends a connection whose peer is gone.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  if (config.passwordFile !== undefined) settings.password = await readPassword(config);
  const ssl = await tlsSettings(config);
  if (ssl !== undefined) settings.ssl = ssl;
  return settings;
}

async function readPassword(config: ConnectionConfig): Promise<string> {
  const file = config.passwordFile!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new RollcallError('ROLLCALL_ERR_STORE_UNAVAILABLE', `The password file of the PostgreSQL store (${file}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      detail: { passwordFile: file, ...serverDetail(config) },
    });
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '') {
    throw new RollcallError('ROLLCALL_ERR_STORE_UNAVAILABLE', `The password file of the PostgreSQL store (${file}) is empty`, {
      detail: { passwordFile: file, ...serverDetail(config) },
    });
  }
  return password;
}

async function tlsSettings(config: ConnectionConfig): Promise<ClientConfig['ssl']> {
  const { tls } = config;
  if (tls.mode === 'disable') return undefined;
  const read = async (file: string | undefined, what: string): Promise<string | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new RollcallError('ROLLCALL_ERR_STORE_UNAVAILABLE', `The TLS ${what} of the PostgreSQL store (${file}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
        detail: { file, ...serverDetail(config) },
      });
    }
  };
  const [ca, cert, key] = await Promise.all([read(tls.caFile, 'CA file'), read(tls.certFile, 'certificate'), read(tls.keyFile, 'key')]);
  return {
    rejectUnauthorized: tls.mode === 'verify-full',
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
  };
}

/**
 * Whether an error means the server could not be reached or the link broke (worth
 * retrying), as opposed to a refusal (bad password, no such database) or a bad statement.
 */
export function isConnectionLoss(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  // SQLSTATE class 08 (connection exception), 57P01-03 (server shutting down, cannot connect now).
  if (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout expired|Client has encountered a connection error|not queryable/i.test(message);
}

/** Whether the server refused the login: a bad password or role (SQLSTATE class 28), no such database (3D000). */
export function isLoginRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (/^28/.test(code) || code === '3D000');
}

/**
 * A failure to reach or use the server, in the store's code. pg's messages carry no
 * password; the message is kept (it says what happened: refused, no such role, ...).
 */
export function unavailableError(config: ConnectionConfig, what: string, cause: unknown): RollcallError {
  const reason = (cause as Error | undefined)?.message ?? String(cause);
  const sqlstate = (cause as { code?: unknown } | undefined)?.code;
  return new RollcallError('ROLLCALL_ERR_STORE_UNAVAILABLE', `${what} (${describeServer(config)}): ${reason}`, {
    cause,
    detail: { ...serverDetail(config), ...(typeof sqlstate === 'string' ? { code: sqlstate } : {}) },
  });
}
