/**
 * The admin server over real parts (LevelDB, the simulator over gRPC, the sync engine, the
 * drop folder), called through the real client over the unix socket: the socket's life,
 * refusals that name the field and change nothing, PINs that never appear in plaintext.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstat, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdminServer } from '../../../daemon/admin/server.js';
import { AdminSocketError } from '../../../daemon/admin/socket-file.js';
import { AdminCallError, AdminConnection, DaemonUnavailable } from '../../../daemon/admin/client.js';
import type { UserView } from '../../../daemon/admin/user-view.js';
import type { Event, VerifyUpdate } from '../../../proto/gen/rollcall/admin/v1/admin.js';
import { makeUser } from '../../helpers/sync-harness.js';
import { AdminHarness } from './admin-harness.js';

function refusedWith(code: string, pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof AdminCallError, `expected an AdminCallError, got ${String(error)}`);
    assert.equal(error.grpcCodeName, code, error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

describe('admin server', () => {
  let h: AdminHarness;
  let c: AdminConnection;

  before(async () => {
    h = await AdminHarness.start();
    c = await AdminConnection.open(h.socketPath);
    await h.sync.until('devices checked', () => h.sync.engine.status().every((d) => d.lastCheck !== undefined));
  });

  after(async () => {
    c?.close();
    await h?.stop();
  });

  test('the socket is a socket with mode 0660', async () => {
    const stats = await lstat(h.socketPath);
    assert.ok(stats.isSocket());
    assert.equal(stats.mode & 0o777, 0o660);
    const status = await c.unary('Status', c.client.status, {});
    assert.equal(status.daemon?.state, 'running');
    assert.equal(status.store?.open, true);
    assert.equal(status.sync?.devices, 3);
  });

  test('a second server on the same socket refuses to start, and the first keeps answering', async () => {
    const second = new AdminServer({ socketPath: h.socketPath, backend: h.backend(), logger: h.logger });
    await assert.rejects(second.start(new AbortController().signal), (error: unknown) => {
      assert.ok(error instanceof AdminSocketError);
      assert.match(error.message, /another rollcall daemon answers on the admin socket/);
      return true;
    });
    await second.stop();
    const status = await c.unary('Status', c.client.status, {});
    assert.equal(status.daemon?.pid, process.pid);
    assert.ok((await lstat(h.socketPath)).isSocket(), 'the refused server left the socket alone');
  });

  test('a stale socket is replaced; a file that is not a socket is refused and kept', async () => {
    const stale = join(h.dir, 'stale.sock');
    // A process that listened and was killed leaves its socket file behind.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    assert.ok((await lstat(stale)).isSocket());
    const server = new AdminServer({ socketPath: stale, backend: h.backend(), logger: h.logger });
    await server.start(new AbortController().signal);
    const other = await AdminConnection.open(stale);
    try {
      assert.equal((await other.unary('Status', other.client.status, {})).daemon?.state, 'running');
    } finally {
      other.close();
      await server.stop();
    }
    await assert.rejects(lstat(stale), /ENOENT/, 'stop removes the socket');

    const plain = join(h.dir, 'plain.sock');
    await writeFile(plain, 'not a socket');
    const refused = new AdminServer({ socketPath: plain, backend: h.backend(), logger: h.logger });
    await assert.rejects(refused.start(new AbortController().signal), /exists and is not a socket/);
    assert.equal(await readFile(plain, 'utf8'), 'not a socket');
  });

  test('unknown users, devices and locations are NOT_FOUND and name what was asked', async () => {
    await assert.rejects(c.unary('GetUser', c.client.getUser, { id: '424242' }), refusedWith('NOT_FOUND', /id: no user "424242"/));
    await assert.rejects(c.unary('Plan', c.client.plan, { deviceId: 9999, maxIds: 0 }), refusedWith('NOT_FOUND', /deviceId: no device 9999 \(known: 1001, 1002, 1003\)/));
    const sync = c.stream('Sync', c.client.sync, { location: 'Mars', full: false });
    await assert.rejects(async () => {
      for await (const _ of sync) void _;
    }, refusedWith('NOT_FOUND', /location: no device has location "Mars"/));
    await h.sync.put(makeUser('501'));
    const seq = h.store.currentSeq();
    await assert.rejects(c.unary('DeleteUser', c.client.deleteUser, { ids: ['501', '777001'] }), refusedWith('NOT_FOUND', /"777001".*nothing was deleted/));
    assert.ok(await h.store.getUser('501'), 'the known user was not deleted either');
    assert.equal(h.store.currentSeq(), seq);
  });

  test('invalid users are refused whole, each issue naming its field, and nothing changes', async () => {
    const seq = h.store.currentSeq();
    const count = await h.store.countUsers();
    const bad = { id: '600', name: 'x'.repeat(49), cards: [{ type: 1, data: 'not base64!' }], securityLevel: 9 };
    await assert.rejects(c.unary('SetUser', c.client.setUser, { users: [{ userJson: JSON.stringify(bad), pin: '' }], replace: false }), (error: unknown) => {
      assert.ok(error instanceof AdminCallError);
      assert.equal(error.grpcCodeName, 'INVALID_ARGUMENT');
      assert.equal(error.errorCode, 'ROLLCALL_ERR_ADMIN_REQUEST');
      assert.match(error.message, /^user 600: name: /);
      const fields = error.issues.map((i) => i.field).sort();
      assert.deepEqual(fields, ['cards[0].data', 'name', 'securityLevel']);
      assert.ok(error.issues.every((i) => i.userId === '600'));
      return true;
    });
    await assert.rejects(c.unary('SetUser', c.client.setUser, { users: [{ userJson: '{"id":"601","nmae":"Typo"}', pin: '' }], replace: false }), refusedWith('INVALID_ARGUMENT', /nmae: unknown field/));
    await assert.rejects(c.unary('SetUser', c.client.setUser, { users: [{ userJson: '{"id":"602",', pin: '' }], replace: false }), refusedWith('INVALID_ARGUMENT', /user: is not valid JSON/));
    await assert.rejects(c.unary('SetUser', c.client.setUser, { users: [{ userJson: '{"id":"603","department":"' + 'd'.repeat(65) + '"}', pin: '' }], replace: false }), refusedWith('INVALID_ARGUMENT', /department: at most 64 characters \(got 65\)/));
    // One bad user among good ones: none is written.
    await assert.rejects(
      c.unary('SetUser', c.client.setUser, {
        users: [
          { userJson: JSON.stringify({ id: '604', name: 'Good' }), pin: '' },
          { userJson: JSON.stringify({ id: '605', accessGroups: 'all' }), pin: '' },
        ],
        replace: false,
      }),
      refusedWith('INVALID_ARGUMENT', /1 of 2 users refused, nothing was changed: user 605: accessGroups/),
    );
    assert.equal(h.store.currentSeq(), seq);
    assert.equal(await h.store.countUsers(), count);
    assert.equal(await h.store.getUser('604'), undefined);
  });

  test('other bad requests are INVALID_ARGUMENT naming the field', async () => {
    await assert.rejects(c.unary('SetLogLevel', c.client.setLogLevel, { level: 'loud' }), refusedWith('INVALID_ARGUMENT', /^level: must be one of fatal, error/));
    await assert.rejects(c.unary('ListUsers', c.client.listUsers, { after: '', limit: 20_000, foreignPinHash: false }), refusedWith('INVALID_ARGUMENT', /^limit: must be from 1 to 10000/));
    await assert.rejects(c.unary('Events', c.client.events, { sinceMs: 2000, untilMs: 1000, limit: 0 }), refusedWith('INVALID_ARGUMENT', /^untilMs: must be after sinceMs/));
    const exported = c.stream('Export', c.client.export, { format: 'xml', download: false });
    await assert.rejects(async () => {
      for await (const _ of exported) void _;
    }, refusedWith('INVALID_ARGUMENT', /^format: must be csv or datafile/));
    const sync = c.stream('Sync', c.client.sync, { userId: '1', deviceId: 1001, full: false });
    await assert.rejects(async () => {
      for await (const _ of sync) void _;
    }, refusedWith('INVALID_ARGUMENT', /^userId: .*cannot be combined/));
    const imported = c.importStream({ name: '../escape.csv', size: 3 }, (async function* () {
      yield Buffer.from('a,b');
    })());
    await assert.rejects(async () => {
      for await (const _ of imported) void _;
    }, refusedWith('INVALID_ARGUMENT', /^name: must be a file name without a folder/));
  });

  test('an oversized request is refused and the server goes on', async () => {
    const huge = JSON.stringify({ id: '700', name: 'x'.repeat(5 * 1024 * 1024) });
    await assert.rejects(c.unary('SetUser', c.client.setUser, { users: [{ userJson: huge, pin: '' }], replace: false }), refusedWith('RESOURCE_EXHAUSTED', /larger than max/i));
    assert.equal(await h.store.getUser('700'), undefined);
    assert.equal((await c.unary('Status', c.client.status, {})).daemon?.state, 'running');
  });

  test('a PIN is hashed by the gateway; the plaintext is nowhere: not in the store, logs or answers', async () => {
    const pin = '90817263';
    const response = await c.unary('SetUser', c.client.setUser, { users: [{ userJson: JSON.stringify({ id: '800', name: 'Pin Holder', department: 'Ops' }), pin }], replace: false });
    assert.deepEqual(response.users, [{ id: '800', created: true, changed: true }]);
    const stored = await h.store.getUser('800');
    assert.equal(stored?.pinHash, await h.sync.transport.hashPin(pin));
    const { userJson } = await c.unary('GetUser', c.client.getUser, { id: '800' });
    assert.ok(!userJson.includes(stored!.pinHash!), 'the hash is not sent to clients');
    const view = JSON.parse(userJson) as UserView;
    assert.equal(view.credentials.pin, true);
    assert.equal(view.department, 'Ops');
    // A bad PIN is refused without echoing it.
    await assert.rejects(c.unary('SetUser', c.client.setUser, { users: [{ userJson: '{"id":"801"}', pin: '12ab5678' }], replace: false }), (error: unknown) => {
      assert.ok(error instanceof AdminCallError);
      assert.match(error.message, /pin: must be 4 to 16 digits \(the value is not shown\)/);
      assert.ok(!error.message.includes('12ab5678'));
      return true;
    });
    await h.sync.until('user 800 on every device', async () => [1001, 1002, 1003].every((d) => h.sync.onDevice(d).has('800')));
    for (const file of await filesUnder(h.sync.stored.dir)) {
      assert.ok(!(await readFile(file)).includes(pin), `plaintext PIN found in ${file}`);
    }
    assert.ok(!h.logLines.join('\n').includes(pin), 'plaintext PIN found in the logs');
    assert.ok(!h.logLines.join('\n').includes('12ab5678'), 'refused PIN found in the logs');
  });

  test('changes through the API are committed with origin admin and written to the event log', async () => {
    await c.unary('SetUser', c.client.setUser, { users: [{ userJson: JSON.stringify({ id: '900', name: 'Eve' }), pin: '' }], replace: false });
    const again = await c.unary('SetUser', c.client.setUser, { users: [{ userJson: JSON.stringify({ id: '900', name: 'Eve' }), pin: '' }], replace: false });
    assert.deepEqual(again.users, [{ id: '900', created: false, changed: false }], 'setting the same values writes nothing');
    const changes = await h.store.changesSince(0);
    const change = changes.find((x) => x.userId === '900');
    assert.equal(change?.origin.kind, 'admin');
    const { events } = await c.unary('Events', c.client.events, { userId: '900', limit: 0 });
    assert.deepEqual(events.map((e) => [e.kind, e.message]), [['user.update.server', 'User update succeeded (Server)']]);
    const detail = JSON.parse(events[0]!.detailJson) as { fields: string[]; created: boolean; source: string };
    assert.deepEqual(detail, { ...detail, fields: ['name'], created: true, source: 'admin' });
  });

  test('follow sends the backlog, then events written after it started, and ends when cancelled', async () => {
    await h.store.commit([{ type: 'appendEvent', event: { kind: 'user.update.device', message: 'before', userId: '901' } }]);
    const stream = c.stream('FollowEvents', c.client.followEvents, { userId: '901', backlog: 5 });
    const seen: Event[] = [];
    for await (const event of stream) {
      seen.push(event);
      // The backlog has come, so the follow is under way: what is written now is new.
      if (seen.length === 1) await c.unary('SetUser', c.client.setUser, { users: [{ userJson: JSON.stringify({ id: '901', name: 'Followed' }), pin: '' }], replace: false });
      if (seen.length === 2) stream.cancel();
    }
    assert.deepEqual(seen.map((e) => [e.kind, e.userId]), [['user.update.device', '901'], ['user.update.server', '901']]);
  });

  test('verify streams one result per device', async () => {
    const stream = c.stream('Verify', c.client.verify, { deep: true });
    const updates: VerifyUpdate[] = [];
    for await (const update of stream) updates.push(update);
    assert.equal(updates[0]?.update?.$case, 'started');
    const checks = updates.flatMap((u) => (u.update?.$case === 'check' ? [u.update.value] : []));
    assert.deepEqual(checks.map((x) => x.deviceId).sort(), [1001, 1002, 1003]);
    assert.ok(checks.every((x) => x.method === 'deep' && x.error === ''));
  });

  test('a stop ends a follow with UNAVAILABLE and removes the socket', async () => {
    const path = join(h.dir, 'stopping.sock');
    const server = new AdminServer({ socketPath: path, backend: h.backend(), logger: h.logger, followPollMs: 20 });
    await server.start(new AbortController().signal);
    const client = await AdminConnection.open(path);
    try {
      const stream = client.stream('FollowEvents', client.client.followEvents, { backlog: 1 });
      const done = (async () => {
        for await (const _ of stream) await server.stop();
      })();
      await assert.rejects(done, (error: unknown) => error instanceof DaemonUnavailable && /the daemon is stopping/.test(error.message));
    } finally {
      client.close();
      await server.stop();
    }
    await assert.rejects(lstat(path), /ENOENT/);
  });

  test('a store that is closed is FAILED_PRECONDITION, not a crash', async () => {
    const closed = await AdminHarness.start({ devices: [{ id: 1101 }] });
    const client = await AdminConnection.open(closed.socketPath);
    try {
      await closed.sync.stored.store.stop();
      await assert.rejects(client.unary('GetUser', client.client.getUser, { id: '1' }), refusedWith('FAILED_PRECONDITION', /not open|closed/i));
      assert.equal((await client.unary('Status', client.client.status, {})).store?.open, false);
    } finally {
      client.close();
      await closed.stop();
    }
    await assert.rejects(stat(closed.socketPath), /ENOENT/);
    await assert.rejects(AdminConnection.open(closed.socketPath), (error: unknown) => error instanceof DaemonUnavailable);
  });
});
