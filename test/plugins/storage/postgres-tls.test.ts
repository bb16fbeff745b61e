/**
 * The PostgreSQL store over TLS, against a real server that accepts TCP on 127.0.0.1 only
 * with TLS, using a certificate made for the test by openssl (a CA and a server certificate
 * for localhost and 127.0.0.1): verify-full with the CA file works; verify-full without it,
 * or with a name the certificate does not carry, is refused; require works unchecked; and
 * without TLS the server says no.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isRollcallError } from '../../../daemon/errors.js';
import { emptyUser } from '../../../daemon/model/user.js';
import { freePort } from '../../helpers/daemon-process.js';
import { postgresSkipReason, startPostgresServer } from '../../helpers/postgres-server.js';
import { freshSchema, postgresConfig, postgresStore } from '../../helpers/postgres-stores.js';
import type { PostgresStorageConfig } from '../../../plugins/storage/postgres/schema.js';

/** A CA and a server certificate it signed, for localhost and 127.0.0.1 (EC keys: quick to make). */
async function makeCertificates(dir: string): Promise<{ caFile: string; cert: string; key: string }> {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=rollcall test CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return { caFile: join(dir, 'ca.pem'), cert: await readFile(join(dir, 'server.pem'), 'utf8'), key: await readFile(join(dir, 'server.key'), 'utf8') };
}

let skip = postgresSkipReason();
if (skip === undefined) {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    skip = 'openssl is not installed (it makes the test certificates)';
  }
}
if (skip !== undefined) {
  test('postgres over TLS', { skip }, () => {});
} else {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-pg-tls-'));
  const certificates = await makeCertificates(dir);
  const tcpPort = await freePort();
  const server = await startPostgresServer({ tls: { port: tcpPort, cert: certificates.cert, key: certificates.key } });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const overTcp = (tls: PostgresStorageConfig['tls'], host = '127.0.0.1') => postgresConfig(server, freshSchema(), { host, port: tcpPort, tls });

  test('verify-full with the CA file: the store opens over TLS, and the server sees TLS', async () => {
    const config = overTcp({ mode: 'verify-full', caFile: certificates.caFile, serverName: 'localhost' });
    const store = postgresStore(config);
    await store.start();
    try {
      await store.commit([{ type: 'putUser', user: emptyUser('a'), origin: { kind: 'server' } }]);
      assert.equal((await store.getUser('a'))?.id, 'a');
      const tls = await server.query("SELECT bool_and(s.ssl) AS all_tls, count(*)::int AS n FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE starts_with(a.application_name, 'rollcall/')");
      const row = tls.rows[0] as { all_tls: boolean; n: number };
      assert.ok(row.n >= 2, 'the pool and the listener both connected');
      assert.equal(row.all_tls, true, 'every connection of the store uses TLS');
    } finally {
      await store.stop();
      await server.query(`DROP SCHEMA ${config.schema} CASCADE`);
    }
  });

  test('verify-full checks the host name: 127.0.0.1 is in the certificate, another name is refused', async () => {
    const byAddress = overTcp({ mode: 'verify-full', caFile: certificates.caFile });
    const store = postgresStore(byAddress);
    await store.start();
    await store.stop();
    await server.query(`DROP SCHEMA ${byAddress.schema} CASCADE`);
    const wrongName = postgresStore(overTcp({ mode: 'verify-full', caFile: certificates.caFile, serverName: 'db.example.org' }));
    await assert.rejects(wrongName.start(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_UNAVAILABLE') && /db\.example\.org/.test(error.message));
  });

  test('verify-full without the CA (the system CAs do not know it) is refused; require takes it unchecked', async () => {
    const unchecked = postgresStore(overTcp({ mode: 'verify-full' }));
    await assert.rejects(unchecked.start(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_UNAVAILABLE') && /certificate/i.test(error.message));
    const config = overTcp({ mode: 'require' });
    const store = postgresStore(config);
    await store.start();
    await store.stop();
    await server.query(`DROP SCHEMA ${config.schema} CASCADE`);
  });

  test('without TLS the server refuses the TCP connection, and the error says why', async () => {
    const plain = postgresStore(overTcp({ mode: 'disable' }));
    await assert.rejects(plain.start(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_UNAVAILABLE') && /no encryption/.test(error.message));
  });
}
