/** Users on devices: enrollUsers, deleteUsers, listUsers and getUsers agree with each other and with the devices. */
import assert from 'node:assert/strict';
import { assertOutcome, plainUser, sortedIds, twoDevices, type Harness } from './harness.js';

export function userTests({ it }: Harness): void {
  it('enrollUsers puts the users on every device; each device gives back what it was sent', async ({ transport, devices }) => {
    const users = [devices.fullUser('21'), plainUser('22')];
    assertOutcome(await transport.enrollUsers(devices.deviceIds, users), devices.deviceIds);
    // A PIN hash read back carries its provenance: this gateway's scheme (daemon/model/pin-provenance.ts).
    const scheme = await transport.pinHashScheme();
    const expected = users.map((user) => (user.pinHash === undefined ? user : { ...user, pinHashScheme: scheme }));
    for (const id of devices.deviceIds) {
      assert.deepEqual((await devices.userIds(id)).sort(), ['21', '22'], `what device ${id} holds`);
      const read = await transport.getUsers(id, ['21', '22']);
      assert.deepEqual(
        [...read].sort((a, b) => a.id.localeCompare(b.id)),
        expected,
        `users read back from device ${id}`,
      );
    }
  });

  it('listUsers gives each user\'s ID and credential counts', async (subject) => {
    const { transport, devices } = subject;
    const [device] = twoDevices(subject);
    const full = devices.fullUser('31');
    assertOutcome(await transport.enrollUsers([device], [full, plainUser('32')]), [device]);
    const headers = (await transport.listUsers(device)).sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(headers, [
      { id: '31', cards: full.cards.length, fingers: full.fingers.length, faces: full.faces.length },
      { id: '32', cards: 0, fingers: 0, faces: 0 },
    ]);
    assert.ok(full.cards.length > 0 && full.fingers.length > 0 && full.faces.length > 0, 'fullUser has every credential');
  });

  it('enrollUsers overwrites: a user enrolled again replaces the one the device held', async (subject) => {
    const { transport, devices } = subject;
    const [device] = twoDevices(subject);
    const first = devices.fullUser('41');
    assertOutcome(await transport.enrollUsers([device], [first]), [device]);
    const second = { ...first, name: 'Renamed', cards: first.cards.slice(1) };
    assertOutcome(await transport.enrollUsers([device], [second]), [device]);
    const scheme = await transport.pinHashScheme();
    assert.deepEqual(await transport.getUsers(device, ['41']), [second.pinHash === undefined ? second : { ...second, pinHashScheme: scheme }]);
    assert.deepEqual(await devices.userIds(device), ['41']);
  });

  it('getUsers leaves out IDs the device does not hold', async (subject) => {
    const { transport } = subject;
    const [device] = twoDevices(subject);
    assertOutcome(await transport.enrollUsers([device], [plainUser('51'), plainUser('52')]), [device]);
    assert.deepEqual(sortedIds(await transport.getUsers(device, ['59', '52', '58', '51'])), ['51', '52']);
    assert.deepEqual(await transport.getUsers(device, ['57']), []);
    assert.deepEqual(await transport.getUsers(device, []), []);
  });

  it('deleteUsers removes the users from every device and leaves the others', async ({ transport, devices }) => {
    assertOutcome(await transport.enrollUsers(devices.deviceIds, [plainUser('61'), plainUser('62'), plainUser('63')]), devices.deviceIds);
    assertOutcome(await transport.deleteUsers(devices.deviceIds, ['61', '63']), devices.deviceIds);
    for (const id of devices.deviceIds) {
      assert.deepEqual(await devices.userIds(id), ['62'], `what device ${id} holds`);
      assert.deepEqual(sortedIds(await transport.listUsers(id)), ['62']);
    }
  });

  it('a call with nothing to send changes nothing and fails no device', async ({ transport, devices }) => {
    assertOutcome(await transport.enrollUsers(devices.deviceIds, [plainUser('71')]), devices.deviceIds);
    const enrolled = await transport.enrollUsers(devices.deviceIds, []);
    assert.equal(enrolled.failed.size, 0);
    const deleted = await transport.deleteUsers(devices.deviceIds, []);
    assert.equal(deleted.failed.size, 0);
    for (const id of devices.deviceIds) assert.deepEqual(await devices.userIds(id), ['71']);
  });
}
