import { z } from 'zod';

const restart = { requiresRestart: true } as const;

const tls = z
  .strictObject({
    mode: z
      .enum(['disable', 'require', 'verify-full'])
      .default('disable')
      .describe('disable: no TLS (a unix socket, a trusted network); require: TLS without checking the server certificate; verify-full: TLS, the certificate checked against `caFile` (or the system CAs) and the host name.'),
    caFile: z.string().min(1).optional().describe('PEM file of the CA(s) that signed the server certificate (verify-full).').meta({ path: true }),
    certFile: z.string().min(1).optional().describe('PEM client certificate, for servers that authenticate clients by certificate.').meta({ path: true }),
    keyFile: z.string().min(1).optional().describe('PEM private key of `certFile`.').meta({ path: true }),
    serverName: z.string().min(1).optional().describe('The name the server certificate must carry, when it differs from `host`.'),
  })
  .prefault({})
  .describe('TLS to the server.')
  .meta(restart);

export const configSchema = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .default('/var/run/postgresql')
      .describe('Server host name or address, or a directory holding its unix socket (a path starting with `/`, e.g. /var/run/postgresql).')
      .meta(restart),
    port: z.number().int().min(1).max(65535).default(5432).describe('TCP port; with a socket directory, it names the socket file (.s.PGSQL.<port>).').meta(restart),
    database: z.string().min(1).default('rollcall').describe('The database. It must exist; rollcall creates its schema and tables in it.').meta(restart),
    user: z.string().min(1).default('rollcall').describe('The role rollcall logs in as.').meta(restart),
    passwordFile: z
      .string()
      .min(1)
      .optional()
      .describe('A file holding the password (its first line is used). Without it, no password is sent (peer or trust authentication on a unix socket, or a client certificate). The password is never logged.')
      .meta({ ...restart, path: true }),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase SQL identifier (letters, digits, _)')
      .default('rollcall')
      .describe('The schema that holds rollcall\'s tables; created when missing. Several sites may share one database under different schemas.')
      .meta(restart),
    tls,
    poolSize: z.number().int().min(2).max(200).default(10).describe('Most connections in the pool (reads and commits), besides the one that listens for new changes.').meta(restart),
    idleInTransactionTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(5_000)
      .describe('The server ends a rollcall session that stays this long inside a transaction without a statement (idle_in_transaction_session_timeout): an instance paused mid-commit (a VM freeze, SIGSTOP) then stops holding the locks that keep the others from taking its device leases. Takeover of a lost instance\'s devices takes up to cluster.leaseTtlMs + cluster.renewIntervalMs + this.')
      .meta(restart),
    connectTimeoutMs: z.number().int().min(100).default(10_000).describe('How long one connection attempt may take.').meta(restart),
    startRetryMs: z
      .number()
      .int()
      .min(0)
      .default(20_000)
      .describe('How long start keeps retrying a server that cannot be reached (with backoff), before the store fails. Keep it below `plugins.startTimeoutMs`.')
      .meta(restart),
  })
  .describe('The site database on a PostgreSQL server.');

export type PostgresStorageConfig = z.infer<typeof configSchema>;
