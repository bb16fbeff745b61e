import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMAT, code, csn, decodeMultiErrorResponse, deviceErrorsOf, failure, finger, trailerOf, unary, user } from './gsdk-client.js';
import { running, type Running } from './harness.js';

describe('Multi calls and the status-details trailer', () => {
  let r: Running;
  before(async () => {
    r = await running([{ id: 1 }, { id: 2 }, { id: 3, maxUsers: 1 }, { id: 4, templateFormat: 'ANSI' }, { id: 5 }]);
  });
  after(() => r.close());

  const call = (method: string, request: object) => unary(r.c.user, method, request);

  test('all devices succeed: OK with an empty deviceErrors, and the devices share the stored records', async () => {
    const before = r.sim.stats().sharedUserRecords;
    const response = await call('EnrollMulti', { deviceIDs: [1, 2, 5], users: [user('1', { cards: [csn(1)] }), user('2')], overwrite: false });
    assert.deepEqual(response, { deviceErrors: [] });
    for (const id of [1, 2, 5]) assert.deepEqual(r.sim.device(id).users().map((u) => u.hdr?.ID), ['1', '2']);
    assert.equal(r.sim.stats().sharedUserRecords - before, 2, 'three devices, two distinct records');
  });

  test('partial failure: the trailer carries MultiErrorResponse under both type URLs; the others are applied', async () => {
    const error = await failure(
      call('EnrollMulti', { deviceIDs: [1, 3, 4, 404], users: [user('10', { fingers: [finger(FORMAT.SUPREMA)] }), user('11')], overwrite: false }),
    );
    const status = trailerOf(error);
    assert.deepEqual(
      status.details.map((d) => d.typeUrl),
      ['type.googleapis.com/gsdk.err.MultiErrorResponse', 'type.googleapis.com/err.MultiErrorResponse'],
    );
    assert.deepEqual(status.details[0]?.value, status.details[1]?.value, 'the same bytes under both URLs');
    assert.equal(status.code, error.code);
    assert.equal(status.message, error.details);
    const errors = decodeMultiErrorResponse(status.details[1]?.value ?? Buffer.alloc(0)).sort((a, b) => a.deviceID - b.deviceID);
    assert.deepEqual(
      errors.map((e) => [e.deviceID, e.code]),
      [
        [3, code.RESOURCE_EXHAUSTED],
        [4, code.INVALID_ARGUMENT],
        [404, code.NOT_FOUND],
      ],
    );
    assert.ok(errors.every((e) => e.msg.length > 0));
    assert.equal(error.code, code.UNKNOWN, 'the devices disagree: UNKNOWN at the top');
    assert.deepEqual(r.sim.device(1).user('10')?.hdr?.ID, '10', 'device 1 succeeded and kept the change');
    assert.equal(r.sim.device(3).user('10'), undefined);
    assert.equal(r.sim.device(4).user('10'), undefined);
  });

  test('the top-level code is the common per-device code when the failing devices agree', async () => {
    const error = await failure(call('EnrollMulti', { deviceIDs: [1, 2, 5], users: [user('1')], overwrite: false }));
    assert.equal(error.code, code.ALREADY_EXISTS);
    assert.deepEqual(deviceErrorsOf(error).map((e) => [e.deviceID, e.code]), [
      [1, code.ALREADY_EXISTS],
      [2, code.ALREADY_EXISTS],
      [5, code.ALREADY_EXISTS],
    ]);
  });

  test('a disconnected device fails UNAVAILABLE in a Multi call; the others are applied', async () => {
    r.sim.device(2).disconnect();
    try {
      const error = await failure(call('DeleteMulti', { deviceIDs: [1, 2], userIDs: ['2'] }));
      assert.equal(error.code, code.UNAVAILABLE);
      assert.deepEqual(deviceErrorsOf(error).map((e) => [e.deviceID, e.code]), [[2, code.UNAVAILABLE]]);
      assert.equal(r.sim.device(1).user('2'), undefined);
      assert.equal(r.sim.device(2).user('2')?.hdr?.ID, '2');
    } finally {
      r.sim.device(2).reconnect();
    }
  });

  test('UpdateMulti, Set*Multi and DeleteAllMulti apply per device', async () => {
    await call('EnrollMulti', { deviceIDs: [1, 2], users: [user('20', { name: 'Before' })], overwrite: true });
    await call('UpdateMulti', { deviceIDs: [1, 2], users: [user('20', { name: 'After' })] });
    await call('SetCardMulti', { deviceIDs: [1, 2], userCards: [{ userID: '20', cards: [csn(20)] }] });
    await call('SetFingerMulti', { deviceIDs: [1, 2], userFingers: [{ userID: '20', fingers: [finger()] }] });
    await call('SetFaceMulti', { deviceIDs: [1, 2], userFaces: [{ userID: '20', faces: [{ flag: 0x100, templates: [Buffer.alloc(4)] }] }] });
    await call('SetAccessGroupMulti', { deviceIDs: [1, 2], userAccessGroups: [{ userID: '20', accessGroupIDs: [9] }] });
    await call('SetJobCodeMulti', { deviceIDs: [1, 2], userJobCodes: [{ userID: '20', jobCodes: [{ code: 1, label: 'a' }] }] });
    for (const id of [1, 2]) {
      const u = r.sim.device(id).user('20');
      assert.equal(u?.name, 'After');
      assert.equal(u?.cards.length, 1);
      assert.equal(u?.fingers.length, 1);
      assert.equal(u?.faces.length, 1);
      assert.deepEqual(u?.accessGroupIDs, [9]);
      assert.equal(u?.jobCodes.length, 1);
    }
    const missing = await failure(call('SetCardMulti', { deviceIDs: [1, 5], userCards: [{ userID: '20', cards: [] }] }));
    assert.deepEqual(deviceErrorsOf(missing).map((e) => [e.deviceID, e.code]), [[5, code.NOT_FOUND]]);
    assert.equal(r.sim.device(1).user('20')?.cards.length, 0);
    const wrongFormat = await failure(call('SetFingerMulti', { deviceIDs: [1, 4], userFingers: [{ userID: '20', fingers: [finger(FORMAT.ANSI)] }] }));
    assert.deepEqual(deviceErrorsOf(wrongFormat).map((e) => e.deviceID), [1, 4], 'ANSI is wrong on 1; 4 does not hold user 20');
    assert.deepEqual(deviceErrorsOf(wrongFormat).map((e) => e.code), [code.INVALID_ARGUMENT, code.NOT_FOUND]);

    const failed = await failure(call('UpdateMulti', { deviceIDs: [1, 5], users: [user('20', { name: 'Again' })] }));
    assert.deepEqual(deviceErrorsOf(failed).map((e) => [e.deviceID, e.code]), [[5, code.NOT_FOUND]]);
    assert.equal(r.sim.device(1).user('20')?.name, 'Again');

    await call('DeleteAllMulti', { deviceIDs: [1, 2] });
    assert.equal(r.sim.device(1).userCount, 0);
    assert.equal(r.sim.device(2).userCount, 0);
  });

  test('Enable/DisableMonitoringMulti report per-device errors the same way', async () => {
    const error = await failure(unary(r.c.event, 'EnableMonitoringMulti', { deviceIDs: [1, 999] }));
    assert.equal(error.code, code.NOT_FOUND);
    assert.deepEqual(deviceErrorsOf(error).map((e) => e.deviceID), [999]);
    assert.equal(r.sim.device(1).state().monitoring, true);
    assert.deepEqual(await unary(r.c.event, 'DisableMonitoringMulti', { deviceIDs: [1] }), { deviceErrors: [] });
    assert.equal(r.sim.device(1).state().monitoring, false);
  });

  test('a device listed twice is acted on once', async () => {
    assert.deepEqual(await call('EnrollMulti', { deviceIDs: [5, 5], users: [user('30')], overwrite: false }), { deviceErrors: [] });
    assert.equal(r.sim.device(5).events().filter((e) => e.userID === '30').length, 1);
  });
});
