/**
 * The one adapter over the generated Admin client (STYLE §10): promises, deadlines,
 * cancellation, and errors turned into what the CLI reports (a daemon that is not there, a
 * refusal with its field-named issues, a failure).
 */
import { once } from 'node:events';
import { access, lstat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { userInfo } from 'node:os';
import {
  Metadata,
  credentials,
  status,
  type CallOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { AdminClient, type ImportRequest, type ImportUpdate } from '../../proto/gen/rollcall/admin/v1/admin.js';
import type { RequestIssue } from './request-error.js';
import { ERROR_CODE_TRAILER, ISSUES_TRAILER, OPERATOR_METADATA } from './wire.js';

/** Ordinary calls; long ones (sync, verify, import, export, follow) have none. */
export const CALL_DEADLINE_MS = 30_000;
/** Responses can be large (a page of 10,000 users); requests are bounded by the daemon. */
const CLIENT_MAX_RECEIVE_BYTES = 256 * 1024 * 1024;

/** No daemon at the socket: not running, or another path. */
export class DaemonUnavailable extends Error {
  readonly socketPath: string;
  constructor(socketPath: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DaemonUnavailable';
    this.socketPath = socketPath;
  }
}

/** The socket is there but this user may not use it. */
export class SocketPermissionDenied extends Error {
  readonly socketPath: string;
  constructor(socketPath: string, message: string) {
    super(message);
    this.name = 'SocketPermissionDenied';
    this.socketPath = socketPath;
  }
}

/** The daemon answered with an error status. */
export class AdminCallError extends Error {
  readonly method: string;
  readonly grpcCode: number;
  readonly grpcCodeName: string;
  /** The ROLLCALL_ERR_* code, when the daemon sent one. */
  readonly errorCode: string | undefined;
  readonly issues: RequestIssue[];

  constructor(method: string, error: ServiceError) {
    super(error.details || error.message);
    this.name = 'AdminCallError';
    this.method = method;
    this.grpcCode = error.code;
    this.grpcCodeName = status[error.code] ?? String(error.code);
    const trailers = error.metadata;
    const code = trailers?.get(ERROR_CODE_TRAILER)[0];
    this.errorCode = typeof code === 'string' ? code : undefined;
    this.issues = [];
    const raw = trailers?.get(ISSUES_TRAILER)[0];
    if (Buffer.isBuffer(raw)) {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (Array.isArray(parsed)) this.issues = parsed as RequestIssue[];
      } catch {
        // A trailer that does not parse leaves the message, which has the issues too.
      }
    }
  }
}

/** A server stream to iterate; cancel() ends it (the iteration then stops without an error). */
export interface AdminStream<T> extends AsyncIterable<T> {
  cancel(): void;
}

type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (error: ServiceError | null, response: Res) => void) => ClientUnaryCall;
type StreamMethod<Req, Res> = (request: Req, metadata?: Metadata, options?: Partial<CallOptions>) => ClientReadableStream<Res>;

export class AdminConnection {
  readonly socketPath: string;
  readonly #client: AdminClient;
  readonly #operator: string | undefined;

  private constructor(socketPath: string, client: AdminClient, operator: string | undefined) {
    this.socketPath = socketPath;
    this.#client = client;
    this.#operator = operator;
  }

  /** Checks the socket (so a missing daemon is said plainly), then connects. */
  static async open(socketPath: string): Promise<AdminConnection> {
    let stats;
    try {
      stats = await lstat(socketPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new DaemonUnavailable(socketPath, `the daemon is not running: there is no admin socket at ${socketPath} (start it, or point to its socket with --socket or --config)`);
      if (code === 'EACCES') throw new SocketPermissionDenied(socketPath, `permission denied on ${socketPath}: run as the daemon's user or a member of its group`);
      throw error;
    }
    if (!stats.isSocket()) throw new DaemonUnavailable(socketPath, `${socketPath} is not a socket: is it the right path?`);
    try {
      await access(socketPath, constants.R_OK | constants.W_OK);
    } catch {
      throw new SocketPermissionDenied(socketPath, `permission denied on ${socketPath}: run as the daemon's user or a member of its group (the socket is mode 0660)`);
    }
    const client = new AdminClient(`unix:${socketPath}`, credentials.createInsecure(), {
      'grpc.max_receive_message_length': CLIENT_MAX_RECEIVE_BYTES,
      'grpc.max_send_message_length': -1,
    });
    let operator: string | undefined;
    try {
      operator = userInfo().username;
    } catch {
      operator = undefined;
    }
    return new AdminConnection(socketPath, client, operator);
  }

  close(): void {
    this.#client.close();
  }

  #metadata(): Metadata {
    const metadata = new Metadata();
    if (this.#operator) metadata.set(OPERATOR_METADATA, this.#operator.replace(/[^\x20-\x7e]/g, '?').slice(0, 64));
    return metadata;
  }

  /** What a failed call means for the operator. */
  #error(method: string, error: ServiceError): Error {
    if (error.code === status.UNAVAILABLE) {
      return new DaemonUnavailable(this.socketPath, `the daemon is not answering on ${this.socketPath} (${error.details || 'unavailable'}); is it running?`, { cause: error });
    }
    return new AdminCallError(method, error);
  }

  unary<Req, Res>(method: string, fn: UnaryMethod<Req, Res>, request: Req, options: { deadlineMs?: number | null } = {}): Promise<Res> {
    const deadlineMs = options.deadlineMs === undefined ? CALL_DEADLINE_MS : options.deadlineMs;
    const callOptions: Partial<CallOptions> = deadlineMs === null ? {} : { deadline: new Date(Date.now() + deadlineMs) };
    return new Promise((resolve, reject) => {
      fn.call(this.#client, request, this.#metadata(), callOptions, (error, response) => (error ? reject(this.#error(method, error)) : resolve(response)));
    });
  }

  /** A server stream without a deadline. */
  stream<Req, Res>(method: string, fn: StreamMethod<Req, Res>, request: Req): AdminStream<Res> {
    const call = fn.call(this.#client, request, this.#metadata(), {});
    let cancelled = false;
    const self = this;
    return {
      cancel() {
        cancelled = true;
        call.cancel();
      },
      async *[Symbol.asyncIterator]() {
        try {
          for await (const message of call as AsyncIterable<Res>) yield message;
        } catch (error) {
          if (cancelled && (error as ServiceError).code === status.CANCELLED) return;
          throw self.#error(method, error as ServiceError);
        }
      },
    };
  }

  get client(): AdminClient {
    return this.#client;
  }

  /**
   * Uploads `chunks` (after the start message) and yields the daemon's updates. Writes wait
   * for the socket to drain, so a large file never sits in memory.
   */
  importStream(start: { name: string; size: number }, chunks: AsyncIterable<Buffer>): AdminStream<ImportUpdate> {
    const call = this.#client.import(this.#metadata(), {});
    let cancelled = false;
    let uploadError: unknown;
    const self = this;
    const upload = (async () => {
      const write = async (message: ImportRequest): Promise<void> => {
        if (!call.write(message)) await once(call, 'drain');
      };
      await write({ part: { $case: 'start', value: start } });
      for await (const chunk of chunks) {
        if (cancelled) return;
        await write({ part: { $case: 'chunk', value: chunk } });
      }
      call.end();
    })();
    // A file that cannot be read ends the call; the read error is what gets reported.
    upload.catch((error: unknown) => {
      uploadError = error;
      call.cancel();
    });
    return {
      cancel() {
        cancelled = true;
        call.cancel();
      },
      async *[Symbol.asyncIterator]() {
        try {
          for await (const message of call as AsyncIterable<ImportUpdate>) yield message;
          await upload;
        } catch (error) {
          if (uploadError !== undefined) throw uploadError;
          if (cancelled && (error as ServiceError).code === status.CANCELLED) return;
          if (typeof (error as ServiceError).code === 'number' && (error as ServiceError).metadata !== undefined) throw self.#error('Import', error as ServiceError);
          throw error;
        }
      },
    };
  }
}
