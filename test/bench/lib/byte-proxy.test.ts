import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { ByteCountingProxy } from '../../../bench/lib/byte-proxy.js';

test('the proxy passes bytes both ways and counts each direction', async () => {
  // The server answers every chunk with twice its length.
  const server = createServer((socket) => socket.on('data', (chunk: Buffer) => socket.write(Buffer.alloc(chunk.length * 2, 1))));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const proxy = new ByteCountingProxy(`127.0.0.1:${port}`);
  await proxy.start();
  let client: Socket | undefined;
  try {
    const [host, proxyPort] = proxy.address.split(':') as [string, string];
    client = createConnection({ host, port: Number(proxyPort) });
    await once(client, 'connect');
    let received = 0;
    const answered = new Promise<void>((resolve) =>
      client!.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= 2000) resolve();
      }),
    );
    client.write(Buffer.alloc(1000, 7));
    await answered;
    assert.deepEqual(proxy.counts(), { sent: 1000, received: 2000 });
    proxy.reset();
    assert.deepEqual(proxy.counts(), { sent: 0, received: 0 });
  } finally {
    client?.destroy();
    await proxy.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
