/**
 * A real PostgreSQL server for tests, from Debian's `postgresql` package: `initdb` in a
 * temp directory, listening only on a unix socket in that directory (no TCP at all), one
 * database made for the tests, stopped and removed at the end.
 *
 * Without the binaries the tests that need it skip with a warning, except in CI (the `CI`
 * environment variable set), where they fail: .ci/run installs the package.
 *
 * PostgreSQL refuses to run as root, so under root (a CI container) the server runs as the
 * `postgres` system user the package creates, and the temp directory is given to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const binRoot = '/usr/lib/postgresql';

/** The directory holding initdb and postgres, newest version first; undefined when none is installed. */
export function findPostgresBinaries(root = binRoot): string | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

/**
 * Why the PostgreSQL tests cannot run here, or undefined when they can. In CI a missing
 * server is an error (thrown), never a skip.
 */
export function postgresSkipReason(env: NodeJS.ProcessEnv = process.env, root = binRoot): string | undefined {
  if (findPostgresBinaries(root)) return undefined;
  const reason = `PostgreSQL server binaries not found under ${root}/*/bin (Debian package \`postgresql\`)`;
  if (env['CI']) throw new Error(`${reason}; CI must run the PostgreSQL tests (.ci/run installs the package)`);
  console.warn(`WARNING: skipping the PostgreSQL tests: ${reason}. Install it with \`apt-get install postgresql\`.`);
  return reason;
}

export interface PostgresServer {
  /** The directory of the unix socket: what `host` is set to. */
  socketDir: string;
  /** Names the socket file (.s.PGSQL.<port>); no TCP port is opened unless TLS was asked for. */
  port: number;
  /** The superuser, trusted on the socket. */
  user: string;
  /** The database made for the tests. */
  database: string;
  /** Runs SQL as the superuser on the test database. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** Makes `role` a login role that must give `password` (scram-sha-256) on the socket. */
  requirePassword(role: string, password: string): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const superuser = 'rollcall_test';
const database = 'rollcall_test';
const port = 5432;

export interface PostgresServerOptions {
  /**
   * Also listen on TCP at 127.0.0.1:`port` with TLS only (hostssl: a plain TCP connection is
   * refused), with this certificate and key (PEM text). The socket stays plaintext.
   */
  tls?: { port: number; cert: string; key: string };
  /**
   * Keep PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes on;
   * shared_buffers 128MB), as a production server runs: for the benchmarks (bench/), whose
   * figures would otherwise leave out the cost of every commit's WAL flush. Tests leave it
   * off and trade durability for speed.
   */
  durable?: boolean;
}

export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBinaries();
  if (!bin) throw new Error(`PostgreSQL server binaries not found under ${binRoot}/*/bin`);
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-pg-'));
  const data = join(dir, 'data');
  const owner = await serverOwner(dir);
  const run = (command: string, args: string[]) => runToEnd(join(bin, command), args, owner, dir);
  let postmaster: ChildProcess | undefined;
  try {
    await run('initdb', ['-D', data, '-U', superuser, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const tlsArgs: string[] = [];
    if (options.tls) {
      const certFile = join(data, 'server.crt');
      const keyFile = join(data, 'server.key');
      await writeFile(certFile, options.tls.cert);
      await writeFile(keyFile, options.tls.key, { mode: 0o600 });
      if (owner.spawn.uid !== undefined) {
        await chown(certFile, owner.spawn.uid, owner.spawn.gid!);
        await chown(keyFile, owner.spawn.uid, owner.spawn.gid!);
      }
      tlsArgs.push('-c', 'ssl=on', '-c', `ssl_cert_file=${certFile}`, '-c', `ssl_key_file=${keyFile}`);
    }
    const listen = options.tls ? '127.0.0.1' : '';
    const serverPort = options.tls?.port ?? port;
    await writeHba(data, [], options.tls !== undefined);
    postmaster = spawn(
      join(bin, 'postgres'),
      [
        '-D', data,
        '-k', dir,
        '-p', String(serverPort),
        '-c', `listen_addresses=${listen}`,
        ...tlsArgs,
        ...(options.durable
          ? ['-c', 'shared_buffers=128MB']
          : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=32MB']),
        '-c', 'max_connections=200',
      ],
      { ...owner.spawn, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let serverLog = '';
    postmaster.stderr?.on('data', (chunk: Buffer) => {
      serverLog = (serverLog + chunk.toString('utf8')).slice(-8000);
    });
    const exited = new Promise<never>((_, reject) => {
      postmaster!.once('exit', (code) => reject(new Error(`postgres exited (${code}) before it was ready:\n${serverLog}`)));
    });
    exited.catch(() => {});
    await Promise.race([waitReady(dir, serverPort), exited]);
    const admin = (db: string) => new pg.Client({ host: dir, port: serverPort, user: superuser, database: db });
    {
      const client = admin('postgres');
      await client.connect();
      await client.query(`CREATE DATABASE ${database}`);
      await client.end();
    }
    const hba: string[] = [];
    const child = postmaster;
    let stopped = false;
    return {
      socketDir: dir,
      port: serverPort,
      user: superuser,
      database,
      async query(sql, params) {
        const client = admin(database);
        await client.connect();
        try {
          return await client.query(sql, params);
        } finally {
          await client.end();
        }
      },
      async requirePassword(role, password) {
        const client = admin(database);
        await client.connect();
        try {
          await client.query(`SET password_encryption = 'scram-sha-256'`);
          const ident = client.escapeIdentifier(role);
          await client.query(`DROP ROLE IF EXISTS ${ident}`);
          await client.query(`CREATE ROLE ${ident} LOGIN PASSWORD ${client.escapeLiteral(password)}`);
          await client.query(`GRANT ALL ON DATABASE ${database} TO ${ident}`);
          await client.query(`GRANT ALL ON SCHEMA public TO ${ident}`);
          hba.push(`local all ${role} scram-sha-256`);
          await writeHba(data, hba, options.tls !== undefined);
          await client.query('SELECT pg_reload_conf()');
        } finally {
          await client.end();
        }
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        if (child.exitCode === null && child.signalCode === null) {
          const gone = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGINT'); // fast shutdown
          await gone;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (postmaster && postmaster.exitCode === null) postmaster.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

interface Owner {
  spawn: { uid?: number; gid?: number };
}

/** Who runs the server: this user, or under root the `postgres` system user (given the directory). */
async function serverOwner(dir: string): Promise<Owner> {
  if (userInfo().uid !== 0) return { spawn: {} };
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('running as root, and there is no `postgres` user to run the PostgreSQL server as');
  const [, , uid, gid] = line.split(':');
  const owner = { uid: Number(uid), gid: Number(gid) };
  await chown(dir, owner.uid, owner.gid);
  return { spawn: owner };
}

/** The socket, trusted except for roles given a password; with TLS, TCP from 127.0.0.1 over TLS only. */
async function writeHba(data: string, passwordLines: string[], tls: boolean): Promise<void> {
  const lines = [...passwordLines, 'local all all trust', ...(tls ? ['hostssl all all 127.0.0.1/32 trust'] : []), ''];
  await writeFile(join(data, 'pg_hba.conf'), lines.join('\n'));
}

function runToEnd(command: string, args: string[], owner: Owner, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...owner.spawn, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}:\n${output}`))));
  });
}

/** Connects until the server answers (it takes a moment after the socket appears). */
async function waitReady(socketDir: string, port: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ host: socketDir, port, user: superuser, database: 'postgres' });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (attempt > 600) throw error;
      await sleep(50);
    }
  }
}
