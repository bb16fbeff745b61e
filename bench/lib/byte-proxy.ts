/**
 * A TCP proxy on loopback that counts the bytes crossing it in each direction: put
 * between a gRPC client and the gateway, it measures exactly what travels on the wire
 * (HTTP/2 frames, headers and all), with no cooperation from either side.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface WireBytes {
  /** Client → gateway. */
  sent: number;
  /** Gateway → client. */
  received: number;
}

export class ByteCountingProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #sent = 0;
  #received = 0;
  #port = 0;

  /** `target` is host:port of the gateway. */
  constructor(target: string) {
    const colon = target.lastIndexOf(':');
    this.#target = { host: target.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(target.slice(colon + 1)) };
  }

  /** Listens on a free loopback port; `address` is then what a client should dial. */
  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.#target);
      this.#sockets.add(client).add(upstream);
      client.on('data', (chunk: Buffer) => (this.#sent += chunk.length));
      upstream.on('data', (chunk: Buffer) => (this.#received += chunk.length));
      client.pipe(upstream);
      upstream.pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    const address = server.address();
    this.#port = typeof address === 'object' && address ? address.port : 0;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Bytes since the last reset. */
  counts(): WireBytes {
    return { sent: this.#sent, received: this.#received };
  }

  reset(): void {
    this.#sent = 0;
    this.#received = 0;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
