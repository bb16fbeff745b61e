/**
 * Several instances, one fleet, as processes: three `rollcall run` on one PostgreSQL schema
 * (a real server) and one `rollcall sim` (12 devices) in its own process. The devices are
 * split 4/4/4 by leases; `rollcall status` shows each instance with its devices. SIGKILL one:
 * its devices are taken over by the two others and get every change. SIGSTOP another past its
 * lease: the last one serves all 12; SIGCONT it: it finds its leases gone, writes nothing for
 * them, and takes its share back.
 *
 * Throughout, a trigger on the `cursors` and `devices` tables records, for every write of a
 * device's cursor or record, which process wrote it (application_name rollcall/<pid>) and who
 * held the device's lease at that moment: the test ends by proving that no process ever wrote
 * a device it did not hold the live lease of (the fence inside the commit), and, from the
 * simulator's log of who called each device against the lease history, that none called one
 * either (test/helpers/lease-history.ts). Waits are for conditions (bounded by the test's
 * timeout), never for a time.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { emptyUser } from '../../daemon/model/user.js';
import { runCli } from '../helpers/daemon-process.js';
import { endClusterInstances, liveLeaseOwners, sharesAre, startClusterInstances, until, type ClusterInstance } from '../helpers/cluster-instances.js';
import { checkLeasePeriods, readLeaseHistory, recordLeaseHistory } from '../helpers/lease-history.js';
import { postgresSkipReason, startPostgresServer } from '../helpers/postgres-server.js';
import { freshSchema, postgresConfig, postgresStore } from '../helpers/postgres-stores.js';
import { SimProcess } from '../helpers/sim-process.js';

const DEVICES = 12;
const FIRST_ID = 500;
const TTL_MS = 4000;
const RENEW_MS = 1000;

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('several instances on postgres', { skip }, () => {});
} else {
  const server = await startPostgresServer();
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-cluster-'));
  const sim = await SimProcess.start(DEVICES, FIRST_ID);
  const instances: ClusterInstance[] = [];
  after(async () => {
    await endClusterInstances(instances);
    await sim.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('three instances split 12 devices; SIGKILL one and SIGSTOP another: their devices are served by the others, and no one writes a device it does not hold', { timeout: 300_000 }, async () => {
    const schema = freshSchema();
    // The schema first (a store opens it and migrates), then the write audit on it.
    const writer = postgresStore(postgresConfig(server, schema));
    await writer.start();
    await server.query(`
      CREATE TABLE ${schema}.write_audit (app text, device_id bigint, owner text, live boolean, at timestamptz DEFAULT clock_timestamp());
      CREATE FUNCTION ${schema}.audit_device_write() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE d bigint; l record;
      BEGIN
        IF TG_TABLE_NAME = 'cursors' THEN d := NEW.device_id; ELSE d := NEW.id; END IF;
        SELECT owner, expires_at > clock_timestamp() AS live INTO l FROM ${schema}.leases WHERE device_id = d;
        INSERT INTO ${schema}.write_audit (app, device_id, owner, live) VALUES (current_setting('application_name'), d, l.owner, l.live);
        RETURN NEW;
      END $$;
      CREATE TRIGGER audit_cursor AFTER INSERT OR UPDATE ON ${schema}.cursors FOR EACH ROW EXECUTE FUNCTION ${schema}.audit_device_write();
      CREATE TRIGGER audit_device AFTER INSERT OR UPDATE ON ${schema}.devices FOR EACH ROW EXECUTE FUNCTION ${schema}.audit_device_write();
    `);
    const put = async (id: string): Promise<void> => {
      await writer.commit([{ type: 'putUser', user: { ...emptyUser(id), name: `user ${id}` }, origin: { kind: 'admin' } }]);
    };
    const owners = (): Promise<Map<number, string>> => liveLeaseOwners(server, schema);
    const everyDeviceHas = (userId: string) => async (): Promise<true | undefined> => {
      for (const id of sim.deviceIds) if (!(await sim.users(id)).some((u) => u.hdr?.ID === userId)) return undefined;
      return true;
    };
    const balanced = (expected: Record<string, number>) => async (): Promise<true | undefined> => ((await sharesAre(server, schema, expected)) ? true : undefined);

    await recordLeaseHistory(server, schema);
    await put('1001');
    instances.push(...(await startClusterInstances({ dir, server, schema, gateway: sim.address, leaseTtlMs: TTL_MS, renewIntervalMs: RENEW_MS }, ['a', 'b', 'c'])));
    const [a, b, c] = instances as [ClusterInstance, ClusterInstance, ClusterInstance];
    const pidOf = new Map(instances.map((i) => [`rollcall/${i.daemon.child.pid}`, i.id]));

    // 1. Split fairly: ceil(12 / 3) = 4 each, and every device got the user.
    await until('4 devices per instance', balanced({ a: 4, b: 4, c: 4 }), instances);
    await until('every device holds the first user', everyDeviceHas('1001'), instances);
    // status shows the leases as a read them last (every renew interval): the others' takes may come a round later.
    type Cluster = { instanceId: string; shared: boolean; instances: { id: string; live: boolean; self: boolean; devices: number[] }[] };
    const cluster = await until('a\'s status shows 4 devices under each instance', async () => {
      const status = await runCli(['status', '--json', '--config', a.config]);
      assert.equal(status.code, 0, status.stderr);
      const view = (JSON.parse(status.stdout) as { cluster: Cluster }).cluster;
      return view.instances.every((i) => i.devices.length === 4) ? view : undefined;
    }, instances);
    assert.equal(cluster.instanceId, 'a');
    assert.equal(cluster.shared, true);
    assert.deepEqual(cluster.instances.map((i) => [i.id, i.live, i.self, i.devices.length]), [
      ['a', true, true, 4],
      ['b', true, false, 4],
      ['c', true, false, 4],
    ]);
    const listed = new Set(cluster.instances.flatMap((i) => i.devices));
    assert.equal(listed.size, DEVICES, 'every device under one instance');
    const devicesText = await runCli(['devices', '--config', b.config]);
    assert.equal(devicesText.code, 0, devicesText.stderr);
    assert.match(devicesText.stdout, /INSTANCE/);
    for (const id of ['a', 'b', 'c']) assert.match(devicesText.stdout, new RegExp(`\\b${id}\\s*$`, 'm'));
    // verify through one instance checks the devices it holds; one held by another is refused with the holder's name.
    const aVerify = await runCli(['verify', '--json', '--config', a.config]);
    assert.equal(aVerify.code, 0, aVerify.stdout + aVerify.stderr);
    const aOwn = [...(await owners())].filter(([, o]) => o === 'a').map(([d]) => d).sort((x, y) => x - y);
    assert.deepEqual((JSON.parse(aVerify.stdout) as { checks: { deviceId: number }[] }).checks.map((ch) => ch.deviceId), aOwn);
    const bDevice = [...(await owners())].find(([, o]) => o === 'b')![0];
    const elsewhere = await runCli(['verify', '--device', String(bDevice), '--config', a.config]);
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, new RegExp(`device ${bDevice} is served by instance b`));

    // 2. SIGKILL a: b and c take its devices (6 each) and serve them.
    const aHeld = [...(await owners())].filter(([, o]) => o === 'a').map(([d]) => d);
    a.killed = true;
    a.daemon.child.kill('SIGKILL');
    await a.daemon.exited;
    await until('a\'s devices taken by b and c', balanced({ b: 6, c: 6 }), instances);
    await put('1002');
    await until('every device holds the user committed after the kill', everyDeviceHas('1002'), instances);
    const now = await owners();
    assert.ok(aHeld.every((d) => now.get(d) === 'b' || now.get(d) === 'c'));

    // 3. SIGSTOP b past its lease: c serves all 12 meanwhile.
    const bPid = b.daemon.child.pid!;
    process.kill(bPid, 'SIGSTOP');
    await until('b\'s devices taken by c', balanced({ c: 12 }), instances);
    await put('1003');
    await until('every device holds the user committed while b was stopped', everyDeviceHas('1003'), instances);
    // 4. SIGCONT: b finds its leases gone, and takes its share back from c, which gives it.
    process.kill(bPid, 'SIGCONT');
    await b.daemon.waitForLine((line) => typeof line['msg'] === 'string' && /^lost the lease of devices? .*(expired or taken)/.test(line['msg'] as string), 60_000);
    await until('b and c share again', balanced({ b: 6, c: 6 }), instances);
    await put('1004');
    await until('every device holds the user committed after b came back', everyDeviceHas('1004'), instances);

    // 5. No write of a device's cursor or record by a process that did not hold its live lease.
    const audit = (await server.query(`SELECT app, device_id, owner, live FROM ${schema}.write_audit ORDER BY at`)).rows as { app: string; device_id: string; owner: string | null; live: boolean | null }[];
    const byInstance = audit.filter((row) => pidOf.has(row.app));
    assert.ok(byInstance.length > DEVICES, `the instances wrote device state (${byInstance.length} writes)`);
    // A device first found on the gateway is recorded before anyone leases it (no lease row yet).
    const violations = byInstance.filter((row) => row.owner !== null || row.live !== null).filter((row) => row.owner !== pidOf.get(row.app) || row.live !== true);
    const trail = audit.map((row) => `${pidOf.get(row.app) ?? row.app}:${row.device_id}:${row.owner ?? '-'}:${row.live ?? '-'}`).join(' ');
    assert.deepEqual(violations, [], `every write of a leased device was made by its live owner (writer:device:owner:live, in order: ${trail})`);
    // b did try: its stale work was refused inside the commit, or never started.
    const bLines = b.daemon.lines.filter((line) => typeof line['msg'] === 'string' && /lost the lease/.test(line['msg'] as string));
    assert.ok(bLines.length > 0);

    // 6. No device called by two instances in one lease period, nor by one without its live lease (simulator's caller log).
    const calls = checkLeasePeriods(await readLeaseHistory(server, schema), await sim.callers(sim.deviceIds));
    assert.equal(calls.devices, DEVICES);
    assert.ok(calls.handedOver >= aHeld.length, 'a\'s devices were called by their new owners');
    assert.deepEqual(calls.twoInstances, []);
    assert.deepEqual(calls.outsideOwnLease, []);

    for (const i of [b, c]) {
      i.killed = true;
      i.daemon.child.kill('SIGTERM');
      assert.deepEqual(await i.daemon.exited, { code: 0, signal: null });
    }
    // A graceful stop gives the leases back at once.
    assert.equal((await owners()).size, 0);
    await writer.stop();
  });
}
