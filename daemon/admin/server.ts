/**
 * The admin API (rollcall.admin.v1.Admin) on a unix socket. This file owns the socket's
 * life (a stale file is cleared, a live one is never taken over, mode 0660, removed on stop)
 * and the gRPC glue: every handler runs the service inside one guard that turns a refusal
 * into a clear status and any other throw into INTERNAL, so no request can take the daemon
 * down. Requests are never logged: they may carry PINs and credentials.
 */
import { once } from 'node:events';
import { chmod, lstat, mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerWritableStream,
  type StatusObject,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { RollcallError, isRollcallError } from '../errors.js';
import type { Metrics } from '../obs/metrics.js';
import {
  AdminService as AdminDefinition,
  type AdminServer as AdminHandlers,
  type ImportRequest,
  type ImportStart,
  type ImportUpdate,
} from '../../proto/gen/rollcall/admin/v1/admin.js';
import type { AdminBackend } from './backend.js';
import { AdminRequestError, invalidField, type RequestIssue } from './request-error.js';
import { AdminService, type Caller, type Emit } from './service.js';
import { DEFAULT_ADMIN_MAX_MESSAGE_BYTES } from '../config/schema.js';
import { MAX_SOCKET_PATH_BYTES } from './socket-path.js';
import { ERROR_CODE_TRAILER, ISSUES_TRAILER, OPERATOR_METADATA } from './wire.js';

export const ADMIN_SOCKET_ERROR = 'ROLLCALL_ERR_ADMIN_SOCKET' as const;

/** The socket cannot be used: another daemon answers on it, or the path is not a socket. */
export class AdminSocketError extends RollcallError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(ADMIN_SOCKET_ERROR, message, { ...(options?.cause === undefined ? {} : { cause: options.cause }), detail: { path } });
    this.name = 'AdminSocketError';
    this.path = path;
  }
}

export interface AdminServerOptions {
  socketPath: string;
  backend: AdminBackend;
  logger: Logger;
  /** Largest request accepted (default 4 MiB). */
  maxMessageBytes?: number;
  /** Largest file an Import may upload (default 1 GiB). */
  maxUploadBytes?: number;
  metrics?: Metrics;
  /** How often FollowEvents looks for new events (default 500 ms). */
  followPollMs?: number;
  /** How long stop() lets calls under way finish before it cuts them (default 2 s). */
  shutdownGraceMs?: number;
}

const MAX_TRAILER_ISSUES = 50;
const MAX_DETAILS_CHARS = 2000;

/** Whether something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else reject(error);
    });
  });
}

function operatorOf(metadata: Metadata): string | undefined {
  const value = metadata.get(OPERATOR_METADATA)[0];
  if (typeof value !== 'string') return undefined;
  const clean = value.replace(/[^\x20-\x7e]/g, '').slice(0, 64);
  return clean === '' ? undefined : clean;
}

function grpcCodeOf(error: unknown): number {
  if (error instanceof AdminRequestError) {
    return error.kind === 'invalid' ? status.INVALID_ARGUMENT : error.kind === 'not-found' ? status.NOT_FOUND : status.FAILED_PRECONDITION;
  }
  if (
    isRollcallError(error, 'ROLLCALL_ERR_ADMIN_REQUEST') ||
    isRollcallError(error, 'ROLLCALL_ERR_USER_INVALID') ||
    isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID') ||
    isRollcallError(error, 'ROLLCALL_ERR_STORE_INVALID_ARGUMENT')
  ) {
    return status.INVALID_ARGUMENT;
  }
  if (isRollcallError(error, 'ROLLCALL_ERR_STORE_CLOSED')) return status.FAILED_PRECONDITION;
  return status.INTERNAL;
}

export class AdminServer {
  readonly #o: AdminServerOptions;
  #server: Server | undefined;
  #service: AdminService | undefined;
  /** Fires when the server stops: ends follows and long calls. */
  #stopping = new AbortController();
  /** The inode of the socket this server bound, so stop() never removes another's socket. */
  #inode: number | undefined;
  #requests: Counter<'method' | 'code'> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: AdminServerOptions) {
    this.#o = options;
  }

  get socketPath(): string {
    return this.#o.socketPath;
  }

  async start(signal: AbortSignal): Promise<void> {
    const path = this.#o.socketPath;
    const { logger } = this.#o;
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
      throw new AdminSocketError(path, `admin socket path is ${Buffer.byteLength(path)} bytes; a unix socket path is at most ${MAX_SOCKET_PATH_BYTES} (set admin.socket to a shorter path)`);
    }
    // 0750: between bind and chmod the socket has the umask's mode; the folder keeps others out.
    await mkdir(dirname(path), { recursive: true, mode: 0o750 });
    await this.#clearStale(path);
    await this.#clearStaging();
    signal.throwIfAborted();

    this.#requests = this.#o.metrics?.counter({
      name: 'rollcall_admin_requests_total',
      help: 'Admin API requests by method and gRPC status code name.',
      labelNames: ['method', 'code'],
    });
    this.#service = new AdminService({
      backend: this.#o.backend,
      logger: logger,
      ...(this.#o.followPollMs !== undefined ? { followPollMs: this.#o.followPollMs } : {}),
      ...(this.#o.maxUploadBytes !== undefined ? { maxUploadBytes: this.#o.maxUploadBytes } : {}),
    });
    const server = new Server({ 'grpc.max_receive_message_length': this.#o.maxMessageBytes ?? DEFAULT_ADMIN_MAX_MESSAGE_BYTES });
    server.addService(AdminDefinition, this.#handlers() as unknown as UntypedServiceImplementation);
    try {
      await new Promise<number>((resolve, reject) => server.bindAsync(`unix:${path}`, ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))));
    } catch (error) {
      server.forceShutdown();
      if ((error as Error).message?.includes('EADDRINUSE')) throw new AdminSocketError(path, `another process took the admin socket ${path} while rollcall was starting`, { cause: error });
      throw error;
    }
    this.#server = server;
    await chmod(path, 0o660);
    this.#inode = (await lstat(path)).ino;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    logger.info({ socket: path }, `admin API listening on ${path}`);
  }

  /** Removes a socket file nothing answers on; refuses a live socket or a file that is not a socket. */
  async #clearStale(path: string): Promise<void> {
    let stats;
    try {
      stats = await lstat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (!stats.isSocket()) {
      throw new AdminSocketError(path, `${path} exists and is not a socket; rollcall will not replace it (remove it, or set admin.socket to another path)`);
    }
    if (await answers(path)) {
      throw new AdminSocketError(path, `another rollcall daemon answers on the admin socket ${path}; stop it first, or give this one its own admin.socket`);
    }
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    this.#o.logger.info({ socket: path }, `removed a stale admin socket at ${path} (nothing answered on it)`);
  }

  /** Uploads and downloads left by a daemon that was killed mid-call. */
  async #clearStaging(): Promise<void> {
    const dir = this.#o.backend.stagingDir;
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      if (name.startsWith('import-') || name.startsWith('export-')) await rm(join(dir, name), { recursive: true, force: true });
    }
  }

  /** Closes the server and removes the socket. Idempotent: a second call waits for the first. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.#stopping.abort(new Error('the daemon is stopping'));
    const graceMs = this.#o.shutdownGraceMs ?? 2000;
    await new Promise<void>((resolve) => {
      const hard = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(hard);
        resolve();
      });
    });
    const path = this.#o.socketPath;
    try {
      const stats = await lstat(path);
      if (stats.isSocket() && stats.ino === this.#inode) await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.#o.logger.warn({ err: error, socket: path }, 'could not remove the admin socket');
    }
    this.#o.logger.info({ socket: path }, 'admin API closed');
  }

  // ---------------------------------------------------------------------------
  // gRPC glue

  #count(method: string, code: number): void {
    this.#requests?.inc({ method, code: status[code] ?? String(code) });
  }

  /** The status a failed call ends with; refusals keep their message, surprises are logged. */
  #statusOf(method: string, error: unknown): Partial<StatusObject> {
    if (this.#stopping.signal.aborted && !(error instanceof AdminRequestError)) {
      return { code: status.UNAVAILABLE, details: 'the daemon is stopping', metadata: new Metadata() };
    }
    const code = grpcCodeOf(error);
    const metadata = new Metadata();
    // grpc-js percent-encodes the details and throws (unanswered call) on a lone surrogate,
    // which a hostile request can put into a message by way of a user ID.
    const message = (error instanceof Error ? error.message : String(error)).toWellFormed();
    if (isRollcallError(error)) metadata.set(ERROR_CODE_TRAILER, error.code);
    const issues: RequestIssue[] | undefined =
      error instanceof AdminRequestError ? error.issues : isRollcallError(error, 'ROLLCALL_ERR_USER_INVALID') ? ((error.detail?.issues as RequestIssue[] | undefined) ?? undefined) : undefined;
    if (issues && issues.length > 0) metadata.set(ISSUES_TRAILER, Buffer.from(JSON.stringify(issues.slice(0, MAX_TRAILER_ISSUES))));
    if (code === status.INTERNAL) {
      this.#o.logger.error({ err: error, method }, `admin ${method} failed: ${message}`);
    } else {
      this.#o.logger.info({ method, code: status[code], fields: issues?.map((i) => i.field) }, `admin ${method} refused: ${message.slice(0, 300)}`);
    }
    return { code, details: message.length > MAX_DETAILS_CHARS ? `${message.slice(0, MAX_DETAILS_CHARS)}…` : message, metadata };
  }

  #unary<Req, Res>(method: string, run: (request: Req, caller: Caller) => Promise<Res> | Res): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const caller = { operator: operatorOf(call.metadata) };
      Promise.resolve()
        .then(() => run(call.request, caller))
        .then(
          (response) => {
            this.#count(method, status.OK);
            callback(null, response);
          },
          (error: unknown) => {
            const failure = this.#statusOf(method, error);
            this.#count(method, failure.code ?? status.UNKNOWN);
            callback(failure as ServerErrorResponse);
          },
        );
    };
  }

  /** A signal that fires when the client cancels or the server stops. */
  #callSignal(call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): AbortSignal {
    const controller = new AbortController();
    const cancel = (): void => controller.abort(new Error('cancelled by the client'));
    call.once('cancelled', cancel);
    if (call.cancelled) cancel();
    return AbortSignal.any([controller.signal, this.#stopping.signal]);
  }

  #emitter<T>(call: ServerWritableStream<unknown, T> | ServerDuplexStream<unknown, T>, signal: AbortSignal): Emit<T> {
    return async (message: T) => {
      signal.throwIfAborted();
      if (!call.write(message)) await once(call, 'drain', { signal });
    };
  }

  #finish(method: string, call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>, work: Promise<void>, signal: AbortSignal): void {
    work.then(
      () => {
        if (call.cancelled) return;
        if (this.#stopping.signal.aborted) {
          // A follow (or a long call) cut short by a stop: say so, rather than a normal end.
          this.#count(method, status.UNAVAILABLE);
          call.emit('error', { code: status.UNAVAILABLE, details: 'the daemon is stopping', metadata: new Metadata() });
          return;
        }
        this.#count(method, status.OK);
        call.end();
      },
      (error: unknown) => {
        if (call.cancelled || (signal.aborted && !this.#stopping.signal.aborted)) {
          this.#count(method, status.CANCELLED);
          return;
        }
        const failure = this.#statusOf(method, error);
        this.#count(method, failure.code ?? status.UNKNOWN);
        call.emit('error', failure);
      },
    );
  }

  #serverStream<Req, Res>(method: string, run: (request: Req, emit: Emit<Res>, signal: AbortSignal, caller: Caller) => Promise<void>): handleServerStreamingCall<Req, Res> {
    return (call) => {
      const signal = this.#callSignal(call);
      const caller = { operator: operatorOf(call.metadata) };
      const work = Promise.resolve().then(() => run(call.request, this.#emitter(call, signal), signal, caller));
      this.#finish(method, call, work, signal);
    };
  }

  #handlers(): AdminHandlers {
    const service = this.#service!;
    return {
      status: this.#unary('Status', () => service.status.status()),
      listDevices: this.#unary('ListDevices', () => service.status.listDevices()),
      sync: this.#serverStream('Sync', (request, emit) => service.sync.sync(request, emit)),
      verify: this.#serverStream('Verify', (request, emit) => service.sync.verify(request, emit)),
      plan: this.#unary('Plan', (request) => service.sync.plan(request)),
      confirm: this.#unary('Confirm', (request) => service.sync.confirm(request)),
      listUsers: this.#unary('ListUsers', (request) => service.users.listUsers(request)),
      getUser: this.#unary('GetUser', (request) => service.users.getUser(request)),
      setUser: this.#unary('SetUser', (request, caller) => service.users.setUser(request, caller)),
      deleteUser: this.#unary('DeleteUser', (request, caller) => service.users.deleteUser(request, caller)),
      import: this.#importHandler(service),
      export: this.#serverStream('Export', (request, emit, signal) => service.files.export(request, emit, signal)),
      events: this.#unary('Events', (request) => service.events.events(request)),
      followEvents: this.#serverStream('FollowEvents', (request, emit, signal) => service.events.followEvents(request, emit, signal)),
      setLogLevel: this.#unary('SetLogLevel', (request, caller) => service.status.setLogLevel(request, caller)),
    };
  }

  /** Import: the first message names the file, the rest are its bytes, until the client half-closes. */
  #importHandler(service: AdminService): handleBidiStreamingCall<ImportRequest, ImportUpdate> {
    return (call) => {
      const signal = this.#callSignal(call);
      // Not call[Symbol.asyncIterator]: at the end of the upload it would destroy the call,
      // and with it the way back for progress and the report.
      const messages = (call.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<ImportRequest>);
      const work = (async () => {
        const first = await messages.next();
        if (first.done || first.value.part?.$case !== 'start') throw invalidField('start', 'required', 'the first Import message must be start (the file name and size)');
        const start: ImportStart = first.value.part.value;
        async function* chunks(): AsyncGenerator<Buffer> {
          for (;;) {
            const next = await messages.next();
            if (next.done) return;
            if (next.value.part?.$case !== 'chunk') throw invalidField('chunk', 'required', 'after start, Import messages carry the file\'s bytes (chunk)');
            yield next.value.part.value;
          }
        }
        await service.files.import(start, chunks(), this.#emitter(call, signal), signal);
      })();
      this.#finish('Import', call, work, signal);
    };
  }
}
