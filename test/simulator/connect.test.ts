import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cancel, code, failure, openStream, take, unary } from './gsdk-client.js';
import { running, type Running } from './harness.js';

const STATUS = { DISCONNECTED: 0, TCP_CONNECTED: 1, TLS_CONNECTED: 2, TCP_CANNOT_CONNECT: 0x100 } as const;

interface DeviceInfo {
  deviceID: number;
  connectionMode: number;
  IPAddr: string;
  port: number;
  status: number;
  autoReconnect: boolean;
  useSSL: boolean;
  type: number;
}

interface StatusChange {
  deviceID: number;
  status: number;
  timestamp: number;
}

describe('gsdk.connect.Connect', () => {
  let r: Running;
  before(async () => {
    r = await running([
      { id: 1, ipAddr: '192.168.0.11' },
      { id: 2, ipAddr: '192.168.0.12', type: 35 },
      { id: 3, ipAddr: '192.168.5.13', connectionMode: 'device-to-server' },
    ]);
  });
  after(() => r.close());

  const list = async (): Promise<DeviceInfo[]> =>
    ((await unary(r.c.connect, 'GetDeviceList', {})).deviceInfos as DeviceInfo[]).sort((a, b) => a.deviceID - b.deviceID);

  test('at start the server-to-device devices are connected asynchronously', async () => {
    const devices = await list();
    assert.deepEqual(devices.map((d) => [d.deviceID, d.status, d.autoReconnect, d.connectionMode, d.IPAddr, d.port]), [
      [1, STATUS.TCP_CONNECTED, true, 0, '192.168.0.11', 51211],
      [2, STATUS.TCP_CONNECTED, true, 0, '192.168.0.12', 51211],
    ]);
    assert.equal(devices[1]?.type, 35);
  });

  test('a device-to-server device waits in GetPendingList until the accept filter admits it', async () => {
    const { deviceInfos } = await unary(r.c.connect, 'GetPendingList', {});
    assert.deepEqual(deviceInfos.map((d: { deviceID: number; IPAddr: string }) => [d.deviceID, d.IPAddr]), [[3, '192.168.5.13']]);
    assert.equal((await failure(unary(r.c.user, 'GetList', { deviceID: 3 }))).code, code.NOT_FOUND);

    const statuses = await openStream(r.c.connect, 'SubscribeStatus', { queueSize: 10 });
    try {
      await unary(r.c.connect, 'SetAcceptFilter', { filter: { allowAll: false, deviceIDs: [], IPAddrs: ['192.168.5.0'], subnetMasks: ['255.255.255.0'] } });
      const [change] = await take<StatusChange>(statuses, 1);
      assert.deepEqual([change?.deviceID, change?.status], [3, STATUS.TCP_CONNECTED]);
    } finally {
      await cancel(statuses);
    }
    assert.deepEqual((await unary(r.c.connect, 'GetAcceptFilter', {})).filter, {
      allowAll: false,
      deviceIDs: [],
      IPAddrs: ['192.168.5.0'],
      subnetMasks: ['255.255.255.0'],
    });
    assert.deepEqual((await unary(r.c.connect, 'GetPendingList', {})).deviceInfos, []);
    const three = (await list()).find((d) => d.deviceID === 3);
    assert.equal(three?.connectionMode, 1);
    assert.deepEqual(await unary(r.c.user, 'GetList', { deviceID: 3 }), { hdrs: [] });
  });

  test('the network dropping a device: DISCONNECTED then TCP_CONNECTED on SubscribeStatus; calls fail UNAVAILABLE meanwhile', async () => {
    const statuses = await openStream(r.c.connect, 'SubscribeStatus', { queueSize: 10 });
    try {
      r.sim.device(1).disconnect();
      const [down] = await take<StatusChange>(statuses, 1);
      assert.deepEqual([down?.deviceID, down?.status], [1, STATUS.DISCONNECTED]);
      assert.ok((down?.timestamp ?? 0) > 1_600_000_000);
      assert.equal((await list()).find((d) => d.deviceID === 1)?.status, STATUS.DISCONNECTED);
      assert.equal((await failure(unary(r.c.user, 'GetList', { deviceID: 1 }))).code, code.UNAVAILABLE);
      assert.equal((await failure(unary(r.c.device, 'GetInfo', { deviceID: 1 }))).code, code.UNAVAILABLE);
      r.sim.device(1).reconnect();
      const [up] = await take<StatusChange>(statuses, 1);
      assert.deepEqual([up?.deviceID, up?.status], [1, STATUS.TCP_CONNECTED]);
      assert.deepEqual(await unary(r.c.user, 'GetList', { deviceID: 1 }), { hdrs: [] });
    } finally {
      await cancel(statuses);
    }
  });

  test('Disconnect removes the gateway\'s entry (NOT_FOUND after); Connect by address brings it back', async () => {
    const statuses = await openStream(r.c.connect, 'SubscribeStatus', { queueSize: 10 });
    try {
      await unary(r.c.connect, 'Disconnect', { deviceIDs: [2] });
      const [down] = await take<StatusChange>(statuses, 1);
      assert.deepEqual([down?.deviceID, down?.status], [2, STATUS.DISCONNECTED]);
      assert.equal((await list()).some((d) => d.deviceID === 2), false);
      assert.equal((await failure(unary(r.c.user, 'GetList', { deviceID: 2 }))).code, code.NOT_FOUND);
      assert.equal((await failure(unary(r.c.connect, 'Disconnect', { deviceIDs: [2] }))).code, code.NOT_FOUND);

      const { deviceID } = await unary(r.c.connect, 'Connect', { connectInfo: { IPAddr: '192.168.0.12', port: 51211, useSSL: false } });
      assert.equal(deviceID, 2);
      const [up] = await take<StatusChange>(statuses, 1);
      assert.deepEqual([up?.deviceID, up?.status], [2, STATUS.TCP_CONNECTED]);
      const two = (await list()).find((d) => d.deviceID === 2);
      assert.equal(two?.autoReconnect, false, 'a synchronous connection');
    } finally {
      await cancel(statuses);
    }
    assert.equal((await failure(unary(r.c.connect, 'Connect', { connectInfo: { IPAddr: '10.9.9.9', port: 51211 } }))).code, code.UNAVAILABLE);
  });

  test('AddAsyncConnection / DeleteAsyncConnection; an address without a device cannot connect', async () => {
    await unary(r.c.connect, 'Disconnect', { deviceIDs: [1] });
    await unary(r.c.connect, 'AddAsyncConnection', {
      connectInfos: [
        { deviceID: 1, IPAddr: '192.168.0.11', port: 51211, useSSL: true },
        { deviceID: 77, IPAddr: '192.168.0.77', port: 51211, useSSL: false },
      ],
    });
    const devices = await list();
    assert.equal(devices.find((d) => d.deviceID === 1)?.status, STATUS.TLS_CONNECTED);
    assert.equal(devices.find((d) => d.deviceID === 77)?.status, STATUS.TCP_CANNOT_CONNECT);
    assert.equal((await failure(unary(r.c.user, 'GetList', { deviceID: 77 }))).code, code.UNAVAILABLE);
    await unary(r.c.connect, 'DeleteAsyncConnection', { deviceIDs: [77] });
    assert.equal((await list()).some((d) => d.deviceID === 77), false);
    assert.equal((await failure(unary(r.c.connect, 'AddAsyncConnection', { connectInfos: [{ deviceID: 0, IPAddr: 'x' }] }))).code, code.INVALID_ARGUMENT);
  });

  test('DisconnectAll drops every entry', async () => {
    const statuses = await openStream(r.c.connect, 'SubscribeStatus', { queueSize: 10 });
    try {
      const connected = (await list()).length;
      await unary(r.c.connect, 'DisconnectAll', {});
      const changes = await take<StatusChange>(statuses, connected);
      assert.ok(changes.every((c) => c.status === STATUS.DISCONNECTED));
      assert.deepEqual(await list(), []);
    } finally {
      await cancel(statuses);
    }
  });
});
