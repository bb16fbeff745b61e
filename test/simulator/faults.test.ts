import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { code, deviceErrorsOf, failure, unary, user } from './gsdk-client.js';
import { running, type Running } from './harness.js';

describe('fault injection', () => {
  let r: Running;
  before(async () => {
    r = await running([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });
  after(() => r.close());

  const getList = (deviceID: number, deadlineMs?: number) => unary(r.c.user, 'GetList', { deviceID }, deadlineMs);

  test('an error code for the next N calls, then normal answers', async () => {
    await unary(r.c.control, 'SetFault', { deviceID: 1, failNextCode: code.INTERNAL, failNextCount: 2 });
    assert.equal((await failure(getList(1))).code, code.INTERNAL);
    assert.equal((await failure(unary(r.c.device, 'GetInfo', { deviceID: 1 }))).code, code.INTERNAL);
    assert.deepEqual(await getList(1), { hdrs: [] });
    assert.deepEqual(await getList(2), { hdrs: [] }, 'other devices are not affected');
  });

  test('an injected error in a Multi call is that device\'s error; the call stays atomic per device', async () => {
    r.sim.device(2).setFault({ failNextCode: code.UNAVAILABLE, failNextCount: 1 });
    const error = await failure(unary(r.c.user, 'EnrollMulti', { deviceIDs: [1, 2], users: [user('5')], overwrite: false }));
    assert.deepEqual(deviceErrorsOf(error).map((e) => [e.deviceID, e.code]), [[2, code.UNAVAILABLE]]);
    assert.equal(r.sim.device(1).userCount, 1);
    assert.equal(r.sim.device(2).userCount, 0);
  });

  test('an error rate is seeded: two devices with the same seed fail the same calls', async () => {
    for (const id of [1, 2]) await unary(r.c.control, 'SetFault', { deviceID: id, errorRate: 0.5, errorRateCode: code.ABORTED, errorRateSeed: 99 });
    const pattern = async (id: number): Promise<string> => {
      let out = '';
      for (let i = 0; i < 40; i += 1) {
        try {
          await getList(id);
          out += '.';
        } catch (error) {
          assert.equal((error as { code: number }).code, code.ABORTED);
          out += 'x';
        }
      }
      return out;
    };
    const one = await pattern(1);
    const two = await pattern(2);
    assert.equal(one, two);
    assert.match(one, /x/);
    assert.match(one, /\./);
    await unary(r.c.control, 'ClearFaults', { deviceID: 1 });
    await unary(r.c.control, 'ClearFaults', { deviceID: 2 });
    for (let i = 0; i < 10; i += 1) await getList(1);
  });

  test('latency delays the answer: past the client\'s deadline it is DEADLINE_EXCEEDED, within it the call succeeds', async () => {
    r.sim.device(3).setFault({ latencyMs: 60_000 });
    assert.equal((await failure(getList(3, 200))).code, code.DEADLINE_EXCEEDED);
    r.sim.device(3).setFault({ latencyMs: 20 });
    assert.deepEqual(await getList(3, 30_000), { hdrs: [] });
    r.sim.device(3).clearFaults();
  });

  test('a hung call neither completes nor errors until the client\'s deadline: DEADLINE_EXCEEDED', async () => {
    r.sim.device(3).setFault({ hangCount: 1 });
    assert.equal(r.sim.device(3).state().fault?.hangCount, 1);
    const error = await failure(unary(r.c.user, 'Enroll', { deviceID: 3, users: [user('9')], overwrite: false }, 300));
    assert.equal(error.code, code.DEADLINE_EXCEEDED);
    assert.equal(r.sim.device(3).user('9'), undefined, 'the hung call changed nothing');
    assert.deepEqual(await getList(3), { hdrs: [] }, 'only one call hangs');
  });

  test('a hung device hangs a Multi call that includes it', async () => {
    r.sim.device(3).setFault({ hangCount: 1 });
    const error = await failure(unary(r.c.user, 'DeleteAllMulti', { deviceIDs: [1, 3] }, 300));
    assert.equal(error.code, code.DEADLINE_EXCEEDED);
    assert.equal(r.sim.device(1).userCount, 0, 'device 1 answered and kept its change');
  });

  test('a poisoned user fails the writes that carry it, on that device only; the others and other users are not touched', async () => {
    await unary(r.c.control, 'SetFault', { deviceID: 2, poisonUserIDs: ['66'], poisonCode: code.DATA_LOSS });
    const error = await failure(unary(r.c.user, 'EnrollMulti', { deviceIDs: [1, 2], users: [user('65'), user('66')], overwrite: true }));
    assert.deepEqual(deviceErrorsOf(error).map((e) => [e.deviceID, e.code]), [[2, code.DATA_LOSS]]);
    assert.match(deviceErrorsOf(error)[0]!.msg, /user 66 is poisoned/);
    assert.ok(r.sim.device(1).user('66') && r.sim.device(1).user('65'), 'device 1 took both');
    assert.equal(r.sim.device(2).user('65'), undefined, 'the poisoned call did nothing on device 2');
    await unary(r.c.user, 'EnrollMulti', { deviceIDs: [2], users: [user('65')], overwrite: true });
    assert.ok(r.sim.device(2).user('65'));
    assert.equal((await failure(unary(r.c.user, 'Enroll', { deviceID: 2, users: [user('66')], overwrite: true }))).code, code.DATA_LOSS);
    // A delete is not poisoned; an empty list in SetFault keeps the IDs.
    await unary(r.c.user, 'DeleteMulti', { deviceIDs: [2], userIDs: ['66', '65'] });
    const kept = await unary<{ fault: { poisonUserIDs: string[] } }>(r.c.control, 'SetFault', { deviceID: 2, latencyMs: 0 });
    assert.deepEqual(kept.fault.poisonUserIDs, ['66']);
    // As a whole: no per-device errors in the trailer.
    r.sim.device(2).setFault({ poisonWholeCall: true });
    const whole = await failure(unary(r.c.user, 'EnrollMulti', { deviceIDs: [1, 2], users: [user('66')], overwrite: true }));
    assert.equal(whole.code, code.DATA_LOSS);
    assert.equal(whole.metadata.get('grpc-status-details-bin').length, 0);
    await unary(r.c.control, 'ClearFaults', { deviceID: 2 });
    assert.deepEqual(r.sim.device(2).state().fault?.poisonUserIDs, []);
    await unary(r.c.user, 'Enroll', { deviceID: 2, users: [user('66')], overwrite: true });
  });

  test('a batch above slowAboveUsers times out on the device (or is delayed); smaller ones answer at once', async () => {
    r.sim.device(3).setFault({ slowAboveUsers: 2 });
    const users = ['71', '72', '73'].map((id) => user(id));
    const error = await failure(unary(r.c.user, 'EnrollMulti', { deviceIDs: [1, 3], users, overwrite: true }));
    assert.deepEqual(deviceErrorsOf(error).map((e) => [e.deviceID, e.code]), [[3, code.DEADLINE_EXCEEDED]]);
    await unary(r.c.user, 'EnrollMulti', { deviceIDs: [3], users: users.slice(0, 2), overwrite: true });
    assert.ok(r.sim.device(3).user('72'));
    r.sim.device(3).setFault({ slowLatencyMs: 60_000 });
    assert.equal((await failure(unary(r.c.user, 'DeleteMulti', { deviceIDs: [3], userIDs: ['71', '72', '73'] }, 300))).code, code.DEADLINE_EXCEEDED);
    await unary(r.c.user, 'DeleteMulti', { deviceIDs: [3], userIDs: ['71', '72'] });
    assert.equal(r.sim.device(3).user('71'), undefined);
    r.sim.device(3).clearFaults();
  });

  test('faults do not touch the control service or gateway-level calls', async () => {
    r.sim.device(1).setFault({ failNextCount: 5, failNextCode: code.INTERNAL });
    await unary(r.c.connect, 'GetDeviceList', {});
    await unary(r.c.user, 'GetPINHash', { PIN: '1' });
    await unary(r.c.control, 'ListDevices', {});
    assert.equal(r.sim.device(1).state().fault?.failNextCount, 5);
    r.sim.device(1).clearFaults();
  });
});
