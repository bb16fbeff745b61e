/**
 * `rollcall run` on the PostgreSQL store, as an operator configures it: a real server (a
 * unix socket, a role with a password from a file), the embedded simulator over real
 * gRPC. The seed users land in the database's tables; /readyz says not ready while the
 * database cannot be reached and ready again once it can, without a restart; SIGTERM stops
 * with exit 0. The password is in no line the daemon writes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess, embeddedDaemonConfig, freePort } from '../helpers/daemon-process.js';
import { postgresSkipReason, startPostgresServer } from '../helpers/postgres-server.js';
import { freshSchema, postgresStorageYaml } from '../helpers/postgres-stores.js';

const byMsg = (pattern: RegExp) => (line: Record<string, unknown>) => typeof line['msg'] === 'string' && pattern.test(line['msg']);

async function readiness(base: string, daemon: DaemonProcess): Promise<{ status: number; checks: Record<string, { ok: boolean; detail?: string }> }> {
  let response: Response;
  try {
    response = await fetch(`${base}/readyz`);
  } catch (error) {
    const exit = daemon.child.exitCode !== null || daemon.child.signalCode !== null ? `exited ${daemon.child.exitCode ?? daemon.child.signalCode}` : 'still running';
    throw new Error(
      `GET ${base}/readyz failed (${(error as Error).message}); the daemon is ${exit}; its last lines: ${JSON.stringify(daemon.lines.slice(-12))}; stderr: ${daemon.stderr.slice(-2000)}`,
    );
  }
  const body = (await response.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
  return { status: response.status, checks: body.checks };
}

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('rollcall run on postgres', { skip }, () => {});
} else {
  const server = await startPostgresServer();
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-pg-run-'));
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('rollcall run with storage.backend postgres: seeds the tables, /readyz follows the connection, stops cleanly', async () => {
    const role = 'rc_daemon';
    const password = 'daemon-Pw-never-printed';
    await server.requirePassword(role, password);
    const passwordFile = join(dir, 'pg-password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    const schema = freshSchema();
    const httpPort = await freePort();
    // The embedded gateway takes a free port of its own (0), so it cannot meet the HTTP one.
    const gatewayPort = 0;
    const configPath = join(dir, 'rollcall.yaml');
    await writeFile(
      configPath,
      embeddedDaemonConfig({
        dataDir: join(dir, 'state'),
        httpPort,
        gatewayPort,
        devices: [1, 2],
        extra: [
          'log:',
          '  level: debug',
          ...postgresStorageYaml(server, schema, { user: role, extra: [`passwordFile: ${passwordFile}`] }),
        ],
      }),
    );
    const daemon = new DaemonProcess(['run', '--config', configPath]);
    const base = `http://127.0.0.1:${httpPort}`;
    try {
      await daemon.waitForLine(byMsg(/rollcall is running/), 60_000);
      const ready = await readiness(base, daemon);
      assert.equal(ready.status, 200);
      assert.equal(ready.checks['storage/postgres']?.ok, true);
      const seeded = await server.query(`SELECT convert_from(id, 'UTF8') AS id FROM ${schema}.users ORDER BY id`);
      assert.deepEqual(
        seeded.rows.map((r: { id: string }) => r.id),
        ['1', '2'],
      );

      // The database cannot be reached by the daemon: its connections end and it may not log in.
      await server.query(`ALTER ROLE ${role} NOLOGIN`);
      await server.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
      let down = await readiness(base, daemon);
      while (down.status === 200) {
        await sleep(20);
        down = await readiness(base, daemon);
      }
      assert.equal(down.status, 503);
      assert.equal(down.checks['storage/postgres']?.ok, false);
      assert.match(String(down.checks['storage/postgres']?.detail), /reconnecting to PostgreSQL/);

      // Back: ready again by itself, no restart.
      await server.query(`ALTER ROLE ${role} LOGIN`);
      let up = await readiness(base, daemon);
      while (up.checks['storage/postgres']?.ok !== true) {
        await sleep(50);
        up = await readiness(base, daemon);
      }
      assert.equal(up.checks['storage/postgres']?.ok, true);

      daemon.child.kill('SIGTERM');
      assert.deepEqual(await daemon.exited, { code: 0, signal: null });
      const everything = JSON.stringify(daemon.lines) + daemon.stderr;
      assert.ok(everything.includes('PostgreSQL store open'), 'the daemon logged the store opening (the check reads real lines)');
      assert.ok(!everything.includes(password), 'the password is in no log line');
    } finally {
      await daemon.kill();
      await server.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });
}
