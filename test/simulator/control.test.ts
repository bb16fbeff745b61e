import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { code, csn, failure, openStream, take, cancel, unary, user } from './gsdk-client.js';
import { running, type Running } from './harness.js';

function collect<T>(stream: ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    stream.on('data', (m: T) => got.push(m));
    stream.on('end', () => resolve(got));
    stream.on('error', reject);
  });
}

describe('rollcall.sim.v1.Control', () => {
  let r: Running;
  before(async () => {
    r = await running([{ id: 1 }, { id: 2, maxUsers: 10 }]);
  });
  after(() => r.close());

  const control = (method: string, request: object) => unary(r.c.control, method, request);

  test('ListDevices describes each device', async () => {
    const { devices } = await control('ListDevices', {});
    assert.deepEqual(
      devices.map((d: { deviceID: number; connected: boolean; maxUsers: number; connectionMode: string }) => [d.deviceID, d.connected, d.maxUsers, d.connectionMode]),
      [
        [1, true, 500_000, 'server-to-device'],
        [2, true, 10, 'server-to-device'],
      ],
    );
  });

  test('acting at the device: enroll, read, update, delete, with subCode 2 events', async () => {
    await control('EnrollAtDevice', { deviceID: 1, user: user('7', { name: 'Door', cards: [csn(7)] }) });
    const dup = await failure(control('EnrollAtDevice', { deviceID: 1, user: user('7') }));
    assert.equal(dup.code, code.ALREADY_EXISTS);
    const bad = await failure(control('EnrollAtDevice', { deviceID: 1, user: user('x') }));
    assert.equal(bad.code, code.INVALID_ARGUMENT, 'device rules apply at the device too');
    await control('UpdateAtDevice', { deviceID: 1, user: user('7', { name: 'Renamed', hdr: { ID: '7', updateMask: 0x20 } }) });
    const { users } = await control('ReadUsers', { deviceID: 1, userIDs: ['7'] });
    assert.equal(users[0].name, 'Renamed');
    assert.equal(users[0].cards.length, 1, 'the CARD bit kept the card');
    assert.equal((await failure(control('ReadUsers', { deviceID: 1, userIDs: ['8'] }))).code, code.NOT_FOUND);
    assert.equal((await failure(control('DeleteAtDevice', { deviceID: 1, userIDs: ['8'] }))).code, code.NOT_FOUND);
    await control('DeleteAtDevice', { deviceID: 1, userIDs: ['7'] });
    const { events } = await unary(r.c.event, 'GetLog', { deviceID: 1, startEventID: 0, maxNumOfLog: 0 });
    assert.deepEqual(
      events.map((e: { eventCode: number; subCode: number; changedOnDevice: boolean }) => [e.eventCode, e.subCode, e.changedOnDevice]),
      [
        [0x2000, 2, true],
        [0x2200, 2, true],
        [0x2400, 2, true],
      ],
    );
  });

  test('DumpUsers streams every user in pages', async () => {
    await unary(r.c.user, 'Enroll', { deviceID: 2, users: Array.from({ length: 7 }, (_, i) => user(String(i + 1))), overwrite: false });
    const stream = (r.c.control as unknown as { dumpUsers: (req: object) => ClientReadableStream<{ users: { hdr: { ID: string } }[] }> }).dumpUsers({ deviceID: 2, pageSize: 3 });
    const got = await collect(stream);
    assert.deepEqual(got.map((p) => p.users.length), [3, 3, 1]);
    assert.deepEqual(got.flatMap((p) => p.users.map((u) => u.hdr.ID)), ['1', '2', '3', '4', '5', '6', '7']);
    const missing = (r.c.control as unknown as { dumpUsers: (req: object) => ClientReadableStream<unknown> }).dumpUsers({ deviceID: 99 });
    await assert.rejects(collect(missing), (e: { code: number }) => e.code === code.NOT_FOUND);
  });

  test('SetCapacity overrides limits and settings', async () => {
    const { device } = await control('SetCapacity', { deviceID: 2, maxUsers: 7, templateFormat: 1, useAlphanumericID: true });
    assert.equal(device.maxUsers, 7);
    assert.equal(device.templateFormat, 1);
    assert.equal(device.useAlphanumericID, true);
    assert.equal((await failure(unary(r.c.user, 'Enroll', { deviceID: 2, users: [user('new')], overwrite: false }))).code, code.RESOURCE_EXHAUSTED);
    const off = await control('SetCapacity', { deviceID: 2, alphanumericIDSupported: false });
    assert.equal(off.device.useAlphanumericID, false, 'unsupported turns the setting off');
    assert.equal((await failure(control('SetCapacity', { deviceID: 9 }))).code, code.NOT_FOUND);
  });

  test('SetFault changes only the keys given and reports the result; ClearFaults resets', async () => {
    let { fault } = await control('SetFault', { deviceID: 1, latencyMs: 5 });
    assert.equal(fault.latencyMs, 5);
    ({ fault } = await control('SetFault', { deviceID: 1, hangCount: 2 }));
    assert.deepEqual([fault.latencyMs, fault.hangCount], [5, 2]);
    await control('ClearFaults', { deviceID: 1 });
    const { devices } = await control('ListDevices', {});
    assert.deepEqual([devices[0].fault.latencyMs, devices[0].fault.hangCount], [0, 0]);
  });

  test('AddDevice / RemoveDevice; DisconnectDevice / ReconnectDevice', async () => {
    const statuses = await openStream(r.c.connect, 'SubscribeStatus', { queueSize: 10 });
    try {
      const { device } = await control('AddDevice', { device: { deviceID: 3, type: 35, maxUsers: 5, templateFormat: 2, IPAddr: '10.1.1.3' } });
      assert.deepEqual([device.deviceID, device.type, device.maxUsers, device.templateFormat, device.IPAddr, device.connected], [3, 35, 5, 2, '10.1.1.3', true]);
      assert.deepEqual((await take<{ deviceID: number; status: number }>(statuses, 1)).map((s) => [s.deviceID, s.status]), [[3, 1]]);
      assert.equal((await failure(control('AddDevice', { device: { deviceID: 3 } }))).code, code.ALREADY_EXISTS);
      assert.equal((await failure(control('AddDevice', { device: { deviceID: 4, connectionMode: 'sideways' } }))).code, code.INVALID_ARGUMENT);
      assert.deepEqual([device.face, device.pin, device.maxFingerprintsPerUser, device.maxFacesPerUser], ['visual', true, 0, 2], 'BIOSTATION_3 as the model');
      assert.equal((await failure(control('AddDevice', { device: { deviceID: 4, face: 'thermal' } }))).code, code.INVALID_ARGUMENT);
      assert.equal((await failure(control('AddDevice', { device: { deviceID: 4, type: 19, maxFacesPerUser: 2 } }))).code, code.INVALID_ARGUMENT);
      const { device: ir } = await control('AddDevice', { device: { deviceID: 4, type: 19, face: 'ir', pin: true } });
      assert.deepEqual([ir.face, ir.pin, ir.maxFacesPerUser], ['ir', true, 5], 'XPASS2 given an IR camera and PIN entry');
      await control('RemoveDevice', { deviceID: 4 });
      await take(statuses, 2);

      await control('DisconnectDevice', { deviceID: 3 });
      assert.equal((await failure(unary(r.c.user, 'GetList', { deviceID: 3 }))).code, code.UNAVAILABLE);
      await control('ReconnectDevice', { deviceID: 3 });
      assert.deepEqual(await unary(r.c.user, 'GetList', { deviceID: 3 }), { hdrs: [] });
      assert.deepEqual((await take<{ deviceID: number; status: number }>(statuses, 2)).map((s) => s.status), [0, 1]);

      await control('RemoveDevice', { deviceID: 3 });
      assert.deepEqual((await take<{ deviceID: number; status: number }>(statuses, 1)).map((s) => [s.deviceID, s.status]), [[3, 0]]);
      assert.equal((await failure(unary(r.c.user, 'GetList', { deviceID: 3 }))).code, code.NOT_FOUND);
      assert.equal((await failure(control('RemoveDevice', { deviceID: 3 }))).code, code.NOT_FOUND);
      assert.deepEqual(r.sim.deviceIds, [1, 2]);
    } finally {
      await cancel(statuses);
    }
  });

  test('RecordEvent logs an event at the device', async () => {
    const { event } = await control('RecordEvent', { deviceID: 1, eventCode: 0x1000, subCode: 0, userID: '7' });
    assert.equal(event.eventCode, 0x1000);
    assert.equal(event.userID, '7');
    assert.equal(event.deviceID, 1);
    assert.equal(event.ID, r.sim.device(1).state().lastEventID);
    assert.equal((await failure(control('RecordEvent', { deviceID: 1, eventCode: 0x10000 }))).code, code.INVALID_ARGUMENT);
  });

  test('ResetEventLog starts the log at ID 1 with the reset event; a database reset also empties the device', async () => {
    await control('AddDevice', { device: { deviceID: 9 } });
    await control('EnrollAtDevice', { deviceID: 9, user: user('31') });
    await control('RecordEvent', { deviceID: 9, eventCode: 0x1000, subCode: 0, userID: '31' });
    assert.ok(r.sim.device(9).state().lastEventID >= 2);
    const cleared = await control('ResetEventLog', { deviceID: 9 });
    assert.deepEqual([cleared.event.ID, cleared.event.eventCode], [1, 0x4200]);
    const { events } = await unary(r.c.event, 'GetLog', { deviceID: 9, startEventID: 0, maxNumOfLog: 0 });
    assert.deepEqual(events.map((e: { ID: number; eventCode: number }) => [e.ID, e.eventCode]), [[1, 0x4200]]);
    assert.equal(r.sim.device(9).userCount, 1, 'a log clear keeps the users');
    const reset = await control('ResetEventLog', { deviceID: 9, eventCode: 0x4501 });
    assert.deepEqual([reset.event.ID, reset.event.eventCode], [1, 0x4501]);
    assert.equal(r.sim.device(9).userCount, 0, 'a database reset deletes every user');
    const silent = await control('ResetEventLog', { deviceID: 9, eventCode: 0 });
    assert.equal(silent.event ?? undefined, undefined);
    assert.equal(r.sim.device(9).state().lastEventID, 0);
    assert.equal((await failure(control('ResetEventLog', { deviceID: 9, eventCode: 0x2000 }))).code, code.INVALID_ARGUMENT);
    await control('RemoveDevice', { deviceID: 9 });
  });

  test('SetUserReadFault fails the reads of those users only, until ClearFaults', async () => {
    await control('EnrollAtDevice', { deviceID: 1, user: user('51') });
    await control('EnrollAtDevice', { deviceID: 1, user: user('52') });
    await control('SetUserReadFault', { deviceID: 1, userIDs: ['51'], code: code.INTERNAL });
    assert.equal((await failure(unary(r.c.user, 'Get', { deviceID: 1, userIDs: ['52', '51'] }))).code, code.INTERNAL);
    assert.equal((await failure(unary(r.c.user, 'GetCard', { deviceID: 1, userIDs: ['51'] }))).code, code.INTERNAL);
    const { users } = await unary(r.c.user, 'Get', { deviceID: 1, userIDs: ['52'] });
    assert.equal(users[0].hdr.ID, '52');
    const { hdrs } = await unary(r.c.user, 'GetList', { deviceID: 1 });
    assert.ok(hdrs.some((h: { ID: string }) => h.ID === '51'), 'listing is not a read of the user');
    assert.equal((await control('ReadUsers', { deviceID: 1, userIDs: ['51'] })).users.length, 1, 'the control service is not faulted');
    await control('ClearFaults', { deviceID: 1 });
    assert.equal((await unary(r.c.user, 'Get', { deviceID: 1, userIDs: ['51'] })).users.length, 1);
    assert.equal((await failure(control('SetUserReadFault', { deviceID: 1, userIDs: ['51'], code: 17 }))).code, code.INVALID_ARGUMENT);
  });
});
