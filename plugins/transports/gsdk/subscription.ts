/**
 * A server stream of the gateway (SubscribeStatus, SubscribeRealtimeLog) as an
 * AsyncIterable with `cancel()`. The gateway has no unsubscribe call: a client stops a
 * stream by cancelling it, so a cancel ends the iteration quietly, while an end caused by
 * the gateway or the network is thrown once every message received before it has been
 * read. Reconnecting is the caller's job.
 */
import type { ClientReadableStream, ServiceError, StatusObject } from '@grpc/grpc-js';
import type { DeviceStream } from '../../../daemon/plugins/api.js';
import { GrpcCode } from './status-code.js';

/** Messages held for a slow reader before the stream is paused (HTTP/2 flow control then holds the gateway). */
const HIGH_WATER = 256;
const LOW_WATER = 64;

/** A stream of `T`, read from wire messages `W` (each mapped as it is read). */
export class Subscription<T, W = T> implements DeviceStream<T> {
  private readonly call: ClientReadableStream<W>;
  private readonly map: (message: W) => T;
  private readonly toError: (status: StatusObject, cause: ServiceError | undefined) => Error;
  private readonly onStatus: (status: StatusObject, cancelledByClient: boolean) => void;
  private readonly buffer: W[] = [];
  private wake: (() => void) | undefined;
  private status: StatusObject | undefined;
  private failure: ServiceError | undefined;
  private drained = false;
  private cancelRequested = false;
  private paused = false;
  private iterated = false;

  constructor(
    call: ClientReadableStream<W>,
    map: (message: W) => T,
    toError: (status: StatusObject, cause: ServiceError | undefined) => Error,
    onStatus: (status: StatusObject, cancelledByClient: boolean) => void,
  ) {
    this.call = call;
    this.map = map;
    this.toError = toError;
    this.onStatus = onStatus;
  }

  /** Wires the stream's events. Called once by the channel right after the call starts. */
  listen(): void {
    this.call.on('data', (message: W) => {
      this.buffer.push(message);
      if (!this.paused && this.buffer.length >= HIGH_WATER) {
        this.paused = true;
        this.call.pause();
      }
      this.notify();
    });
    // Without a listener an 'error' event would crash the process; the status says it all.
    this.call.on('error', (error: ServiceError) => {
      this.failure = error;
    });
    this.call.on('status', (status: StatusObject) => {
      this.status = status;
      this.onStatus(status, this.cancelRequested);
      this.notify();
    });
    const end = (): void => {
      this.drained = true;
      this.notify();
    };
    this.call.on('end', end);
    this.call.on('close', end);
  }

  /** Whether `cancel()` was called (or the transport stopped). */
  get cancelled(): boolean {
    return this.cancelRequested;
  }

  /** Stops the stream. Iteration ends without an error; calling it again does nothing. */
  cancel(): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    this.buffer.length = 0;
    if (this.status === undefined) this.call.cancel();
    this.notify();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterated) throw new Error('a subscription can be iterated only once');
    this.iterated = true;
    return {
      next: () => this.next(),
      return: async () => {
        this.cancel();
        return { done: true, value: undefined };
      },
    };
  }

  private async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.cancelRequested) return { done: true, value: undefined };
      if (this.buffer.length > 0) {
        const message = this.buffer.shift() as W;
        if (this.paused && this.buffer.length <= LOW_WATER) {
          this.paused = false;
          this.call.resume();
        }
        return { done: false, value: this.map(message) };
      }
      if (this.drained && this.status !== undefined) {
        if (this.status.code !== GrpcCode.OK) throw this.toError(this.status, this.failure);
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
