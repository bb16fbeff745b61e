/**
 * The observability HTTP endpoint: /metrics for Prometheus, /healthz for liveness (the
 * event loop answers), /readyz for readiness (every part the daemon needs is up). Plain
 * node:http, GET and HEAD only, loopback by default.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import { DEFAULT_LISTEN, formatListenAddress, parseListenAddress, type ListenAddress } from './listen.js';

export interface ReadinessCheck {
  ok: boolean;
  /** A short reason when not ok, or a status line. */
  detail?: string;
}

export interface Readiness {
  ready: boolean;
  /** Per part, e.g. 'storage/level', 'transport/gsdk', 'store'. */
  checks: Record<string, ReadinessCheck>;
}

export interface ObservabilityServerOptions {
  /** 'host:port' or '[ipv6]:port'; default 127.0.0.1:9464. Port 0 picks a free port. */
  listen?: string;
  metrics: Metrics;
  /** Asked on every /readyz; must be cheap and must not block. */
  readiness: () => Readiness;
  logger: Logger;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export class ObservabilityServer {
  private readonly options: ObservabilityServerOptions;
  private server: Server | undefined;
  private bound: ListenAddress | undefined;
  private abortListener: (() => void) | undefined;
  private signal: AbortSignal | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: ObservabilityServerOptions) {
    this.options = options;
  }

  /** Listens; resolves once the socket is bound. Stops by itself when `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.closing !== undefined) await this.closing;
    if (this.server !== undefined) return;
    signal.throwIfAborted();
    const { host, port } = parseListenAddress(this.options.listen ?? DEFAULT_LISTEN);
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error): void => {
          server.off('listening', onListening);
          reject(error);
        };
        const onListening = (): void => {
          server.off('error', onError);
          resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen({ host, port });
      });
    } catch (error) {
      this.server = undefined;
      throw error;
    }
    server.on('error', (error) => this.options.logger.error({ err: error }, 'observability HTTP server error'));
    const address = server.address() as AddressInfo;
    this.bound = { host: address.address, port: address.port };

    this.signal = signal;
    this.abortListener = () => void this.stop();
    signal.addEventListener('abort', this.abortListener, { once: true });
    if (signal.aborted) {
      await this.stop();
      signal.throwIfAborted();
    }
    this.options.logger.info({ listen: formatListenAddress(this.bound) }, 'observability HTTP listening');
  }

  /**
   * Closes the listener and every open connection, keep-alive ones included. Calls made
   * while a close is under way (the signal's included) share it.
   */
  stop(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    this.bound = undefined;
    if (this.abortListener !== undefined) this.signal?.removeEventListener('abort', this.abortListener);
    this.abortListener = undefined;
    this.signal = undefined;
    this.closing = new Promise<void>((resolve) => {
      server.close(() => resolve());
      // A scraper's keep-alive socket would otherwise hold close() open for its idle timeout.
      server.closeAllConnections();
    }).finally(() => {
      this.server = undefined;
      this.closing = undefined;
    });
    return this.closing;
  }

  /** The bound address while listening (the real port when 0 was asked for). */
  address(): ListenAddress | undefined {
    return this.bound === undefined ? undefined : { ...this.bound };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, JSON.stringify({ error: 'method not allowed' }), JSON_TYPE, { allow: 'GET, HEAD' });
        return;
      }
      const path = (req.url ?? '/').split('?', 1)[0];
      switch (path) {
        case '/metrics':
          await this.serveMetrics(res);
          return;
        case '/healthz':
          // Answering at all is the proof: a blocked event loop would not get here.
          send(res, 200, JSON.stringify({ status: 'ok' }), JSON_TYPE);
          return;
        case '/readyz':
          this.serveReadiness(res);
          return;
        default:
          send(res, 404, JSON.stringify({ error: 'not found' }), JSON_TYPE);
      }
    } catch (error) {
      this.options.logger.error({ err: error, url: req.url }, 'observability HTTP request failed');
      if (!res.headersSent) send(res, 500, JSON.stringify({ error: 'internal error' }), JSON_TYPE);
      else res.destroy();
    }
  }

  private async serveMetrics(res: ServerResponse): Promise<void> {
    const registry = this.options.metrics.registry;
    let body: string;
    try {
      body = await registry.metrics();
    } catch (error) {
      // A collect callback threw; say so instead of serving a partial scrape as if whole.
      this.options.logger.warn({ err: error }, 'metrics collection failed');
      send(res, 500, 'metrics collection failed\n', 'text/plain; charset=utf-8');
      return;
    }
    send(res, 200, body, registry.contentType);
  }

  private serveReadiness(res: ServerResponse): void {
    let readiness: Readiness;
    try {
      readiness = this.options.readiness();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'readiness check threw');
      const detail = error instanceof Error ? error.message : String(error);
      readiness = { ready: false, checks: { readiness: { ok: false, detail: `readiness check threw: ${detail}` } } };
    }
    send(res, readiness.ready ? 200 : 503, JSON.stringify({ ready: readiness.ready, checks: readiness.checks }), JSON_TYPE);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  // For HEAD, node:http sends the headers (with the GET body's length) and drops the body.
  res.end(body);
}
