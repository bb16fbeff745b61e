/** Where the admin socket is, for the daemon and for the client commands. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { adminConfigTree } from '../../../daemon/config/schema.js';
import { adminSocketPath } from '../../../daemon/admin/socket-path.js';
import { clientSocket } from '../../../daemon/admin/cli-socket.js';

describe('admin socket path', () => {
  test('configured, else $RUNTIME_DIRECTORY, else ./var/run under the config folder', () => {
    assert.equal(adminSocketPath({ configured: '/srv/rc.sock', baseDir: '/etc/rollcall' }), '/srv/rc.sock');
    assert.equal(adminSocketPath({ configured: 'run/rc.sock', baseDir: '/etc/rollcall' }), '/etc/rollcall/run/rc.sock');
    assert.equal(adminSocketPath({ baseDir: '/etc/rollcall', env: { RUNTIME_DIRECTORY: '/run/rollcall:/run/other' } }), '/run/rollcall/rollcall.sock');
    assert.equal(adminSocketPath({ baseDir: '/opt/rc', env: {} }), '/opt/rc/var/run/rollcall.sock');
  });

  test('the admin config keys parse with their defaults', () => {
    const schema = z.object(adminConfigTree() as Record<string, z.ZodType>);
    assert.deepEqual(schema.parse({}), { maxMessageBytes: 4 * 1024 * 1024, maxUploadBytes: 1024 ** 3, readersGroup: 'rollcall', operatorsGroup: 'rollcall-admin' });
    assert.equal(schema.safeParse({ readersGroup: '' }).success, false);
    assert.equal(schema.safeParse({ maxMessageBytes: 10 }).success, false);
  });

  test('the client: --socket, then $ROLLCALL_SOCKET, then admin.socket from the config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rc-sock-'));
    try {
      await writeFile(join(dir, 'rollcall.yaml'), 'admin:\n  socket: s/admin.sock\n');
      assert.deepEqual(await clientSocket({ socket: 'x.sock' }, { ROLLCALL_SOCKET: '/e.sock' }, dir), { path: join(dir, 'x.sock'), from: 'option' });
      assert.deepEqual(await clientSocket({}, { ROLLCALL_SOCKET: '/e.sock' }, dir), { path: '/e.sock', from: 'env' });
      assert.deepEqual(await clientSocket({}, {}, dir), { path: join(dir, 's', 'admin.sock'), from: 'config' });
      const other = join(dir, 'other.yaml');
      await writeFile(other, 'log:\n  level: debug\n');
      const fallback = await clientSocket({ config: other }, {}, '/');
      assert.equal(fallback.from, 'default');
      await assert.rejects(clientSocket({ config: join(dir, 'missing.yaml') }, {}, dir), /config file not found/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
