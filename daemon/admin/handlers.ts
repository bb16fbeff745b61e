/**
 * The gRPC glue of the admin API: every handler runs the service inside one guard that
 * turns a refusal into a clear status and any other throw into INTERNAL, so no request can
 * take the daemon down. A call gives its method's access check (access.ts) and the caller's
 * uid and name to the service; the `rollcall-operator` metadata is kept only as a claimed
 * label beside them. Requests are never logged: they may carry PINs and credentials.
 */
import { once } from 'node:events';
import {
  Metadata,
  status,
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerWritableStream,
  type StatusObject,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { isRollcallError } from '../errors.js';
import type { AdminServer as AdminHandlers, ImportRequest, ImportStart, ImportUpdate } from '../../proto/gen/rollcall/admin/v1/admin.js';
import { AdminRequestError, invalidField, type RequestIssue } from './request-error.js';
import type { AdminService, Caller, Emit } from './service.js';
import { ERROR_CODE_TRAILER, ISSUES_TRAILER, OPERATOR_METADATA } from './wire.js';
import type { PeerIdentity } from './peer-credentials.js';
import { isChangeMethod, refusalOf, type AccessPolicy, type AdminRole } from './access.js';
import { ADMIN_FORBIDDEN_ERROR, AdminForbiddenError } from './request-error.js';

const MAX_TRAILER_ISSUES = 50;

/** The access check and caller of one call: throws AdminForbiddenError when the method is not allowed. */
type CallerOf = (method: string, metadata: Metadata) => Caller;
const MAX_DETAILS_CHARS = 2000;

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

export interface AdminCallsOptions {
  service: AdminService;
  policy: AccessPolicy;
  logger: Logger;
  /** Fires when the admin API stops: ends follows and long calls, and failures become UNAVAILABLE. */
  stopping: AbortSignal;
  /** rollcall_admin_requests_total, when metrics are on. */
  requests?: Counter<'method' | 'code'> | undefined;
}

/** Makes the handlers of the Admin service for one caller identity. */
export class AdminCalls {
  readonly #o: AdminCallsOptions;

  constructor(options: AdminCallsOptions) {
    this.#o = options;
  }

  #count(method: string, code: number): void {
    this.#o.requests?.inc({ method, code: status[code] ?? String(code) });
  }

  /** The status a failed call ends with; refusals keep their message, surprises are logged. */
  #statusOf(method: string, error: unknown): Partial<StatusObject> {
    if (this.#o.stopping.aborted && !(error instanceof AdminRequestError)) {
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
    return AbortSignal.any([controller.signal, this.#o.stopping]);
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
        if (this.#o.stopping.aborted) {
          // A follow (or a long call) cut short by a stop: say so, rather than a normal end.
          this.#count(method, status.UNAVAILABLE);
          call.emit('error', { code: status.UNAVAILABLE, details: 'the daemon is stopping', metadata: new Metadata() });
          return;
        }
        this.#count(method, status.OK);
        call.end();
      },
      (error: unknown) => {
        if (call.cancelled || (signal.aborted && !this.#o.stopping.aborted)) {
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
      const refusal = refusalOf(method, role, identity, this.#o.policy);
      const who = { uid: identity.uid, user: identity.user, verified: identity.verified, claimedBy: claimed, method };
      if (refusal) {
        this.#o.logger.warn({ ...who, code: ADMIN_FORBIDDEN_ERROR }, `admin ${method} refused: ${refusal}`);
        throw new AdminForbiddenError(refusal);
      }
      if (isChangeMethod(method)) this.#o.logger.info(who, `admin ${method} by ${identity.user ?? 'an unverified caller'} (uid ${identity.uid ?? '?'})${claimed ? `, claiming to be ${claimed}` : ''}`);
      return { ...(identity.uid === undefined ? {} : { uid: identity.uid }), ...(identity.user === undefined ? {} : { user: identity.user }), ...(claimed === undefined ? {} : { claimed }) };
    };
  }

  /** The handlers of every call on a connection from `identity`, whose role is `role`. */
  handlersFor(identity: PeerIdentity, role: AdminRole): AdminHandlers {
    const service = this.#o.service;
    const c = this.#callerOf(identity, role);
    return {
      status: this.#unary('Status', c, () => service.status.status()),
      listDevices: this.#unary('ListDevices', c, () => service.status.listDevices()),
      sync: this.#serverStream('Sync', c, (request, emit) => service.sync.sync(request, emit)),
      verify: this.#serverStream('Verify', c, (request, emit) => service.sync.verify(request, emit)),
      plan: this.#unary('Plan', c, (request) => service.sync.plan(request)),
      confirm: this.#unary('Confirm', c, (request) => service.sync.confirm(request)),
      setEventStart: this.#unary('SetEventStart', c, (request) => service.sync.setEventStart(request)),
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
