/**
 * Runs the real `rollcall` CLI as a child process, for tests of the whole program:
 * lifecycle, signals, exit codes. Output lines are kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** dist/test/helpers → repository root */
export const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
export const cliPath = join(repoRoot, 'dist', 'daemon', 'main.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCommand(process.execPath, [cliPath, ...args], options);
}

/** Runs any program to completion, with `input` on its stdin; killed after `timeoutMs` (default 60 s). */
export function runCommand(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * The YAML of a daemon on the embedded simulator: state in `dataDir`, HTTP and the gateway on
 * the given loopback ports, `devices` virtual devices, two seed users; `extra` lines are added.
 */
export function embeddedDaemonConfig(options: { dataDir: string; httpPort: number; gatewayPort: number; devices: number[]; extra?: string[] }): string {
  return [
    `dataDir: ${options.dataDir}`,
    ...(options.extra ?? []),
    'http:',
    `  listen: 127.0.0.1:${options.httpPort}`,
    'gateway:',
    '  address: embedded',
    '  embedded:',
    `    port: ${options.gatewayPort}`,
    '    devices:',
    ...options.devices.map((id) => `      - id: ${id}`),
    'seed:',
    '  users:',
    '    - { id: "1", name: Ann }',
    '    - { id: "2", name: Bob, csn: "1234567" }',
    '',
  ].join('\n');
}

/** A long-running child (the daemon) whose JSON log lines can be awaited. */
export class DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];

  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          line = { msg: text, raw: true };
        }
        this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.match(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the first log line (past or future) that matches; rejects if the process exits first or after timeoutMs. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${this.stderr}; last lines: ${JSON.stringify(this.lines.slice(-5))}`)), timeoutMs);
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`process exited before the expected log line; stderr: ${this.stderr}; last lines: ${JSON.stringify(this.lines.slice(-5))}`));
      });
      this.#waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** Stops the child if a test failed midway. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
