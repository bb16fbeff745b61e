/**
 * A bare gRPC client of the gateway, for what the benchmarks do beside rollcall: the
 * baselines (pre-encoded EnrollMulti batches, one Enroll per user and device, one round
 * trip), setting up devices, and acting as a person at a device through the simulator's
 * control service. It is deliberately plain: no retries, no metrics, one channel.
 */
import * as grpc from '@grpc/grpc-js';

interface Method<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(value: Buffer): Res;
}

const passthrough = (value: Buffer): Buffer => value;

export class GatewayClient {
  readonly #client: grpc.Client;
  readonly #deadlineMs: number;

  constructor(address: string, options: { deadlineMs?: number; maxMessageBytes?: number } = {}) {
    const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
    });
    this.#deadlineMs = options.deadlineMs ?? 120_000;
  }

  /** One unary call; rejects with the gRPC error (its trailer included) when it fails. */
  call<Req, Res>(method: Method<Req, Res>, request: Req, deadlineMs = this.#deadlineMs): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs },
        (error, response) => (error ? reject(error) : resolve(response as Res)),
      );
    });
  }

  /** A call whose request was encoded beforehand; the response is left encoded too. */
  callEncoded(path: string, request: Buffer, deadlineMs = this.#deadlineMs): Promise<Buffer> {
    return this.call({ path, requestSerialize: passthrough, responseDeserialize: passthrough }, request, deadlineMs);
  }

  /** Resolves once the channel is connected. */
  ready(deadlineMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => this.#client.waitForReady(Date.now() + deadlineMs, (error) => (error ? reject(error) : resolve())));
  }

  close(): void {
    this.#client.close();
  }
}
