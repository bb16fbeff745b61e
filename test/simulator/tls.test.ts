import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { startSimulator } from '../../simulator/index.js';
import { connectClients, failure, unary } from './gsdk-client.js';

const fixture = (name: string): Buffer => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/simulator/${name}`, import.meta.url)));

test('TLS: a client trusting the CA is served; a plaintext client is not', async () => {
  const sim = await startSimulator({ devices: [{ id: 1 }], tls: { cert: fixture('server.crt'), key: fixture('server.key') } });
  const secure = connectClients(sim.address, grpc.credentials.createSsl(fixture('ca.crt')));
  const plain = connectClients(sim.address);
  try {
    const { deviceInfos } = await unary(secure.connect, 'GetDeviceList', {});
    assert.deepEqual(deviceInfos.map((d: { deviceID: number }) => d.deviceID), [1]);
    const error = await failure(unary(plain.connect, 'GetDeviceList', {}, 5_000));
    assert.equal(error.code, grpc.status.UNAVAILABLE);
  } finally {
    secure.close();
    plain.close();
    await sim.stop();
  }
});
