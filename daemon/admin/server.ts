/**
 * The admin API (rollcall.admin.v1.Admin) on a unix socket. This file owns the socket's
 * life (a stale file is cleared, a live one is never taken over, mode 0660, removed on stop)
 * and the gRPC glue: every handler runs the service inside one guard that turns a refusal
 * into a clear status and any other throw into INTERNAL, so no request can take the daemon
 * down. Requests are never logged: they may carry PINs and credentials.
 *
 * Callers are known by the kernel, not by what they say: the socket is a plain net.Server,
 * each accepted connection's peer credentials are read (peer-credentials.ts), and the
 * connection is then handed to a gRPC server made for that identity (grpc-js's connection
 * injector) whose handlers know who is calling. A call gives its method's access check
 * (access.ts) and the caller's uid and name to the service; the `rollcall-operator`
 * metadata is kept only as a claimed label beside them.
 */
import { once } from 'node:events';
import { chmod, chown, lstat, mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server as NetServer, type Socket } from 'node:net';
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
import { peerIdentity, type PeerIdentity } from './peer-credentials.js';
import { describePolicy, isChangeMethod, refusalOf, resolveAccessPolicy, roleOf, type AccessGroups, type AccessPolicy, type AdminRole } from './access.js';
import { ADMIN_FORBIDDEN_ERROR, AdminForbiddenError } from './request-error.js';

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
  /** The readers' and operators' groups (default rollcall and rollcall-admin). */
  access?: AccessGroups;
  /** The program that reads SO_PEERCRED (default `perl` on the PATH); tests point it elsewhere. */
  perl?: string;
}

export const DEFAULT_ACCESS_GROUPS: AccessGroups = { readersGroup: 'rollcall', operatorsGroup: 'rollcall-admin' };

/** Connections whose identity is being read at once; more are refused until one is done. */
const MAX_PENDING_IDENTITIES = 32;

/** One gRPC server per caller identity: its handlers know who calls. */
interface IdentityServer {
  server: Server;
  inject: (connection: Socket) => void;
}

const MAX_TRAILER_ISSUES = 50;

/** The access check and caller of one call: throws AdminForbiddenError when the method is not allowed. */
type CallerOf = (method: string, metadata: Metadata) => Caller;
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

function claimedNameOf(metadata: Metadata): string | undefined {
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
  if (error instanceof AdminForbiddenError) return status.PERMISSION_DENIED;
  if (isRollcallError(error, 'ROLLCALL_ERR_STORE_CLOSED')) return status.FAILED_PRECONDITION;
  return status.INTERNAL;
}

export class AdminServer {
  readonly #o: AdminServerOptions;
  #server: NetServer | undefined;
  #servers = new Map<string, IdentityServer>();
  #connections = new Set<Socket>();
  #pendingIdentities = 0;
  #policy: AccessPolicy | undefined;
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
    const policy = (this.#policy = await resolveAccessPolicy(this.#o.access ?? DEFAULT_ACCESS_GROUPS));
    // Not pauseOnConnect: grpc-js's HTTP/2 session then never reads. Bytes that arrive while
    // the identity is read wait in the socket's buffer, where the session finds them.
    const server = createServer((socket) => this.#accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      server.close();
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new AdminSocketError(path, `another process took the admin socket ${path} while rollcall was starting`, { cause: error });
      throw error;
    }
    server.on('error', (error) => logger.error({ err: error, socket: path }, 'admin socket error'));
    if (signal.aborted || this.#stopped !== undefined) {
      // The daemon began stopping while the socket was being bound: stop() found nothing
      // to close, so close it here, or it would keep the process alive.
      server.close();
      await unlink(path).catch(() => undefined);
      throw new AdminSocketError(path, 'the admin API was stopped while it was starting');
    }
    this.#server = server;
    await chmod(path, 0o660);
    // The socket's group is the readers' group, so the kernel lets exactly them connect.
    if (policy.readersGid !== undefined) {
      await chown(path, -1, policy.readersGid).catch((error: NodeJS.ErrnoException) =>
        logger.warn({ socket: path, group: policy.readersGroup, err: error }, `could not give the admin socket to group ${policy.readersGroup} (${error.code}); it keeps the daemon's group`),
      );
    }
    this.#inode = (await lstat(path)).ino;
    logger.info({ socket: path }, `admin access: ${describePolicy(policy)}`);
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    logger.info({ socket: path }, `admin API listening on ${path}`);
  }

  /** Reads who connected, then hands the connection to that identity's gRPC server. */
  #accept(socket: Socket): void {
    if (this.#stopping.signal.aborted || this.#pendingIdentities >= MAX_PENDING_IDENTITIES) {
      socket.destroy();
      return;
    }
    this.#connections.add(socket);
    socket.once('close', () => this.#connections.delete(socket));
    socket.on('error', () => undefined);
    this.#pendingIdentities++;
    void peerIdentity(socket, this.#o.perl)
      .then((identity) => {
        if (this.#stopping.signal.aborted || socket.destroyed) {
          socket.destroy();
          return;
        }
        this.#serverFor(identity).inject(socket);
      })
      .catch((error: unknown) => {
        this.#o.logger.error({ err: error }, 'admin connection dropped: its identity could not be read');
        socket.destroy();
      })
      .finally(() => this.#pendingIdentities--);
  }

  #serverFor(identity: PeerIdentity): IdentityServer {
    const key = identity.verified ? `${identity.uid}:${identity.user}:${(identity.groups ?? []).join(',')}` : 'unverified';
    let entry = this.#servers.get(key);
    if (!entry) {
      const server = new Server({ 'grpc.max_receive_message_length': this.#o.maxMessageBytes ?? DEFAULT_ADMIN_MAX_MESSAGE_BYTES });
      server.addService(AdminDefinition, this.#handlers(identity, roleOf(identity, this.#policy!)) as unknown as UntypedServiceImplementation);
      const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
      entry = { server, inject: (connection) => injector.injectConnection(connection) };
      this.#servers.set(key, entry);
      const who = identity.verified ? `${identity.user} (uid ${identity.uid}, pid ${identity.pid})` : 'a caller whose credentials could not be read';
      this.#o.logger.info({ uid: identity.uid, user: identity.user, verified: identity.verified, role: roleOf(identity, this.#policy!) }, `admin API: first connection from ${who}`);
    }
    return entry;
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
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const servers = [...this.#servers.values()].map((entry) => entry.server);
    this.#servers.clear();
    await new Promise<void>((resolve) => {
      let left = servers.length;
      const hard = setTimeout(() => {
        for (const s of servers) s.forceShutdown();
        resolve();
      }, graceMs);
      if (left === 0) {
        clearTimeout(hard);
        resolve();
      }
      for (const s of servers) {
        s.tryShutdown(() => {
          if (--left === 0) {
            clearTimeout(hard);
            resolve();
          }
        });
      }
    });
    // Connections still waiting for their identity, or kept by a client that never spoke.
    for (const socket of this.#connections) socket.destroy();
    await closed;
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

  #unary<Req, Res>(method: string, callerOf: CallerOf, run: (request: Req, caller: Caller) => Promise<Res> | Res): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => run(call.request, callerOf(method, call.metadata)))
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

  #serverStream<Req, Res>(method: string, callerOf: CallerOf, run: (request: Req, emit: Emit<Res>, signal: AbortSignal, caller: Caller) => Promise<void>): handleServerStreamingCall<Req, Res> {
    return (call) => {
      const signal = this.#callSignal(call);
      const work = Promise.resolve().then(() => run(call.request, this.#emitter(call, signal), signal, callerOf(method, call.metadata)));
      this.#finish(method, call, work, signal);
    };
  }

  /**
   * The access check and the caller of every call on a connection from `identity`: a
   * method the role may not call throws PERMISSION_DENIED before the service sees it; a
   * change is logged with the kernel's uid and name (and the claimed name beside them).
   */
  #callerOf(identity: PeerIdentity, role: AdminRole): CallerOf {
    return (method, metadata) => {
      const claimed = claimedNameOf(metadata);
      const refusal = refusalOf(method, role, identity, this.#policy!);
      const who = { uid: identity.uid, user: identity.user, verified: identity.verified, claimedBy: claimed, method };
      if (refusal) {
        this.#o.logger.warn({ ...who, code: ADMIN_FORBIDDEN_ERROR }, `admin ${method} refused: ${refusal}`);
        throw new AdminForbiddenError(refusal);
      }
      if (isChangeMethod(method)) this.#o.logger.info(who, `admin ${method} by ${identity.user ?? 'an unverified caller'} (uid ${identity.uid ?? '?'})${claimed ? `, claiming to be ${claimed}` : ''}`);
      return { ...(identity.uid === undefined ? {} : { uid: identity.uid }), ...(identity.user === undefined ? {} : { user: identity.user }), ...(claimed === undefined ? {} : { claimed }) };
    };
  }

  #handlers(identity: PeerIdentity, role: AdminRole): AdminHandlers {
    const service = this.#service!;
    const c = this.#callerOf(identity, role);
    return {
      status: this.#unary('Status', c, () => service.status.status()),
      listDevices: this.#unary('ListDevices', c, () => service.status.listDevices()),
      sync: this.#serverStream('Sync', c, (request, emit) => service.sync.sync(request, emit)),
      verify: this.#serverStream('Verify', c, (request, emit) => service.sync.verify(request, emit)),
      plan: this.#unary('Plan', c, (request) => service.sync.plan(request)),
      confirm: this.#unary('Confirm', c, (request) => service.sync.confirm(request)),
      listUsers: this.#unary('ListUsers', c, (request) => service.users.listUsers(request)),
      getUser: this.#unary('GetUser', c, (request) => service.users.getUser(request)),
      setUser: this.#unary('SetUser', c, (request, caller) => service.users.setUser(request, caller)),
      deleteUser: this.#unary('DeleteUser', c, (request, caller) => service.users.deleteUser(request, caller)),
      import: this.#importHandler(service, c),
      export: this.#serverStream('Export', c, (request, emit, signal) => service.files.export(request, emit, signal)),
      events: this.#unary('Events', c, (request) => service.events.events(request)),
      followEvents: this.#serverStream('FollowEvents', c, (request, emit, signal) => service.events.followEvents(request, emit, signal)),
      setLogLevel: this.#unary('SetLogLevel', c, (request, caller) => service.status.setLogLevel(request, caller)),
    };
  }

  /** Import: the first message names the file, the rest are its bytes, until the client half-closes. */
  #importHandler(service: AdminService, callerOf: CallerOf): handleBidiStreamingCall<ImportRequest, ImportUpdate> {
    return (call) => {
      const signal = this.#callSignal(call);
      let allowed: unknown;
      try {
        callerOf('Import', call.metadata);
      } catch (error) {
        allowed = error;
      }
      // Not call[Symbol.asyncIterator]: at the end of the upload it would destroy the call,
      // and with it the way back for progress and the report.
      const messages = (call.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<ImportRequest>);
      const work = (async () => {
        if (allowed !== undefined) throw allowed;
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
