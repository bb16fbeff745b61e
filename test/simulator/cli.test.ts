import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerSimCommands } from '../../simulator/cli.js';
import { isRollcallError } from '../../daemon/errors.js';
import { connectClients, unary } from './gsdk-client.js';
import { running, type Running } from './harness.js';

/** Runs `rollcall sim ...args` in this process and returns what it printed on stdout. */
async function sim(...args: string[]): Promise<string> {
  const program = new Command('rollcall').exitOverride();
  let out = '';
  registerSimCommands(program, { write: (text) => (out += text) });
  await program.parseAsync(['node', 'rollcall', 'sim', ...args]);
  return out;
}

describe('rollcall sim subcommands', () => {
  let r: Running;
  let gw: string[];
  before(async () => {
    r = await running([{ id: 1001 }, { id: 1002, templateFormat: 'ISO' }]);
    gw = ['--gateway', r.sim.address];
  });
  after(() => r.close());

  test('enroll with a CSN card, a PIN and a synthetic finger; dump --json shows it', async () => {
    const printed = await sim('enroll', ...gw, '--device', '1001', '--user', '42', '--name', 'Ana', '--card', '305419896', '--pin', '1234', '--fingers', '2');
    assert.match(printed, /enrolled user 42 at device 1001/);
    const stored = r.sim.device(1001).user('42');
    assert.equal(stored?.name, 'Ana');
    assert.equal(stored?.cards[0]?.type, 1);
    assert.equal(stored?.cards[0]?.size, 32);
    assert.deepEqual([...(stored?.cards[0]?.data ?? [])].slice(28), [0x12, 0x34, 0x56, 0x78]);
    assert.equal(stored?.PIN.length, 32, 'the PIN is stored as the gateway hash');
    assert.equal(stored?.fingers.length, 2);
    assert.equal(r.sim.device(1001).events().at(-1)?.subCode, 2);

    const dump = JSON.parse(await sim('dump', ...gw, '--device', '1001', '--json')) as { deviceID: number; users: { hdr: { ID: string }; name: string; cards: { data: string }[] }[] };
    assert.equal(dump.deviceID, 1001);
    assert.deepEqual(dump.users.map((u) => [u.hdr.ID, u.name]), [['42', 'Ana']]);
    assert.equal(Buffer.from(dump.users[0]?.cards[0]?.data ?? '', 'base64').length, 32, 'bytes are base64 in JSON');
    assert.match(await sim('dump', ...gw, '--device', '1001'), /user 42 {2}name="Ana" {2}cards=1 \[305419896\] {2}fingers=2/);
  });

  test('a finger in the wrong template format is refused by the device', async () => {
    await assert.rejects(sim('enroll', ...gw, '--device', '1002', '--user', '1', '--finger-template-format', 'SUPREMA'), (error: unknown) => {
      assert.ok(isRollcallError(error, 'ROLLCALL_ERR_GATEWAY_CALL'));
      assert.match(error.message, /finger-template-format.*INVALID_ARGUMENT/);
      return true;
    });
    await sim('enroll', ...gw, '--device', '1002', '--user', '1', '--finger-template-format', 'iso');
    assert.equal(r.sim.device(1002).user('1')?.fingers[0]?.templates[0]?.[0], 1);
  });

  test('update changes only the given parts; delete removes', async () => {
    await sim('update', ...gw, '--device', '1001', '--user', '42', '--name', 'Ana Maria');
    const user = r.sim.device(1001).user('42');
    assert.equal(user?.name, 'Ana Maria');
    assert.equal(user?.cards.length, 1, 'the card was kept');
    assert.equal(user?.PIN.length, 32, 'the PIN was kept');
    await sim('update', ...gw, '--device', '1001', '--user', '42', '--pin', '');
    assert.equal(r.sim.device(1001).user('42')?.PIN.length, 0);
    assert.equal(r.sim.device(1001).events().at(-1)?.eventCode, 0x2200);
    const out = JSON.parse(await sim('delete', ...gw, '--device', '1001', '--user', '42', '--json'));
    assert.deepEqual(out, { ok: true, deviceID: 1001, userIDs: ['42'] });
    assert.equal(r.sim.device(1001).user('42'), undefined);
  });

  test('devices, disconnect, reconnect', async () => {
    const list = JSON.parse(await sim('devices', ...gw, '--json')) as { devices: { deviceID: number; connected: boolean }[] };
    assert.deepEqual(list.devices.map((d) => [d.deviceID, d.connected]), [[1001, true], [1002, true]]);
    await sim('disconnect', ...gw, '--device', '1002');
    assert.equal(r.sim.device(1002).state().connected, false);
    assert.match(await sim('devices', ...gw), /device 1002 {2}FACESTATION_F2_FP {2}disconnected/);
    await sim('reconnect', ...gw, '--device', '1002');
    assert.equal(r.sim.device(1002).state().connected, true);
  });

  test('fault, clear-faults, capacity, add-device, remove-device', async () => {
    const fault = JSON.parse(await sim('fault', ...gw, '--device', '1001', '--fail-next', '2', '--fail-code', 'RESOURCE_EXHAUSTED', '--latency-ms', '1', '--json'));
    assert.deepEqual([fault.fault.failNextCount, fault.fault.failNextCode, fault.fault.latencyMs], [2, 8, 1]);
    assert.match(await sim('devices', ...gw), /faults: latency=1ms failNext=2xRESOURCE_EXHAUSTED/);
    await sim('clear-faults', ...gw, '--device', '1001');
    assert.equal(r.sim.device(1001).state().fault?.failNextCount, 0);
    const poison = JSON.parse(await sim('fault', ...gw, '--device', '1001', '--poison', '42, 43', '--poison-code', 'DATA_LOSS', '--slow-above', '10', '--json'));
    assert.deepEqual([poison.fault.poisonUserIDs, poison.fault.poisonCode, poison.fault.poisonWholeCall, poison.fault.slowAboveUsers], [['42', '43'], 15, false, 10]);
    assert.match(await sim('devices', ...gw), /faults: poison=42,43xDATA_LOSS slowAbove=10:DEADLINE_EXCEEDED/);
    await sim('clear-faults', ...gw, '--device', '1001');
    assert.deepEqual(r.sim.device(1001).state().fault?.poisonUserIDs, []);

    const cap = JSON.parse(await sim('capacity', ...gw, '--device', '1001', '--max-users', '9', '--template-format', 'ANSI', '--alphanumeric', 'true', '--json'));
    assert.deepEqual([cap.device.maxUsers, cap.device.templateFormat, cap.device.useAlphanumericID], [9, 2, true]);

    await sim('add-device', ...gw, '--device', '1003', '--type', 'BIOSTATION_3', '--max-users', '10');
    assert.equal(r.sim.device(1003).state().type, 35);
    await sim('remove-device', ...gw, '--device', '1003');
    assert.deepEqual(r.sim.deviceIds, [1001, 1002]);
  });

  test('reset-log and read-fault', async () => {
    await sim('enroll', ...gw, '--device', '1002', '--user', '61');
    const cleared = JSON.parse(await sim('reset-log', ...gw, '--device', '1002', '--json'));
    assert.deepEqual([cleared.event.ID, cleared.event.eventCode], [1, 0x4200]);
    assert.ok(r.sim.device(1002).userCount > 0, 'a log clear keeps the users');
    assert.match(await sim('reset-log', ...gw, '--device', '1002', '--as', 'database'), /event log reset \(event 1: 0x4501\)/);
    assert.equal(r.sim.device(1002).userCount, 0);
    await sim('enroll', ...gw, '--device', '1002', '--user', '62');
    assert.match(await sim('read-fault', ...gw, '--device', '1002', '--user', '62', '--code', 'DATA_LOSS'), /reads of 62 fail with code 15/);
    await assert.rejects(unary(r.c.user, 'Get', { deviceID: 1002, userIDs: ['62'] }), /could not be read/);
    await sim('read-fault', ...gw, '--device', '1002', '--user', '62', '--code', 'OK');
    assert.equal((await unary(r.c.user, 'Get', { deviceID: 1002, userIDs: ['62'] })).users.length, 1);
    await assert.rejects(sim('reset-log', ...gw, '--device', '1002', '--as', 'soon'), /Allowed choices/);
  });

  test('bad values are refused before anything is sent', async () => {
    await assert.rejects(sim('fault', ...gw, '--device', '1001', '--error-rate', '2'), /error-rate/);
    await assert.rejects(sim('enroll', ...gw, '--device', 'x', '--user', '1'), /--device/);
    await assert.rejects(sim('enroll', ...gw, '--device', '1001', '--user', '5', '--card', '12ab'), /--card/);
  });
});

describe('rollcall sim (standalone)', () => {
  test('prints its address and device IDs, serves, and stops on SIGTERM', { timeout: 60_000 }, async () => {
    const entry = fileURLToPath(new URL('../fixtures/simulator/sim-cli.js', import.meta.url));
    const proc = spawn(process.execPath, [entry, 'sim', '--port', '0', '--devices', '2', '--first-id', '7001', '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    const lines = createInterface({ input: proc.stdout });
    const first = await new Promise<string>((resolve) => lines.once('line', resolve));
    const started = JSON.parse(first) as { address: string; port: number; tls: boolean; deviceIds: number[] };
    assert.deepEqual(started.deviceIds, [7001, 7002]);
    assert.equal(started.tls, false);
    assert.match(started.address, /^127\.0\.0\.1:\d+$/);
    const c = connectClients(started.address);
    try {
      const { deviceInfos } = await unary(c.connect, 'GetDeviceList', {});
      assert.equal(deviceInfos.length, 2);
    } finally {
      c.close();
    }
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
