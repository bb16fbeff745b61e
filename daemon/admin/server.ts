/**
 * The admin API (rollcall.admin.v1.Admin) on a unix socket: this file starts and stops it.
 * The socket file's life is socket-file.ts; the per-caller gRPC servers, made once the
 * kernel has said who connected, are identity-servers.ts; the handlers and the guard that
 * turns every throw into a status are handlers.ts. Requests are never logged: they may
 * carry PINs and credentials.
 *
 * The socket is a plain net.Server; each accepted connection goes to IdentityServers, which
 * reads its peer credentials and injects it into the gRPC server of that identity.
 */
import { readdir, rm, unlink } from 'node:fs/promises';
import { createServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Metrics } from '../obs/metrics.js';
import type { AdminBackend } from './backend.js';
import { AdminService } from './service.js';
import { describePolicy, resolveAccessPolicy, type AccessGroups } from './access.js';
import { AdminCalls } from './handlers.js';
import { IdentityServers } from './identity-servers.js';
import { AdminSocketError, listenOnSocket, prepareSocketPath, removeSocket, secureSocket } from './socket-file.js';

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

export class AdminServer {
  readonly #o: AdminServerOptions;
  #server: NetServer | undefined;
  #callers: IdentityServers | undefined;
  /** Fires when the server stops: ends follows and long calls. */
  #stopping = new AbortController();
  /** The inode of the socket this server bound, so stop() never removes another's socket. */
  #inode: number | undefined;
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
    await prepareSocketPath(path, logger);
    await this.#clearStaging();
    signal.throwIfAborted();

    const requests = this.#o.metrics?.counter({
      name: 'rollcall_admin_requests_total',
      help: 'Admin API requests by method and gRPC status code name.',
      labelNames: ['method', 'code'],
    });
    const service = new AdminService({
      backend: this.#o.backend,
      logger: logger,
      ...(this.#o.followPollMs !== undefined ? { followPollMs: this.#o.followPollMs } : {}),
      ...(this.#o.maxUploadBytes !== undefined ? { maxUploadBytes: this.#o.maxUploadBytes } : {}),
    });
    const policy = await resolveAccessPolicy(this.#o.access ?? DEFAULT_ACCESS_GROUPS);
    const calls = new AdminCalls({ service, policy, logger, stopping: this.#stopping.signal, requests });
    const callers = (this.#callers = new IdentityServers({
      policy,
      handlersFor: (identity, role) => calls.handlersFor(identity, role),
      logger,
      stopping: this.#stopping.signal,
      maxMessageBytes: this.#o.maxMessageBytes,
      perl: this.#o.perl,
    }));
    // Not pauseOnConnect: grpc-js's HTTP/2 session then never reads. Bytes that arrive while
    // the identity is read wait in the socket's buffer, where the session finds them.
    const server = createServer((socket) => callers.accept(socket));
    await listenOnSocket(server, path);
    server.on('error', (error) => logger.error({ err: error, socket: path }, 'admin socket error'));
    if (signal.aborted || this.#stopped !== undefined) {
      // The daemon began stopping while the socket was being bound: stop() found nothing
      // to close, so close it here, or it would keep the process alive.
      server.close();
      await unlink(path).catch(() => undefined);
      throw new AdminSocketError(path, 'the admin API was stopped while it was starting');
    }
    this.#server = server;
    this.#inode = await secureSocket(path, policy, logger);
    logger.info({ socket: path }, `admin access: ${describePolicy(policy)}`);
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    logger.info({ socket: path }, `admin API listening on ${path}`);
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
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await this.#callers?.close(this.#o.shutdownGraceMs ?? 2000);
    await closed;
    const path = this.#o.socketPath;
    await removeSocket(path, this.#inode, this.#o.logger);
    this.#o.logger.info({ socket: path }, 'admin API closed');
  }
}
