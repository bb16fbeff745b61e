/**
 * Devices that connect to the gateway themselves (device-to-server, `connection: accept`),
 * over the simulator on loopback: configured by ID they are let in through the accept
 * filter, at start and by a reload, without dropping entries others put in the filter; the
 * pending list and the gateway's connection states reach the status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncHarness } from '../../helpers/sync-harness.js';
import type { DeviceConfig } from '../../../daemon/config/schema.js';

const accept = (id: number): DeviceConfig => ({ id, connection: 'accept', port: 51211, useSSL: false, accessGroups: [] });

test('an accept-mode device is connected once its ID is configured, at start and by a reload; others\' filter entries stay', async () => {
  const h = await SyncHarness.start({
    devices: [
      { id: 5001, connectionMode: 'device-to-server' },
      { id: 5002, connectionMode: 'device-to-server' },
      { id: 5009, connectionMode: 'device-to-server' },
      { id: 5003 },
    ],
    deviceConfig: [accept(5001)],
  });
  try {
    // Someone else's entries, put there before rollcall looks (the harness's engine already started: set them now and reload).
    const before = await h.transport.gateway.getAcceptFilter();
    assert.ok(before.deviceIDs.includes(5001), 'rollcall added its accept-mode device at start');
    await h.transport.gateway.setAcceptFilter({ ...before, deviceIDs: [...before.deviceIDs, 7777], IPAddrs: ['10.9.9.9'], subnetMasks: ['255.255.255.255'] });

    await h.until('5001 connected', () => h.engine.status().find((d) => d.id === 5001)?.connected === true);
    const d5001 = h.engine.status().find((d) => d.id === 5001)!;
    assert.equal(d5001.connection, 'tcp-connected');
    assert.equal(d5001.connectionMode, 'accept');
    assert.equal(h.engine.device(5001)?.record.acceptFilterAdded, true);

    // 5002 and 5009 dialled in but are not let in: pending, with their ID and address.
    const pending = await h.engine.pendingDevices();
    assert.deepEqual(pending?.map((p) => p.id).sort(), [5002, 5009]);
    assert.ok(pending?.every((p) => typeof p.address === 'string' && p.address.length > 0));

    // A reload that adds 5002 in accept mode lets it in, and keeps 7777 and the address entry.
    await h.engine.reconfigure(h.engine.config, [accept(5001), accept(5002)]);
    await h.until('5002 connected', () => h.engine.status().find((d) => d.id === 5002)?.connected === true);
    let filter = await h.transport.gateway.getAcceptFilter();
    assert.deepEqual([...filter.deviceIDs].sort(), [5001, 5002, 7777]);
    assert.deepEqual(filter.IPAddrs, ['10.9.9.9']);
    assert.deepEqual((await h.engine.pendingDevices())?.map((p) => p.id), [5009]);

    // 5001 leaves the config: rollcall takes out the ID it added, and only that one.
    await h.engine.reconfigure(h.engine.config, [accept(5002)]);
    filter = await h.transport.gateway.getAcceptFilter();
    assert.deepEqual([...filter.deviceIDs].sort(), [5002, 7777]);
    assert.equal(h.engine.device(5001)?.record.acceptFilterAdded, undefined);
  } finally {
    await h.stop();
  }
});

test('an ID someone else already let in is not claimed: removing it from the config leaves it in the filter', async () => {
  const h = await SyncHarness.start({ devices: [{ id: 5101, connectionMode: 'device-to-server' }], deviceConfig: [] });
  try {
    await h.transport.gateway.setAcceptFilter({ allowAll: false, deviceIDs: [5101], IPAddrs: [], subnetMasks: [] });
    await h.engine.reconfigure(h.engine.config, [accept(5101)]);
    await h.until('5101 connected', () => h.engine.status().find((d) => d.id === 5101)?.connected === true);
    assert.equal(h.engine.device(5101)?.record.acceptFilterAdded, undefined);
    await h.engine.reconfigure(h.engine.config, []);
    assert.deepEqual((await h.transport.gateway.getAcceptFilter()).deviceIDs, [5101]);
  } finally {
    await h.stop();
  }
});

test('a device added on reload with an address is dialled; its state is the gateway\'s, not just "not connected"', async () => {
  const h = await SyncHarness.start({ devices: [{ id: 5201 }], deviceConfig: [] });
  try {
    // An address where no device answers: the gateway keeps trying and says it cannot connect.
    await h.engine.reconfigure(h.engine.config, [{ id: 5299, address: '10.77.0.1', port: 51211, useSSL: false, accessGroups: [] }]);
    const listed = await h.transport.listDevices();
    assert.ok(listed.some((d) => d.id === 5299), 'the reload asked the gateway to connect the new device');
    await h.until('state of 5299', () => h.engine.status().find((d) => d.id === 5299)?.connection === 'tcp-cannot-connect');
    const d5299 = h.engine.status().find((d) => d.id === 5299)!;
    assert.equal(d5299.connected, false);
    assert.equal(d5299.connectionMode, 'dial');
    // Taken out of the config: the async connection rollcall asked for is deleted.
    await h.engine.reconfigure(h.engine.config, []);
    assert.ok(!(await h.transport.listDevices()).some((d) => d.id === 5299));
  } finally {
    await h.stop();
  }
});
