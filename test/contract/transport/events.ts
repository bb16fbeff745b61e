/** A device's event log through readEvents: ordered, inclusive from an ID, bounded, telling device-side changes apart. */
import assert from 'node:assert/strict';
import { assertOutcome, plainUser, twoDevices, type Harness } from './harness.js';

export function eventTests({ it }: Harness): void {
  it('readEvents gives the device\'s events oldest first, from an ID on (inclusive), at most max', async (subject) => {
    const { transport, devices } = subject;
    const [device] = twoDevices(subject);
    for (const id of ['141', '142', '143']) assertOutcome(await transport.enrollUsers([device], [plainUser(id)]), [device]);
    await devices.enrollAtDevice(device, plainUser('144'));

    const all = await transport.readEvents(device, 0, 0);
    const ids = all.map((event) => event.id);
    assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!), `IDs increase: ${ids.join(',')}`);
    assert.ok(all.every((event) => event.deviceId === device && Number.isInteger(event.timestamp)));
    const users = all.map((event) => event.userId).filter((id) => id !== undefined && id >= '141' && id <= '144');
    assert.deepEqual(users, ['141', '142', '143', '144'], 'the changes in the order they were made');

    const byServer = all.filter((event) => event.userId === '142');
    const atDevice = all.filter((event) => event.userId === '144');
    assert.ok(byServer.length > 0 && byServer.every((event) => !event.changedOnDevice), 'a change sent through the transport is not a device-side change');
    assert.ok(atDevice.length > 0 && atDevice.every((event) => event.changedOnDevice), 'a change made at the device is');

    const from = byServer[0]!.id;
    const tail = await transport.readEvents(device, from, 0);
    assert.deepEqual(tail, all.filter((event) => event.id >= from), 'from an ID on, that ID included');
    assert.deepEqual(await transport.readEvents(device, from, 2), tail.slice(0, 2), 'at most max');
    assert.deepEqual(await transport.readEvents(device, ids[ids.length - 1]! + 1, 0), [], 'nothing after the newest');
    // What the sync engine's newest-event search (daemon/sync/event-baseline.ts) is built on.
    assert.deepEqual(await transport.readEvents(device, 0, 1), all.slice(0, 1), 'from 0: the oldest');
    assert.deepEqual(await transport.readEvents(device, ids[ids.length - 1]!, 1), all.slice(-1), 'from the newest: the newest alone');
  });

  it('each device keeps its own log', async (subject) => {
    const { transport } = subject;
    const [first, second] = twoDevices(subject);
    assertOutcome(await transport.enrollUsers([first], [plainUser('151')]), [first]);
    const events = await transport.readEvents(second, 0, 0);
    assert.ok(events.every((event) => event.deviceId === second && event.userId !== '151'));
  });
}
