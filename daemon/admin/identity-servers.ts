/**
 * Callers are known by the kernel, not by what they say: each accepted connection's peer
 * credentials are read (peer-credentials.ts), and the connection is then handed to a gRPC
 * server made for that identity (grpc-js's connection injector) whose handlers know who is
 * calling. One server per identity, made on its first connection, all shut down together.
 */
import type { Socket } from 'node:net';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AdminService as AdminDefinition, type AdminServer as AdminHandlers } from '../../proto/gen/rollcall/admin/v1/admin.js';
import { DEFAULT_ADMIN_MAX_MESSAGE_BYTES } from '../config/schema.js';
import { peerIdentity, type PeerIdentity } from './peer-credentials.js';
import { roleOf, type AccessPolicy, type AdminRole } from './access.js';

/** Connections whose identity is being read at once; more are refused until one is done. */
const MAX_PENDING_IDENTITIES = 32;

/** One gRPC server per caller identity: its handlers know who calls. */
interface IdentityServer {
  server: Server;
  inject: (connection: Socket) => void;
}

export interface IdentityServersOptions {
  policy: AccessPolicy;
  /** The handlers of a connection from `identity`, whose role is `role`. */
  handlersFor: (identity: PeerIdentity, role: AdminRole) => AdminHandlers;
  logger: Logger;
  /** Fires when the admin API stops: connections that arrive or finish their identity after it are dropped. */
  stopping: AbortSignal;
  /** Largest request accepted (default 4 MiB). */
  maxMessageBytes?: number;
  /** The program that reads SO_PEERCRED (default `perl` on the PATH). */
  perl?: string;
}

export class IdentityServers {
  readonly #o: IdentityServersOptions;
  #servers = new Map<string, IdentityServer>();
  #connections = new Set<Socket>();
  #pendingIdentities = 0;

  constructor(options: IdentityServersOptions) {
    this.#o = options;
  }

  /** Reads who connected, then hands the connection to that identity's gRPC server. */
  accept(socket: Socket): void {
    if (this.#o.stopping.aborted || this.#pendingIdentities >= MAX_PENDING_IDENTITIES) {
      socket.destroy();
      return;
    }
    this.#connections.add(socket);
    socket.once('close', () => this.#connections.delete(socket));
    socket.on('error', () => undefined);
    this.#pendingIdentities++;
    void peerIdentity(socket, this.#o.perl)
      .then((identity) => {
        if (this.#o.stopping.aborted || socket.destroyed) {
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
      server.addService(AdminDefinition, this.#o.handlersFor(identity, roleOf(identity, this.#o.policy)) as unknown as UntypedServiceImplementation);
      const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
      entry = { server, inject: (connection) => injector.injectConnection(connection) };
      this.#servers.set(key, entry);
      const who = identity.verified ? `${identity.user} (uid ${identity.uid}, pid ${identity.pid})` : 'a caller whose credentials could not be read';
      this.#o.logger.info({ uid: identity.uid, user: identity.user, verified: identity.verified, role: roleOf(identity, this.#o.policy) }, `admin API: first connection from ${who}`);
    }
    return entry;
  }

  /**
   * Lets the calls under way finish for `graceMs`, then cuts them; then drops the
   * connections still waiting for their identity or kept by a client that never spoke.
   */
  async close(graceMs: number): Promise<void> {
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
    for (const socket of this.#connections) socket.destroy();
  }
}
