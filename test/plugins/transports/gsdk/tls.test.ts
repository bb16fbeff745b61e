import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RollcallError } from '../../../../daemon/errors.js';
import { configSchema } from '../../../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../../../plugins/transports/gsdk/transport.js';
import { startSimulator, type RunningSimulator } from '../../../../simulator/index.js';
import { testContext, type TestContext } from './fixtures.js';
import { rejectsWithCode } from './harness.js';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

/** A CA, a server certificate it signed (for `names`), and a client certificate, as PEM files. */
async function makePki(dir: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(OPENSSL, ['req', '-x509', ...ec, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '2', '-subj', '/CN=rollcall test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await writeFile(join(dir, 'server.ext'), [
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:gateway.test',
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n'));
  await run(OPENSSL, ['req', ...ec, '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr'), '-subj', '/CN=gateway']);
  await run(OPENSSL, ['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial',
    '-out', join(dir, 'server.crt'), '-days', '2', '-extfile', join(dir, 'server.ext')]);
  // A second, unrelated CA: a gateway certificate does not chain to it.
  await run(OPENSSL, ['req', '-x509', ...ec, '-keyout', join(dir, 'other.key'), '-out', join(dir, 'other.crt'), '-days', '2', '-subj', '/CN=other CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  await run(OPENSSL, ['req', ...ec, '-keyout', join(dir, 'client.key'), '-out', join(dir, 'client.csr'), '-subj', '/CN=rollcall']);
  await run(OPENSSL, ['x509', '-req', '-in', join(dir, 'client.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial',
    '-out', join(dir, 'client.crt'), '-days', '2', '-extfile', join(dir, 'client.ext')]);
}

describe('TLS to the gateway', { skip: existsSync(OPENSSL) ? false : 'openssl is not installed' }, () => {
  let dir: string;
  let tlsSim: RunningSimulator;
  let plainSim: RunningSimulator;
  let test0: TestContext;
  const transports: GsdkTransport[] = [];

  async function transportFor(config: Record<string, unknown>): Promise<GsdkTransport> {
    const transport = new GsdkTransport(test0.ctx, configSchema.parse({ deadlines: { defaultMs: 3000, longMs: 3000 }, ...config }));
    transports.push(transport);
    await transport.start(test0.abort.signal);
    return transport;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollcall-gsdk-tls-'));
    await makePki(dir);
    tlsSim = await startSimulator({
      devices: [{ id: 1001 }],
      port: 0,
      tls: { cert: await readFile(join(dir, 'server.crt')), key: await readFile(join(dir, 'server.key')) },
    });
    plainSim = await startSimulator({ devices: [{ id: 1001 }], port: 0 });
    test0 = await testContext();
  });

  after(async () => {
    for (const transport of transports) await transport.stop();
    await tlsSim.stop();
    await plainSim.stop();
    await test0.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  test('connects with the gateway\'s CA', async () => {
    const transport = await transportFor({ address: tlsSim.address, tls: { caFile: join(dir, 'ca.crt') } });
    await transport.ready();
    assert.equal((await transport.gateway.getStatistic(1001)).numOfUsers, 0);
    assert.equal(transport.health().ok, true);
  });

  test('serverName verifies a certificate issued for another name than the address', async () => {
    const transport = await transportFor({ address: `127.0.0.1:${tlsSim.port}`, tls: { caFile: join(dir, 'ca.crt'), serverName: 'gateway.test' } });
    assert.deepEqual((await transport.listDevices()).map((device) => device.id), [1001]);
  });

  test('a client certificate and key are loaded and sent', async () => {
    const transport = await transportFor({
      address: tlsSim.address,
      tls: { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key') },
    });
    assert.equal((await transport.gateway.getStatistic(1001)).numOfUsers, 0);
  });

  test('a certificate from another CA is refused', async () => {
    const transport = await transportFor({ address: tlsSim.address, tls: { caFile: join(dir, 'other.crt') } });
    await rejectsWithCode(transport.gateway.getStatistic(1001), 'UNAVAILABLE');
    assert.equal(transport.health().ok, false);
  });

  test('plaintext to a TLS gateway: UNAVAILABLE with a hint', async () => {
    const transport = await transportFor({ address: tlsSim.address, insecure: true });
    const error = await rejectsWithCode(transport.gateway.getStatistic(1001), 'UNAVAILABLE');
    assert.match(error.message, /connecting with plaintext/);
    await assert.rejects(transport.ready({ deadlineMs: 500 }), (e: unknown) => {
      assert.ok(e instanceof RollcallError);
      assert.equal(e.code, 'ROLLCALL_ERR_GATEWAY_UNAVAILABLE');
      assert.match(e.message, /not reachable.*plaintext/);
      return true;
    });
  });

  test('TLS to a plaintext gateway: UNAVAILABLE with a hint', async () => {
    const transport = await transportFor({ address: plainSim.address, tls: { caFile: join(dir, 'ca.crt') } });
    const error = await rejectsWithCode(transport.gateway.getStatistic(1001), 'UNAVAILABLE');
    assert.match(error.message, /connecting with TLS/);
  });

  test('a CA file that cannot be read fails start with the key that names it', async () => {
    const transport = new GsdkTransport(test0.ctx, configSchema.parse({ address: tlsSim.address, tls: { caFile: join(dir, 'missing.crt') } }));
    await assert.rejects(transport.start(test0.abort.signal), (e: unknown) => {
      assert.ok(e instanceof RollcallError);
      assert.equal(e.code, 'ROLLCALL_ERR_CONFIG_INVALID');
      assert.match(e.message, /gateway\.tls\.caFile/);
      return true;
    });
    assert.equal(transport.health().ok, false);
  });
});
