/**
 * What every admin request handler is given: the daemon's parts, each looked up at the time
 * of the request (a part that is not running refuses it: FAILED_PRECONDITION), the logger,
 * the clock, and the types shared by the handlers (who asked, how a stream emits).
 */
import type { Logger } from 'pino';
import { DEFAULT_ADMIN_MAX_UPLOAD_BYTES } from '../../config/schema.js';
import type { Store } from '../../plugins/api.js';
import type { AdminBackend, AdminDropFolder, AdminEngine } from '../backend.js';
import { notRunning } from '../request-error.js';

export type Emit<T> = (message: T) => Promise<void>;

export interface AdminServiceOptions {
  backend: AdminBackend;
  logger: Logger;
  /** How often FollowEvents looks for new events. */
  followPollMs?: number;
  /** Largest file an Import may upload (default admin.maxUploadBytes's, 1 GiB). */
  maxUploadBytes?: number;
  now?: () => number;
}

/**
 * Who asked. `uid` and `user` are the kernel's (SO_PEERCRED, daemon/admin/peer-credentials.ts);
 * `claimed` is the name the client put in its metadata, kept as a label beside them, never
 * as the identity.
 */
export interface Caller {
  uid?: number;
  user?: string;
  claimed?: string;
}

/** What an event's detail and a log line record of the caller. */
export function callerDetail(caller: Caller): { by?: string; uid?: number; claimedBy?: string } {
  return {
    ...(caller.user === undefined ? {} : { by: caller.user }),
    ...(caller.uid === undefined ? {} : { uid: caller.uid }),
    ...(caller.claimed === undefined ? {} : { claimedBy: caller.claimed }),
  };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RequestContext {
  readonly #o: AdminServiceOptions;

  constructor(options: AdminServiceOptions) {
    this.#o = options;
  }

  get backend(): AdminBackend {
    return this.#o.backend;
  }

  get logger(): Logger {
    return this.#o.logger;
  }

  get followPollMs(): number {
    return this.#o.followPollMs ?? 500;
  }

  get maxUploadBytes(): number {
    return this.#o.maxUploadBytes ?? DEFAULT_ADMIN_MAX_UPLOAD_BYTES;
  }

  now(): number {
    return (this.#o.now ?? Date.now)();
  }

  store(): Store {
    const store = this.backend.store;
    if (!store) throw notRunning('the store is not open (the daemon is starting or stopping)');
    return store;
  }

  engine(): AdminEngine {
    const engine = this.backend.engine;
    if (!engine) throw notRunning('sync is not running: the transport or the sync mode failed to start (see `rollcall status`)');
    return engine;
  }

  dropFolder(): AdminDropFolder {
    const folder = this.backend.dropFolder;
    if (!folder) throw notRunning('the drop folder is not running (no watcher is enabled, or it failed; see `rollcall status`)');
    return folder;
  }
}
