/**
 * What every client command shares: the process it runs in (AdminCliIo, replaceable in
 * tests), the --socket, --config and --json options, connecting to the daemon and closing the
 * connection, and following a stream until it ends or Ctrl-C cancels it.
 */
import type { Command } from 'commander';
import { AdminConnection, type AdminStream } from '../client.js';
import { clientSocket } from '../cli-socket.js';
import { Output, type OutStream } from './output.js';

export interface AdminCliIo {
  stdout: OutStream;
  stderr: OutStream;
  stdin: NodeJS.ReadableStream;
  setExit(code: number): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now(): number;
  /** Calls `handler` on Ctrl-C (instead of dying); returns a function that stops listening. */
  onInterrupt(handler: () => void): () => void;
}

export function defaultIo(): AdminCliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    setExit: (code) => {
      process.exitCode = code;
    },
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
    onInterrupt: (handler) => {
      process.once('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
  };
}

export interface ClientOptions {
  socket?: string;
  config?: string;
  json?: boolean;
}

export class ClientCommands {
  readonly io: AdminCliIo;

  constructor(io: AdminCliIo) {
    this.io = io;
  }

  /** A subcommand with --socket, --config and --json. */
  define(parent: Command, name: string, description: string): Command {
    return parent
      .command(name)
      .description(description)
      .option('--socket <path>', 'the daemon\'s admin socket (default: admin.socket from the config, else $RUNTIME_DIRECTORY/rollcall.sock, else ./var/run/rollcall.sock)')
      .option('-c, --config <file>', 'config file to read admin.socket from (default: searched from the working directory)')
      .option('--json', 'print the result as JSON (a stable shape, see daemon/admin/README.md)');
  }

  /** Connects, runs, reports, closes; the exit code comes from `run` or from the failure. */
  async withDaemon(options: ClientOptions, run: (connection: AdminConnection, out: Output) => Promise<number>): Promise<void> {
    const out = new Output(this.io, options.json === true);
    let connection: AdminConnection | undefined;
    try {
      const socket = await clientSocket(options, this.io.env, this.io.cwd);
      connection = await AdminConnection.open(socket.path);
      this.io.setExit(await run(connection, out));
    } catch (error) {
      this.io.setExit(out.fail(error));
    } finally {
      connection?.close();
    }
  }

  /** Iterates a stream; Ctrl-C cancels it. Returns false when interrupted. */
  async drain<T>(stream: AdminStream<T>, each: (message: T) => void | Promise<void>): Promise<boolean> {
    let interrupted = false;
    const stop = this.io.onInterrupt(() => {
      interrupted = true;
      stream.cancel();
    });
    try {
      for await (const message of stream) await each(message);
    } finally {
      stop();
    }
    return !interrupted;
  }
}
