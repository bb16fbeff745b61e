/** The devices a transport reaches: listDevices and deviceProfile. */
import assert from 'node:assert/strict';
import { twoDevices, plainUser, type Harness } from './harness.js';
import { deviceCopy, type FaceKind } from '../../../daemon/model/device-copy.js';

export function deviceTests({ it }: Harness): void {
  it('listDevices lists every reachable device as connected, and no device the gateway does not know', async ({ transport, devices }) => {
    const listed = await transport.listDevices();
    for (const id of devices.deviceIds) {
      const device = listed.find((entry) => entry.id === id);
      assert.ok(device, `device ${id} is listed`);
      assert.equal(device.connected, true, `device ${id} is connected`);
    }
    assert.equal(listed.filter((entry) => entry.id === devices.unknownDeviceId).length, 0);
    assert.equal(new Set(listed.map((entry) => entry.id)).size, listed.length, 'each device once');
  });

  it('a device off the network is not listed as connected, and is again once it is back', async (subject) => {
    const { transport, devices } = subject;
    const [down, up] = twoDevices(subject);
    await devices.disconnect(down);
    const listed = await transport.listDevices();
    assert.notEqual(listed.find((entry) => entry.id === down)?.connected, true, 'the dropped device is absent or not connected');
    assert.equal(listed.find((entry) => entry.id === up)?.connected, true);
    await devices.reconnect(down);
    assert.equal((await transport.listDevices()).find((entry) => entry.id === down)?.connected, true);
  });

  it('deviceProfile reports what each device says of itself, in the contract\'s terms', async ({ transport, devices }) => {
    for (const id of devices.deviceIds) {
      const profile = await transport.deviceProfile(id);
      if (profile.maxUsers !== undefined) assert.ok(Number.isInteger(profile.maxUsers) && profile.maxUsers > 0, `maxUsers of ${id}`);
      if (profile.type !== undefined) assert.ok(Number.isInteger(profile.type) && profile.type >= 0, `type of ${id}`);
      if (profile.templateFormat !== undefined) assert.ok([0, 1, 2].includes(profile.templateFormat), `templateFormat of ${id}`);
      if (profile.alphanumericIdEnabled) assert.equal(profile.alphanumericIdSupported, true, 'enabled only where supported');
    }
  });

  it('deviceProfile.holds, where reported, is in the contract\'s terms and holds the full user whole', async ({ transport, devices }) => {
    for (const id of devices.deviceIds) {
      const { holds = {} } = await transport.deviceProfile(id);
      for (const key of ['maxCards', 'maxFingerprints', 'maxFaces'] as const) {
        const max = holds[key];
        if (max !== undefined) assert.ok(Number.isInteger(max) && max > 0, `${key} of ${id}: a positive integer, absent when not reported`);
      }
      if (holds.faces !== undefined) assert.ok((['none', 'ir', 'visual'] satisfies FaceKind[]).includes(holds.faces), `faces of ${id}`);
      // fullUser carries what every default device takes as it is: nothing of it may be left off.
      assert.deepEqual(deviceCopy(devices.fullUser('1'), holds).leftOff, [], `what device ${id} says it holds`);
    }
  });

  it('deviceProfile.maxUsers is the device\'s capacity: the users it holds plus its room', async (subject) => {
    const { transport, devices } = subject;
    const [device] = twoDevices(subject);
    const enrolled = await transport.enrollUsers([device], [plainUser('11'), plainUser('12')]);
    assert.deepEqual(enrolled.ok, [device]);
    await devices.leaveRoomFor(device, 3);
    const profile = await transport.deviceProfile(device);
    if (profile.maxUsers === undefined) return;
    assert.equal(profile.maxUsers - (await transport.listUsers(device)).length, 3);
  });

  it('deviceProfile of a device the gateway does not know rejects', async ({ transport, devices }) => {
    await assert.rejects(transport.deviceProfile(devices.unknownDeviceId));
  });
}
