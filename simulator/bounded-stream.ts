import type { ServerWritableStream } from '@grpc/grpc-js';

/**
 * A server stream with the gateway's queue semantics: at most `limit` messages wait for the
 * client; what arrives beyond that is dropped, not buffered. A message stops waiting once
 * gRPC hands it to the transport, so a client that stops reading fills the queue (HTTP/2
 * flow control) and then loses messages.
 */
export class BoundedStream<T> {
  readonly limit: number;
  delivered = 0;
  dropped = 0;
  private waiting = 0;
  private closed = false;
  private readonly call: ServerWritableStream<unknown, T>;

  constructor(call: ServerWritableStream<unknown, T>, limit: number) {
    this.call = call;
    this.limit = limit;
  }

  get isClosed(): boolean {
    return this.closed || this.call.cancelled;
  }

  offer(message: T): boolean {
    if (this.isClosed) return false;
    if (this.waiting >= this.limit) {
      this.dropped += 1;
      return false;
    }
    this.waiting += 1;
    this.call.write(message, () => {
      this.waiting -= 1;
    });
    this.delivered += 1;
    return true;
  }

  /** Ends the stream with OK (the simulator is stopping). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.call.cancelled) this.call.end();
  }
}
