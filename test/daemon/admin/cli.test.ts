/**
 * Every client command as a real child process against a running admin server over real
 * parts, with --json parsed, and the exit codes of the README. Device events are not
 * followed here (as if lost), so a change made at a device stays a difference until a
 * check: that makes `verify` and `plan` see something to report.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceConfig } from '../../../daemon/config/schema.js';
import type { UserView } from '../../../daemon/admin/user-view.js';
import { AdminHarness, cliEntry } from './admin-harness.js';
import { repoRoot } from '../../helpers/daemon-process.js';

const device = (id: number, extra: Partial<DeviceConfig> = {}): DeviceConfig => ({ id, port: 51211, useSSL: false, accessGroups: [], ...extra });

interface ErrorBody {
  error: { code: string | null; status: string; message: string; issues: { field: string; rule: string; message: string }[] };
}

describe('rollcall client commands', () => {
  let h: AdminHarness;
  const ids = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => String(from + i));

  before(async () => {
    h = await AdminHarness.start({
      followEvents: false,
      deviceConfig: [device(1001, { name: 'Front door', location: 'Lobby' }), device(1002, { location: 'Lobby' }), device(1003, { location: 'Dock' })],
    });
    await h.sync.until('devices checked', () => h.sync.engine.status().every((d) => d.lastCheck !== undefined));
  });

  after(async () => {
    await h?.stop();
  });

  test('status and devices', async () => {
    const [status, devices, human] = await Promise.all([h.json(['status'], { child: true }), h.json<{ devices: Record<string, unknown>[] }>(['devices'], { child: true }), h.local(['devices'])]);
    assert.equal(status.code, 0);
    const s = status.body as { daemon: Record<string, unknown>; store: Record<string, unknown>; sync: Record<string, unknown>; plugins: unknown[]; ready: boolean };
    assert.equal(s.daemon.state, 'running');
    assert.equal(s.daemon.pid, process.pid);
    assert.equal(typeof s.daemon.uptimeSeconds, 'number');
    assert.deepEqual(Object.keys(s).sort(), ['cluster', 'daemon', 'pendingDevices', 'plugins', 'ready', 'store', 'sync']);
    // One instance on a store one process opens: it holds every device.
    const cluster = (status.body as { cluster: { shared: boolean; instances: { self: boolean; live: boolean; devices: number[] }[] } }).cluster;
    assert.equal(cluster.shared, false);
    assert.deepEqual(cluster.instances.map((i) => [i.self, i.live, i.devices]), [[true, true, [1001, 1002, 1003]]]);
    assert.equal(s.store.open, true);
    assert.equal(s.sync.mode, 'all-devices');
    assert.equal(s.sync.devices, 3);
    assert.equal(s.ready, true);
    assert.equal(devices.code, 0);
    assert.deepEqual(devices.body.devices.map((d) => [d.id, d.name, d.location, d.connected]), [
      [1001, 'Front door', 'Lobby', true],
      [1002, null, 'Lobby', true],
      [1003, null, 'Dock', true],
    ]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^DEVICE +NAME +LOCATION/);
    assert.match(human.stdout, /1001 +Front door +Lobby +yes/);
  });

  test('users set, show, list and delete', async () => {
    const [emptyPin, withPin] = await Promise.all([
      h.json<ErrorBody>(['users', 'set', '2009', '--name', 'No Pin', '--pin', '-']),
      h.cli(['users', 'set', '2001', '--name', 'Ada Lovelace', '--department', 'Eng', '--csn', '123456', '--access-groups', '1,2', '--end', '2030-12-31', '--pin', '-', '--json'], { stdin: '4711\n' }),
    ]);
    assert.equal(emptyPin.code, 64, 'an empty PIN from stdin is refused');
    assert.match(emptyPin.body.error.message, /no PIN on stdin/);
    assert.equal(await h.store.getUser('2009'), undefined);
    assert.equal(withPin.code, 0, withPin.stdout + withPin.stderr);
    assert.deepEqual(JSON.parse(withPin.stdout), { users: [{ id: '2001', created: true, changed: true }], seq: h.store.currentSeq() });
    const stored = await h.store.getUser('2001');
    assert.equal(stored?.pinHash, await h.sync.transport.hashPin('4711'));

    const [shown, humanShow, invalid, invalidHuman] = await Promise.all([
      h.json<UserView>(['users', 'show', '2001'], { child: true }),
      h.local(['users', 'show', '2001']),
      h.json<ErrorBody>(['users', 'set', '2002', '--name', 'N'.repeat(49)], { child: true }),
      h.local(['users', 'set', '2002', '--email', 'not-an-address']),
    ]);
    assert.equal(shown.code, 0);
    assert.equal(shown.body.name, 'Ada Lovelace');
    assert.equal(shown.body.department, 'Eng');
    assert.deepEqual(shown.body.accessGroups, [1, 2]);
    assert.deepEqual(shown.body.credentials, { cards: [{ type: 1, typeName: 'CSN' }], fingers: 0, faces: 0, pin: true, photo: false });
    assert.equal(new Date(shown.body.endTime * 1000).getDate(), 31);
    assert.ok(!JSON.stringify(shown.body).includes(stored!.pinHash!), 'no PIN hash in the output');
    assert.ok(!JSON.stringify(shown.body).includes(stored!.cards[0]!.data), 'no card data in the output');
    assert.match(humanShow.stdout, /name: +Ada Lovelace/);
    assert.match(humanShow.stdout, /PIN: +set/);

    assert.equal(invalid.code, 64);
    assert.equal(invalid.body.error.status, 'INVALID_ARGUMENT');
    assert.deepEqual(invalid.body.error.issues.map((i) => i.field), ['name']);
    assert.match(invalid.body.error.message, /^user 2002: name: /);
    assert.equal(await h.store.getUser('2002'), undefined);
    assert.equal(invalidHuman.code, 64);
    assert.match(invalidHuman.stderr, /rollcall: user 2002: email: is not an email address/);

    const file = join(h.dir, 'users.yaml');
    await writeFile(file, ['- id: "2003"', '  name: Grace', '  pin: "0042"', '- id: "2004"', '  name: Linus', '  disabled: true', ''].join('\n'));
    const fromFile = await h.json<{ users: { id: string; created: boolean }[] }>(['users', 'set', '--file', file]);
    assert.equal(fromFile.code, 0, JSON.stringify(fromFile.body));
    assert.deepEqual(fromFile.body.users.map((u) => [u.id, u.created]), [['2003', true], ['2004', true]]);
    assert.equal((await h.store.getUser('2003'))?.pinHash, await h.sync.transport.hashPin('0042'));
    assert.equal((await h.store.getUser('2004'))?.disabled, true);
    const unquotedFile = join(h.dir, 'unquoted.yaml');
    await writeFile(unquotedFile, 'id: "2005"\npin: 1234\n');
    const [unquoted, missing, page, all, humanList] = await Promise.all([
      h.json<ErrorBody>(['users', 'set', '--file', unquotedFile]),
      h.json<ErrorBody>(['users', 'set', '--file', join(h.dir, 'nope.yaml')]),
      h.json<{ users: UserView[]; next: string | null; total: number }>(['users', 'list', '--limit', '2'], { child: true }),
      h.json<{ users: UserView[]; next: string | null; total: number }>(['users', 'list', '--all', '--limit', '2']),
      h.local(['users', 'list']),
    ]);
    assert.equal(unquoted.code, 64);
    assert.match(unquoted.body.error.message, /pin: write the PIN as a quoted string/);
    assert.equal(missing.code, 66);
    assert.equal(page.code, 0);
    assert.deepEqual(page.body.users.map((u) => u.id), ['2001', '2003']);
    assert.equal(page.body.next, '2003');
    assert.equal(page.body.total, 3);
    assert.deepEqual(all.body.users.map((u) => u.id), ['2001', '2003', '2004']);
    assert.equal(all.body.next, null);
    assert.match(humanList.stdout, /^ID +NAME +DEPARTMENT/);
    assert.match(humanList.stdout, /users 1-3 of 3/);

    const unknown = await h.json<ErrorBody>(['users', 'delete', '2004', '9999']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.body.error.status, 'NOT_FOUND');
    assert.ok(await h.store.getUser('2004'));
    const deleted = await h.json<{ deleted: string[] }>(['users', 'delete', '2004'], { child: true });
    assert.equal(deleted.code, 0);
    assert.deepEqual(deleted.body.deleted, ['2004']);
    assert.equal(await h.store.getUser('2004'), undefined);
    const gone = await h.json<ErrorBody>(['users', 'show', '2004']);
    assert.equal(gone.code, 1);
    assert.match(gone.body.error.message, /no user "2004"/);
  });

  test('sync, verify, plan: a difference is found, planned and repaired', async () => {
    await h.sync.put(...ids(3001, 5).map((id) => ({ ...h.sync.onDevice(1001).get('2001')!, id, name: `User ${id}`, cards: [], pinHash: undefined })));
    for (const d of [1001, 1002, 1003]) await h.sync.until(`device ${d} has the users`, () => h.sync.onDevice(d).has('3005'));

    const [all, lobby, user, clean] = await Promise.all([
      h.json<{ released: number[]; full: boolean; checks: unknown[]; user: unknown }>(['sync'], { child: true }),
      h.json<{ released: number[] }>(['sync', '--location', 'Lobby']),
      h.json<{ user: { id: string; inDatabase: boolean; enrolled: number[]; failed: unknown[] } }>(['sync', '--user', '3001']),
      h.json<{ inSync: boolean; checks: { deviceId: number; inSync: boolean }[] }>(['verify'], { child: true }),
    ]);
    assert.equal(all.code, 0);
    assert.deepEqual(all.body, { released: [1001, 1002, 1003], full: false, checks: [], user: null });
    assert.deepEqual(lobby.body.released, [1001, 1002]);
    assert.equal(user.code, 0);
    assert.deepEqual(user.body.user, { id: '3001', inDatabase: true, enrolled: [1001, 1002, 1003], removed: [], failed: [] });

    assert.equal(clean.code, 0, JSON.stringify(clean.body));
    assert.equal(clean.body.inSync, true);
    assert.deepEqual(clean.body.checks.map((c) => c.deviceId), [1001, 1002, 1003]);

    // A person deletes a user at device 1003; the event is lost (not followed here).
    h.sync.sim.device(1003).deleteAtDevice(['3002']);
    const [differs, humanVerify, plan, humanPlan] = await Promise.all([
      h.json<{ deep: boolean; inSync: boolean; checks: { deviceId: number; inSync: boolean; differences: number; error: string | null }[] }>(['verify', '--device', '1003', '--deep'], { child: true }),
      h.local(['verify', '--device', '1003']),
      h.json<{ devices: { deviceId: number; connected: boolean; enroll: { count: number; ids: string[] }; remove: { count: number } }[] }>(['plan'], { child: true }),
      h.local(['plan', '--device', '1003']),
    ]);
    assert.equal(differs.code, 2, 'differences found: exit 2');
    assert.deepEqual(differs.body, { deep: true, inSync: false, checks: [{ deviceId: 1003, method: 'deep', inSync: false, differences: 1, enrolled: 0, removed: 0, held: 0, leftAlone: 0, error: null, leftOff: [] }] });
    assert.ok(!h.sync.onDevice(1003).has('3002'), 'verify changes nothing');
    assert.equal(humanVerify.code, 2);
    assert.match(humanVerify.stdout, /1003 +headers +DIFFERENT +1/);

    assert.equal(plan.code, 0);
    const p1003 = plan.body.devices.find((d) => d.deviceId === 1003)!;
    assert.deepEqual(p1003.enroll, { count: 1, ids: ['3002'] });
    assert.equal(p1003.remove.count, 0);
    assert.ok(plan.body.devices.filter((d) => d.deviceId !== 1003).every((d) => d.enroll.count === 0 && d.remove.count === 0));
    assert.match(humanPlan.stdout, /device 1003:\n {2}enroll 1: 3002/);

    const repaired = await h.json<{ full: boolean; checks: { deviceId: number; inSync: boolean; enrolled: number }[] }>(['sync', '--device', '1003', '--full']);
    assert.equal(repaired.code, 0, JSON.stringify(repaired.body));
    assert.deepEqual(repaired.body.checks.map((c) => [c.deviceId, c.inSync, c.enrolled]), [[1003, true, 1]]);
    assert.ok(h.sync.onDevice(1003).has('3002'));

    const [unknownDevice, usage] = await Promise.all([h.json<ErrorBody>(['verify', '--device', '9999']), h.local(['sync', '--user', '3001', '--device', '1001'])]);
    assert.equal(unknownDevice.code, 1);
    assert.equal(unknownDevice.body.error.status, 'NOT_FOUND');
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /--user .* cannot be combined/);
  });

  test('confirm releases a held mass removal', async () => {
    const many = ids(4001, 40);
    await h.sync.put(...many.map((id) => ({ ...(h.sync.onDevice(1001).get('3001')!), id, name: `Bulk ${id}`, cards: [], pinHash: undefined })));
    for (const d of [1001, 1002, 1003]) await h.sync.until(`device ${d} has the bulk users`, () => h.sync.onDevice(d).has('4040'));
    const removed = await h.json<{ deleted: string[] }>(['users', 'delete', ...many.slice(0, 30)]);
    assert.equal(removed.code, 0);
    await h.sync.until('removals held', () => h.sync.engine.status().every((d) => d.heldRemoval !== undefined));
    const devices = await h.json<{ devices: { id: number; heldRemoval: { removals: number } | null }[] }>(['devices']);
    assert.deepEqual(devices.body.devices.map((d) => d.heldRemoval?.removals), [30, 30, 30]);
    const confirmed = await h.json<{ released: { deviceId: number; removals: number }[] }>(['confirm', '--device', '1001'], { child: true });
    assert.equal(confirmed.code, 0);
    assert.deepEqual(confirmed.body, { released: [{ deviceId: 1001, removals: 30 }] });
    await h.sync.until('1001 removed them', () => !h.sync.onDevice(1001).has('4001'));
    assert.ok(h.sync.onDevice(1002).has('4001'), 'only the confirmed device removed them');
    const rest = await h.json<{ released: { deviceId: number }[] }>(['confirm']);
    assert.deepEqual(rest.body.released.map((r) => r.deviceId), [1002, 1003]);
    const none = await h.local(['confirm']);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /no removals were held/);
  });

  test('import and export', async () => {
    const csv = join(h.dir, 'staff.csv');
    await writeFile(csv, 'user_id,name,department\r\n5001,Ana Silva,Sales\r\n5002,Bo Chen,R&D\r\n0,Zero,Bad\r\n');
    const imported = await h.json<{ file: string; state: string; rows: Record<string, number>; errorsCsv: string | null }>(['import', csv], { child: true });
    assert.equal(imported.code, 2, 'a row failed: exit 2');
    assert.equal(imported.body.file, 'staff.csv');
    assert.equal(imported.body.state, 'done');
    assert.deepEqual(imported.body.rows, { imported: 2, unchanged: 0, failed: 1 });
    assert.ok(imported.body.errorsCsv);
    assert.equal((await h.store.getUser('5001'))?.department, 'Sales');
    const again = await h.json<{ state: string }>(['import', csv]);
    assert.equal(again.code, 0);
    assert.equal(again.body.state, 'duplicate');

    const broken = join(h.dir, 'broken.csv');
    await writeFile(broken, Buffer.concat([Buffer.from('user_id,name\r\n5003,'), Buffer.from([0xc3, 0x28]), Buffer.from('\r\n')]));
    const refused = await h.json<{ state: string; reason: string | null }>(['import', broken], { child: true });
    assert.equal(refused.code, 1, 'a refused file: exit 1');
    assert.equal(refused.body.state, 'failed');
    assert.ok(refused.body.reason);
    const [wrongKind, absent] = await Promise.all([h.json<ErrorBody>(['import', join(repoRoot, 'package.json')]), h.json<ErrorBody>(['import', join(h.dir, 'absent.csv')])]);
    assert.equal(wrongKind.code, 64);
    assert.match(wrongKind.body.error.message, /no watcher takes a file named "package.json"/);
    assert.equal(absent.code, 66);

    const out = join(h.dir, 'export.csv');
    const exported = await h.json<{ format: string; users: number; bytes: number; file: string; where: string }>(['export', '--format', 'csv', '--out', out], { child: true });
    assert.equal(exported.code, 0, JSON.stringify(exported.body));
    assert.equal(exported.body.where, 'local');
    assert.equal(exported.body.file, out);
    assert.equal(exported.body.users, await h.store.countUsers());
    const text = await readFile(out, 'utf8');
    assert.equal(Buffer.byteLength(text), exported.body.bytes);
    assert.match(text, /5001,Ana Silva,Sales/);
    const inOutgoing = await h.json<{ file: string; where: string }>(['export', '--format', 'datafile']);
    assert.equal(inOutgoing.code, 0, JSON.stringify(inOutgoing.body));
    assert.equal(inOutgoing.body.where, 'daemon');
    assert.ok(inOutgoing.body.file.startsWith(join(h.dir, 'spool', 'outgoing')));
    assert.ok((await stat(inOutgoing.body.file)).size > 0);
    assert.equal((await stat(inOutgoing.body.file)).mode & 0o077, 0, 'a data file in outgoing/ is for the daemon\'s user alone');
    const downloaded = join(h.dir, 'export.tgz');
    const fetched = await h.json<{ file: string }>(['export', '--format', 'datafile', '--out', downloaded], { child: true });
    assert.equal(fetched.code, 0, JSON.stringify(fetched.body));
    assert.equal((await stat(downloaded)).mode & 0o077, 0, 'a downloaded data file is for the caller alone');
  });

  test('events, and events --follow until Ctrl-C', async () => {
    const [recent, since, badSince] = await Promise.all([
      h.json<{ events: { kind: string; userId: string | null; at: string }[]; more: boolean }>(['events', '--user', '2001'], { child: true }),
      h.json<{ events: { kind: string }[] }>(['events', '--since', '1h', '--kind', 'import.']),
      h.json<ErrorBody>(['events', '--since', 'last tuesday']),
    ]);
    assert.equal(recent.code, 0);
    assert.deepEqual(recent.body.events.map((e) => e.kind), ['user.update.server']);
    assert.ok(!Number.isNaN(Date.parse(recent.body.events[0]!.at)));
    assert.deepEqual([...new Set(since.body.events.map((e) => e.kind))].sort(), ['import.done', 'import.duplicate', 'import.failed']);
    assert.equal(badSince.code, 64);

    await h.sync.put({ ...(await h.store.getUser('3001'))!, id: '6001', name: 'Followed' });
    await h.store.commit([{ type: 'appendEvent', event: { kind: 'user.update.device', message: 'before following', userId: '6001' } }]);
    const child = spawn(process.execPath, [cliEntry, 'events', '--follow', '--user', '6001', '--json', '--socket', h.socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let buffer = '';
    let waiter: (() => void) | undefined;
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
        buffer = buffer.slice(nl + 1);
        waiter?.();
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const lineCount = (n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (lines.length >= n) resolve();
        };
        waiter = check;
        check();
        void exited.then(() => reject(new Error(`the follower exited with ${lines.length} lines`)));
      });
    try {
      await lineCount(1);
      assert.equal(lines[0]!.kind, 'user.update.device', 'the backlog comes first');
      await h.store.commit([{ type: 'appendEvent', event: { kind: 'user.update.device', message: 'while following', userId: '6001' } }]);
      await lineCount(2);
      assert.equal(lines[1]!.message, 'while following');
      child.kill('SIGINT');
      assert.equal(await exited, 0, 'Ctrl-C ends a follow cleanly');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('log-level', async () => {
    const set = await h.json<{ level: string; previous: string }>(['log-level', 'info'], { child: true });
    assert.equal(set.code, 0);
    assert.deepEqual(set.body, { level: 'info', previous: 'debug' });
    assert.equal(h.logger.level, 'info');
    const wrong = await h.json<ErrorBody>(['log-level', 'loud']);
    assert.equal(wrong.code, 64);
    assert.deepEqual(wrong.body.error.issues.map((i) => i.field), ['level']);
    await h.json(['log-level', 'debug']);
  });

  test('the socket is found from --config, $ROLLCALL_SOCKET or --socket; no daemon is exit 69', async () => {
    const config = join(h.dir, 'rollcall.yaml');
    await writeFile(config, 'admin:\n  socket: run/rollcall.sock\n');
    const [fromConfig, fromEnv, none, human, badConfig] = await Promise.all([
      h.local(['status', '--json', '--config', config], { socket: false }),
      h.local(['status', '--json'], { socket: false, env: { ROLLCALL_SOCKET: h.socketPath } }),
      h.cli(['status', '--json', '--socket', join(h.dir, 'nothing.sock')], { socket: false }),
      h.local(['devices', '--socket', join(h.dir, 'nothing.sock')], { socket: false }),
      h.local(['status', '--config', join(h.dir, 'missing.yaml')], { socket: false }),
    ]);
    assert.equal(fromConfig.code, 0, fromConfig.stdout + fromConfig.stderr);
    assert.equal(fromEnv.code, 0, fromEnv.stdout + fromEnv.stderr);
    assert.equal(none.code, 69);
    assert.equal((JSON.parse(none.stdout) as ErrorBody).error.status, 'UNAVAILABLE');
    assert.equal(human.code, 69);
    assert.match(human.stderr, /the daemon is not running: there is no admin socket at .*nothing\.sock/);
    assert.equal(badConfig.code, 78);
  });
});
