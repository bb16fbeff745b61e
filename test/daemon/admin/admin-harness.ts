/**
 * The admin server over real parts: the sync harness (LevelDB in a temp dir, the gateway
 * simulator over gRPC, the gsdk transport, the sync engine), a real drop folder with the CSV
 * and datafile watchers on a temp spool, and the server on a unix socket in a temp dir. The
 * CLI runs as a child process against it.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from '../../../daemon/admin/cli.js';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { AdminServer, type AdminServerOptions } from '../../../daemon/admin/server.js';
import type { AdminBackend, AdminDropFolder } from '../../../daemon/admin/backend.js';
import { packageVersion } from '../../../daemon/admin/daemon-info.js';
import { DropFolder } from '../../../daemon/ingest/drop-folder.js';
import { setLogLevel } from '../../../daemon/obs/logger.js';
import { Metrics } from '../../../daemon/obs/metrics.js';
import type { PluginContext, Store, WatcherInstance } from '../../../daemon/plugins/api.js';
import csvWatcher from '../../../plugins/watchers/csv/index.js';
import { configSchema as csvSchema } from '../../../plugins/watchers/csv/schema.js';
import datafileWatcher from '../../../plugins/watchers/datafile/index.js';
import { configSchema as datafileSchema } from '../../../plugins/watchers/datafile/schema.js';
import { SyncHarness, type SyncHarnessOptions } from '../../helpers/sync-harness.js';
import { repoRoot } from '../../helpers/daemon-process.js';

// Compile-time check: the real drop folder is what the admin API expects.
const _dropFolderFits: (folder: DropFolder) => AdminDropFolder = (folder) => folder;

/** The CLI: the real `rollcall` (dist/daemon/main.js) once daemon/cli.ts lists the admin commands, else the test entry beside this file. */
export const cliEntry = readFileSync(join(repoRoot, 'dist', 'daemon', 'cli.js'), 'utf8').includes('registerAdminCommands')
  ? join(repoRoot, 'dist', 'daemon', 'main.js')
  : join(fileURLToPath(new URL('.', import.meta.url)), 'cli-entry.js');

export interface AdminHarnessOptions extends SyncHarnessOptions {
  server?: Partial<Omit<AdminServerOptions, 'backend' | 'logger' | 'socketPath'>>;
  /** Runs on the temp folder before the server starts (permissions for a client of another uid). */
  prepare?: (dir: string) => Promise<void>;
}

export class AdminHarness {
  sync!: SyncHarness;
  folder!: DropFolder;
  server!: AdminServer;
  dir!: string;
  /** Every log line of the server and the drop folder, to look for secrets. */
  readonly logLines: string[] = [];
  readonly logger: Logger;
  readonly metrics = new Metrics();
  readonly startedAt = Date.now();

  private constructor() {
    this.logger = pino({ level: 'debug' }, { write: (line: string) => void this.logLines.push(line) });
  }

  static async start(options: AdminHarnessOptions = {}): Promise<AdminHarness> {
    const h = new AdminHarness();
    // A short path: a unix socket path is at most 107 bytes.
    h.dir = await mkdtemp(join(tmpdir(), 'rc-admin-'));
    try {
      h.sync = await SyncHarness.start(options);
      const context = (store?: Store): PluginContext => ({ logger: h.logger, metrics: h.metrics, signal: new AbortController().signal, dataDir: h.dir, store, lookup: () => undefined });
      const watchers: WatcherInstance[] = [
        csvWatcher.create(context(), csvSchema.parse({})),
        datafileWatcher.create(context(h.sync.store), datafileSchema.parse({})),
      ];
      h.folder = new DropFolder({
        spoolDir: join(h.dir, 'spool'),
        store: h.sync.store,
        watchers,
        hashPin: (pin) => h.sync.transport.hashPin(pin),
        logger: h.logger,
        metrics: h.metrics,
        stableMs: 150,
      });
      await h.folder.start();
      await options.prepare?.(h.dir);
      h.server = new AdminServer({ socketPath: h.socketPath, backend: h.backend(), logger: h.logger, metrics: h.metrics, followPollMs: 50, ...options.server });
      await h.server.start(new AbortController().signal);
      return h;
    } catch (error) {
      await h.stop();
      throw error;
    }
  }

  get socketPath(): string {
    return join(this.dir, 'run', 'rollcall.sock');
  }

  get store(): Store {
    return this.sync.store;
  }

  backend(): AdminBackend {
    const h = this;
    return {
      daemonInfo: () => ({
        state: 'running',
        version: packageVersion(),
        pid: process.pid,
        startedAt: h.startedAt,
        plugins: [
          { id: 'storage/level', kind: 'storage', name: 'level', state: 'running', ok: true },
          { id: 'transport/gsdk', kind: 'transport', name: 'gsdk', state: 'running', ok: true },
        ],
        ready: true,
      }),
      get store() {
        return h.sync.store;
      },
      get engine() {
        return h.sync.engine;
      },
      get dropFolder() {
        return h.folder;
      },
      stagingDir: join(h.dir, 'staging'),
      logLevel: () => h.logger.level,
      setLogLevel: (level) => setLogLevel(h.logger, level),
      hashPin: (pin) => h.sync.transport.hashPin(pin),
    };
  }

  /** Runs a client command as a child process; `--socket` is added unless `socket` is false. */
  cli(args: string[], options: { socket?: boolean; env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliRun> {
    return runCli([...args, ...(options.socket === false ? [] : ['--socket', this.socketPath])], options);
  }

  /**
   * Runs a client command in this process (commander, the real client over the socket; only
   * stdout, stderr and the exit code are captured). Cheaper than a child: for variants.
   */
  async local(args: string[], options: { socket?: boolean; env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliRun> {
    let stdout = '';
    let stderr = '';
    let code = 0;
    const program = new Command('rollcall')
      .exitOverride()
      .configureOutput({ writeOut: (text) => void (stdout += text), writeErr: (text) => void (stderr += text) });
    registerAdminCommands(program, {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      stdin: Readable.from([options.stdin ?? '']),
      setExit: (c) => {
        code = c;
      },
      env: { ...options.env },
      cwd: repoRoot,
      onInterrupt: () => () => undefined,
    });
    try {
      await program.parseAsync(['node', 'rollcall', ...args, ...(options.socket === false ? [] : ['--socket', this.socketPath])]);
    } catch (error) {
      code = error instanceof CommanderError ? (error.exitCode === 0 ? 0 : 64) : 1;
    }
    return { code, signal: null, stdout, stderr };
  }

  /** Runs a client command with --json (in this process, or as a child with `child`) and parses its output. */
  async json<T = Record<string, unknown>>(args: string[], options: { child?: boolean } = {}): Promise<{ code: number | null; body: T; stderr: string }> {
    const run = options.child ? await this.cli([...args, '--json']) : await this.local([...args, '--json']);
    let body: T;
    try {
      body = JSON.parse(run.stdout) as T;
    } catch {
      throw new Error(`${args.join(' ')}: output is not JSON (exit ${run.code}): ${run.stdout}\nstderr: ${run.stderr}`);
    }
    return { code: run.code, body, stderr: run.stderr };
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    await this.folder?.stop();
    await this.sync?.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ROLLCALL_SOCKET: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(options.stdin ?? '');
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

void _dropFolderFits;
