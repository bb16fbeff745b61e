import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { ObservabilityServer, type Readiness } from '../../../daemon/obs/http.js';
import { Metrics } from '../../../daemon/obs/metrics.js';
import { createLogger } from '../../../daemon/obs/logger.js';
import type { DestinationStream } from 'pino';

class Capture implements DestinationStream {
  readonly lines: Record<string, unknown>[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }
}

function makeServer(options: { listen?: string; metrics?: Metrics; readiness?: () => Readiness } = {}) {
  const log = new Capture();
  const metrics = options.metrics ?? new Metrics();
  const server = new ObservabilityServer({
    listen: options.listen ?? '127.0.0.1:0',
    metrics,
    readiness: options.readiness ?? (() => ({ ready: true, checks: {} })),
    logger: createLogger({ level: 'debug', destination: log }),
  });
  return { server, metrics, log };
}

function base(server: ObservabilityServer): string {
  const address = server.address();
  assert.ok(address, 'the server is listening');
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `http://${host}:${address.port}`;
}

describe('ObservabilityServer endpoints', () => {
  let state: Readiness | Error = { ready: true, checks: {} };
  const { server, metrics, log } = makeServer({
    readiness: () => {
      if (state instanceof Error) throw state;
      return state;
    },
  });
  const controller = new AbortController();
  const syncOps = metrics.counter({ name: 'rollcall_test_sync_ops_total', help: 'test counter', labelNames: ['op'] as const });

  before(async () => {
    await server.start(controller.signal);
  });
  after(async () => {
    controller.abort();
    await server.stop();
  });

  test('logs where it listens', () => {
    const line = log.lines.find((entry) => entry.msg === 'observability HTTP listening');
    assert.equal(line?.listen, `127.0.0.1:${server.address()?.port}`);
  });

  test('GET /metrics serves the registry in Prometheus text format', async () => {
    syncOps.inc({ op: 'enroll' }, 3);
    const res = await fetch(`${base(server)}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), metrics.registry.contentType);
    const body = await res.text();
    assert.match(body, /# TYPE rollcall_test_sync_ops_total counter/);
    assert.match(body, /rollcall_test_sync_ops_total\{op="enroll"\} 3/);
  });

  test('a query string does not change the route', async () => {
    const res = await fetch(`${base(server)}/metrics?name[]=up`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /rollcall_test_sync_ops_total/);
  });

  test('HEAD /metrics sends the headers and no body', async () => {
    const get = await (await fetch(`${base(server)}/metrics`)).text();
    const res = await fetch(`${base(server)}/metrics`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(get));
    assert.equal(await res.text(), '');
  });

  test('GET /healthz answers ok', async () => {
    const res = await fetch(`${base(server)}/healthz`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^application\/json/);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  test('GET /readyz is 200 with the checks when ready', async () => {
    state = { ready: true, checks: { 'storage/level': { ok: true }, 'transport/gsdk': { ok: true, detail: '3 devices connected' } } };
    const res = await fetch(`${base(server)}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), state);
  });

  test('GET /readyz is 503 with the failing check when not ready', async () => {
    state = { ready: false, checks: { 'storage/level': { ok: true }, 'transport/gsdk': { ok: false, detail: 'gateway unreachable' } } };
    const res = await fetch(`${base(server)}/readyz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as Readiness;
    assert.equal(body.ready, false);
    assert.deepEqual(body.checks['transport/gsdk'], { ok: false, detail: 'gateway unreachable' });
  });

  test('GET /readyz is 503 when the readiness callback throws', async () => {
    state = new Error('host not started');
    const res = await fetch(`${base(server)}/readyz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as Readiness;
    assert.equal(body.ready, false);
    assert.match(String(body.checks.readiness?.detail), /host not started/);
    state = { ready: true, checks: {} };
  });

  test('unknown paths are 404', async () => {
    for (const path of ['/', '/metrics/', '/health', '/readyz/extra']) {
      const res = await fetch(`${base(server)}${path}`);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
  });

  test('methods other than GET and HEAD are 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await fetch(`${base(server)}/metrics`, { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
      await res.body?.cancel();
    }
  });
});

describe('ObservabilityServer failures', () => {
  test('a metric whose collect throws gives 500 and a log line', async () => {
    const metrics = new Metrics();
    metrics.gauge({
      name: 'rollcall_test_broken',
      help: 'collect throws',
      collect() {
        throw new Error('collector broke');
      },
    });
    const { server, log } = makeServer({ metrics });
    await server.start(new AbortController().signal);
    try {
      const res = await fetch(`${base(server)}/metrics`);
      assert.equal(res.status, 500);
      await res.body?.cancel();
      assert.ok(log.lines.some((line) => line.msg === 'metrics collection failed'));
    } finally {
      await server.stop();
    }
  });

  test('start rejects when the port is taken, and the server stays stopped', async () => {
    const first = makeServer().server;
    await first.start(new AbortController().signal);
    try {
      const second = makeServer({ listen: `127.0.0.1:${first.address()?.port}` }).server;
      await assert.rejects(second.start(new AbortController().signal), { code: 'EADDRINUSE' });
      assert.equal(second.address(), undefined);
      await second.stop();
    } finally {
      await first.stop();
    }
  });

  test('start rejects an invalid listen address before binding', async () => {
    const { server } = makeServer({ listen: 'nowhere' });
    await assert.rejects(server.start(new AbortController().signal), { code: 'ROLLCALL_ERR_CONFIG_INVALID' });
  });

  test('start with an aborted signal does not listen', async () => {
    const { server } = makeServer();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(server.start(controller.signal));
    assert.equal(server.address(), undefined);
  });
});

describe('ObservabilityServer shutdown', () => {
  test('stop closes idle keep-alive connections', async () => {
    const { server } = makeServer();
    await server.start(new AbortController().signal);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const req = httpRequest(`${base(server)}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(req.socket as Socket));
        });
        req.on('error', reject);
        req.end();
      });
      // The agent unrefs its idle sockets; hold the loop open until the close arrives.
      socket.ref();
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      assert.equal(socket.destroyed, false, 'the keep-alive socket is open before stop');
      await server.stop();
      await closed;
      assert.equal(server.address(), undefined);
    } finally {
      agent.destroy();
    }
  });

  test('stop closes a connection whose request is still being answered', async () => {
    const metrics = new Metrics();
    let collecting!: () => void;
    const collectStarted = new Promise<void>((resolve) => (collecting = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    metrics.gauge({
      name: 'rollcall_test_slow',
      help: 'a collect that waits until the test lets it go',
      async collect() {
        collecting();
        await released;
      },
    });
    const { server } = makeServer({ metrics });
    await server.start(new AbortController().signal);
    const address = server.address();
    assert.ok(address);
    const socket = connect({ host: address.host, port: address.port });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await collectStarted; // the scrape is now in flight: the connection is busy, not idle
    try {
      await server.stop();
      await closed;
    } finally {
      release();
    }
  });

  test('aborting the start signal stops the server', async () => {
    const { server } = makeServer();
    const controller = new AbortController();
    await server.start(controller.signal);
    const url = `${base(server)}/healthz`;
    controller.abort();
    await server.stop(); // joins the close the abort began
    assert.equal(server.address(), undefined);
    await assert.rejects(fetch(url));
  });

  test('can start again after stop', async () => {
    const { server } = makeServer();
    await server.start(new AbortController().signal);
    await server.stop();
    await server.start(new AbortController().signal);
    try {
      assert.equal((await fetch(`${base(server)}/healthz`)).status, 200);
    } finally {
      await server.stop();
    }
  });
});

async function loopbackV6(): Promise<boolean> {
  const probe = createNetServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen({ host: '::1', port: 0 }, () => probe.close(() => resolve(true)));
  });
}

test('listens on an IPv6 loopback address', async (t) => {
  if (!(await loopbackV6())) {
    t.skip('no IPv6 loopback on this machine');
    return;
  }
  const { server } = makeServer({ listen: '[::1]:0' });
  await server.start(new AbortController().signal);
  try {
    assert.equal(server.address()?.host, '::1');
    const res = await fetch(`${base(server)}/healthz`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await server.stop();
  }
});
