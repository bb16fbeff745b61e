/**
 * One gRPC channel to the gateway and the only place calls are made (STYLE §10): every
 * unary call becomes a promise with a deadline, an optional AbortSignal and per-call
 * metrics, and every failure becomes a RollcallError that names the RPC, the gRPC code
 * and the device. The generated service definitions supply paths and (de)serializers;
 * the generated per-service client classes are not used, so that all services share
 * this one channel.
 */
import * as grpc from '@grpc/grpc-js';
import type { Counter, Histogram } from 'prom-client';
import { RollcallError } from '../../../daemon/errors.js';
import type { Metrics } from '../../../daemon/obs/metrics.js';
import type { CallOptions } from '../../../daemon/plugins/api.js';
import { failureReason } from './failure-reason.js';
import { codeName, GrpcCode } from './status-code.js';
import { Subscription } from './subscription.js';
import { CALLER_METADATA_KEY } from '../../../simulator/conventions.js';

/** `signal` cancels the call (it rejects at once with code CANCELLED); `deadlineMs` overrides the configured deadline. */
export type { CallOptions };

/** Which configured deadline a call gets: the gateway gives some commands longer. */
export type CallLength = 'default' | 'long';

export interface Deadlines {
  defaultMs: number;
  longMs: number;
}

/** What a method of a generated `XxxService` definition provides. */
export interface MethodDefinition<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(value: Buffer): Res;
}

/** Whom a call was about, for error details. */
export interface CallTarget {
  deviceId?: number;
  deviceIds?: readonly number[];
}

export interface CallInstruments {
  calls: Counter<'method' | 'code'>;
  duration: Histogram<'method'>;
}

export function gatewayInstruments(metrics: Metrics): CallInstruments {
  return {
    calls: metrics.counter({
      name: 'rollcall_gateway_calls_total',
      help: 'Device gateway calls by RPC and gRPC status code (streams count once, when they end).',
      labelNames: ['method', 'code'],
    }),
    duration: metrics.histogram({
      name: 'rollcall_gateway_call_duration_seconds',
      help: 'Duration of unary device gateway calls by RPC, failures included.',
      labelNames: ['method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30],
    }),
  };
}

/** The RPC name of a method path: '/gsdk.user.User/EnrollMulti' → 'EnrollMulti'. */
export function rpcName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The gRPC status code of a failed gateway call, if `error` is one. */
export function callCode(error: unknown): number | undefined {
  if (!(error instanceof RollcallError) || error.code !== 'ROLLCALL_ERR_GATEWAY_CALL') return undefined;
  const code = error.detail?.['code'];
  return typeof code === 'number' ? code : undefined;
}

/** The trailing metadata of a failed gateway call, where the gateway puts status details. */
export function callTrailers(error: unknown): grpc.Metadata | undefined {
  if (!(error instanceof RollcallError)) return undefined;
  const cause = error.cause as Partial<grpc.ServiceError> | undefined;
  return cause?.metadata instanceof grpc.Metadata ? cause.metadata : undefined;
}

interface Cancellable {
  cancel(): void;
}

export class GatewayChannel {
  private readonly client: grpc.Client;
  private readonly endpoint: { address: string; tls: boolean };
  private readonly instruments: CallInstruments;
  private readonly inFlight = new Set<Cancellable>();
  private deadlines: Deadlines;
  private lastCode: number | undefined;
  /** This rollcall instance's name, sent with every call (a gateway's logs, the simulator's caller log). */
  private readonly caller: string | undefined;

  constructor(client: grpc.Client, endpoint: { address: string; tls: boolean }, deadlines: Deadlines, instruments: CallInstruments, caller?: string) {
    this.client = client;
    this.endpoint = endpoint;
    this.deadlines = deadlines;
    this.instruments = instruments;
    this.caller = caller;
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.caller !== undefined) metadata.set(CALLER_METADATA_KEY, this.caller);
    return metadata;
  }

  setDeadlines(deadlines: Deadlines): void {
    this.deadlines = deadlines;
  }

  get address(): string {
    return this.endpoint.address;
  }

  /** The channel's connectivity; asking with `connect` starts connecting from IDLE. */
  state(connect = false): grpc.connectivityState {
    return this.client.getChannel().getConnectivityState(connect);
  }

  /** The code of the last unary call that finished, if any did. */
  get lastCallCode(): number | undefined {
    return this.lastCode;
  }

  unary<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    options: CallOptions = {},
    length: CallLength = 'default',
    target: CallTarget = {},
  ): Promise<Res> {
    const name = rpcName(method.path);
    const started = performance.now();
    const { signal } = options;
    return new Promise<Res>((resolve, reject) => {
      if (signal?.aborted) {
        this.finish(name, GrpcCode.CANCELLED, started);
        reject(this.error(name, GrpcCode.CANCELLED, 'cancelled before it was sent', target, signal.reason));
        return;
      }
      try {
        // The last moment before the request is handed to grpc-js: nothing is sent when it refuses.
        options.admit?.();
      } catch (error) {
        reject(error);
        return;
      }
      const deadlineMs = options.deadlineMs ?? (length === 'long' ? this.deadlines.longMs : this.deadlines.defaultMs);
      const cancelOnAbort = (): void => call.cancel();
      const call = this.client.makeUnaryRequest<Req, Res>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        this.metadata(),
        { deadline: Date.now() + deadlineMs },
        (error, response) => {
          this.inFlight.delete(call);
          signal?.removeEventListener('abort', cancelOnAbort);
          if (error) {
            this.finish(name, error.code, started);
            reject(this.error(name, error.code, error.details, target, error));
          } else {
            this.finish(name, GrpcCode.OK, started);
            resolve(response as Res);
          }
        },
      );
      this.inFlight.add(call);
      signal?.addEventListener('abort', cancelOnAbort, { once: true });
    });
  }

  /**
   * Opens a server stream whose messages are handed out through `map`. It has no
   * deadline: it lasts until cancelled or ended.
   */
  serverStream<Req, Res, T>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    map: (message: Res) => T,
    options: Pick<CallOptions, 'signal'> = {},
  ): Subscription<T, Res> {
    const name = rpcName(method.path);
    const { signal } = options;
    const call = this.client.makeServerStreamRequest<Req, Res>(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      this.metadata(),
      {},
    );
    const cancelOnAbort = (): void => subscription.cancel();
    const subscription = new Subscription<T, Res>(
      call,
      map,
      (status, cause) => this.error(name, status.code, status.details, {}, cause),
      (status) => {
        this.inFlight.delete(subscription);
        signal?.removeEventListener('abort', cancelOnAbort);
        this.instruments.calls.inc({ method: name, code: codeName(status.code) });
      },
    );
    subscription.listen();
    this.inFlight.add(subscription);
    if (signal?.aborted) subscription.cancel();
    else signal?.addEventListener('abort', cancelOnAbort, { once: true });
    return subscription;
  }

  /** Resolves once the channel is READY; rejects when `deadlineMs` passes or `signal` fires. */
  ready(deadlineMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (reason: string, cause?: unknown): void =>
        reject(
          new RollcallError('ROLLCALL_ERR_GATEWAY_UNAVAILABLE', `the device gateway at ${this.endpoint.address} is not reachable: ${reason}${this.hint()}`, {
            cause,
            detail: { address: this.endpoint.address, tls: this.endpoint.tls },
          }),
        );
      if (signal?.aborted) {
        fail('cancelled', signal.reason);
        return;
      }
      const onAbort = (): void => fail('cancelled', signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.client.waitForReady(Date.now() + deadlineMs, (error) => {
        signal?.removeEventListener('abort', onAbort);
        if (error) fail(`not ready within ${deadlineMs} ms (${grpc.connectivityState[this.state()]})`, error);
        else resolve();
      });
    });
  }

  /** Cancels every call and stream still running, then closes the channel. */
  close(): void {
    for (const call of [...this.inFlight]) call.cancel();
    this.inFlight.clear();
    this.client.close();
  }

  private finish(method: string, code: number, started: number): void {
    this.lastCode = code;
    this.instruments.calls.inc({ method, code: codeName(code) });
    this.instruments.duration.observe({ method }, (performance.now() - started) / 1000);
  }

  /** Why a call may have failed to reach the gateway, when the channel is not connected. */
  private hint(): string {
    const transport = this.endpoint.tls ? 'TLS' : 'plaintext';
    return ` (connecting with ${transport}: check the address, that the gateway runs, and that it expects ${transport})`;
  }

  private error(method: string, code: number, details: string, target: CallTarget, cause: unknown): RollcallError {
    const where =
      target.deviceId !== undefined
        ? ` on device ${target.deviceId}`
        : target.deviceIds !== undefined
          ? ` on devices ${target.deviceIds.join(',')}`
          : '';
    const unreachable = code === GrpcCode.UNAVAILABLE && this.state() !== grpc.connectivityState.READY ? this.hint() : '';
    // The reason travels across the plugin boundary (STYLE §16): the drop folder waits for a
    // gateway that is `unavailable` instead of failing the rows whose PIN it hashes.
    const detail: Record<string, unknown> = { method, code, codeName: codeName(code), reason: failureReason(code) };
    if (target.deviceId !== undefined) detail['deviceId'] = target.deviceId;
    if (target.deviceIds !== undefined) detail['deviceIds'] = [...target.deviceIds];
    // grpc-js details can span lines (TLS errors); an operator's log line should not.
    const said = details.replace(/\s+/g, ' ').trim();
    return new RollcallError(
      'ROLLCALL_ERR_GATEWAY_CALL',
      `gateway call ${method}${where} failed: ${codeName(code)}${said ? `: ${said}` : ''}${unreachable}`,
      { cause, detail },
    );
  }
}
