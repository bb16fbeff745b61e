import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RollcallError } from '../../../../daemon/errors.js';
import { toDeviceHolds } from '../../../../plugins/transports/gsdk/device-views.js';
import { emptyUser, type User } from '../../../../daemon/model/user.js';
import { deviceProjectionHash } from '../../../../plugins/transports/gsdk/projection-hash.js';
import { ConnectionStatus, InfoMask, UpdateMask } from '../../../../plugins/transports/gsdk/types.js';
import { toUserInfo } from '../../../../plugins/transports/gsdk/user-info.js';
import { b64, counterValue, fullUser } from './fixtures.js';
import { rejectsWithCode, startHarness, type Harness } from './harness.js';
import { TemplateFormat } from '../../../../proto/gen/gsdk/finger.js';

const DEVICES = [1001, 1002, 1003];
const USER_ENROLL_SUCCESS = 0x2000;

describe('gsdk transport against the simulator', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ deadlines: { defaultMs: 5000, longMs: 5000 } });
  });
  after(async () => {
    await h.close();
  });

  describe('connection', () => {
    test('ready and healthy', async () => {
      await h.transport.ready();
      assert.deepEqual(h.transport.health().ok, true);
      assert.equal(h.transport.address, h.sim.address);
    });

    test('getDeviceList and listDevices', async () => {
      const infos = await h.transport.gateway.getDeviceList();
      assert.deepEqual(infos.map((info) => info.deviceID).sort(), DEVICES);
      assert.ok(infos.every((info) => info.status === ConnectionStatus.TCP_CONNECTED));
      const devices = await h.transport.listDevices();
      assert.deepEqual(
        devices.map((device) => ({ id: device.id, connected: device.connected, port: device.port })).sort((a, b) => a.id - b.id),
        DEVICES.map((id) => ({ id, connected: true, port: 51211 })),
      );
    });

    test('disconnect, connect, async connections', async () => {
      await h.transport.gateway.disconnect([1003]);
      assert.ok(!(await h.transport.gateway.getDeviceList()).some((info) => info.deviceID === 1003));
      await rejectsWithCode(h.transport.gateway.getStatistic(1003), 'NOT_FOUND', { method: 'GetStatistic', deviceId: 1003 });

      // The simulator puts the third device at 10.0.0.3.
      assert.equal(await h.transport.gateway.connect({ address: '10.0.0.3' }), 1003);
      assert.equal((await h.transport.gateway.getStatistic(1003)).numOfUsers, 0);

      await h.transport.gateway.disconnect([1003]);
      await h.transport.connectDevices([{ id: 1003, address: '10.0.0.3', port: 51211 }]);
      const info = (await h.transport.gateway.getDeviceList()).find((entry) => entry.deviceID === 1003);
      assert.equal(info?.autoReconnect, true);

      await h.transport.gateway.deleteAsyncConnection([1003]);
      assert.ok(!(await h.transport.gateway.getDeviceList()).some((entry) => entry.deviceID === 1003));
      await h.transport.gateway.addAsyncConnection([{ deviceId: 1003, address: '10.0.0.3' }]);
      assert.ok((await h.transport.gateway.getDeviceList()).some((entry) => entry.deviceID === 1003));
    });

    test('a connect to an address without a device fails with the gateway\'s code', async () => {
      await rejectsWithCode(h.transport.gateway.connect({ address: '192.0.2.1', port: 51211 }), 'UNAVAILABLE', { method: 'Connect' });
    });
  });

  describe('device', () => {
    test('getInfo, getCapabilityInfo, getCapability', async () => {
      const info = await h.transport.gateway.getInfo(1001);
      assert.ok(info.modelName.length > 0);
      const capInfo = await h.transport.gateway.getCapabilityInfo(1001);
      assert.ok(capInfo.type > 0);
      assert.ok(capInfo.maxNumOfUser > 0);
      const capability = await h.transport.gateway.getCapability(1001);
      assert.equal(capability.maxUsers, 500_000);
      assert.equal(capability.maxCardsPerUser, 8);
    });

    test('deviceProfile', async () => {
      const capInfo = await h.transport.gateway.getCapabilityInfo(1002);
      const capability = await h.transport.gateway.getCapability(1002);
      assert.deepEqual(await h.transport.deviceProfile(1002), {
        type: capInfo.type,
        maxUsers: 500_000,
        alphanumericIdSupported: true,
        alphanumericIdEnabled: false,
        holds: toDeviceHolds(capInfo, capability),
        templateFormat: (await h.transport.gateway.getFingerConfig(1002)).templateFormat,
      });
      // The format the device is configured for (Finger.GetConfig), as it changes.
      h.sim.device(1002).setCapacity({ templateFormat: TemplateFormat.ISO });
      assert.equal((await h.transport.deviceProfile(1002)).templateFormat, TemplateFormat.ISO);
      h.sim.device(1002).setCapacity({ templateFormat: TemplateFormat.SUPREMA });
      assert.equal((await h.transport.deviceProfile(1002)).templateFormat, TemplateFormat.SUPREMA);
    });

    test('alphanumeric IDs on and off', async () => {
      assert.equal(await h.transport.gateway.getUseAlphanumericID(1002), false);
      await rejectsWithCode(h.transport.gateway.enroll(1002, [emptyUser('badge-A1')]), 'INVALID_ARGUMENT');
      await h.transport.gateway.setUseAlphanumericID(1002, true);
      assert.equal(await h.transport.gateway.getUseAlphanumericID(1002), true);
      assert.equal(h.sim.device(1002).state().useAlphanumericID, true);
      await h.transport.gateway.enroll(1002, [emptyUser('badge-A1')]);
      // The device refuses to go back while it holds a non-numeric ID.
      await rejectsWithCode(h.transport.gateway.setUseAlphanumericID(1002, false), 'FAILED_PRECONDITION', { method: 'SetConfig', deviceId: 1002 });
      await h.transport.gateway.delete(1002, ['badge-A1']);
      await h.transport.gateway.setUseAlphanumericID(1002, false);
      assert.equal(await h.transport.gateway.getUseAlphanumericID(1002), false);
    });
  });

  describe('users on one device', () => {
    test('enroll, get back the same user, same projection hash', async () => {
      const user = fullUser('100');
      await h.transport.gateway.enroll(1001, [user]);
      const [read] = await h.transport.gateway.get(1001, ['100']);
      assert.deepEqual(read, user);
      assert.equal(deviceProjectionHash(read!), deviceProjectionHash(user));
    });

    test('getList and listUsers give headers', async () => {
      await h.transport.gateway.enroll(1001, [emptyUser('101')]);
      const hdrs = await h.transport.gateway.getList(1001);
      const hdr = hdrs.find((entry) => entry.ID === '100');
      assert.deepEqual([hdr?.numOfCard, hdr?.numOfFinger, hdr?.numOfFace], [2, 2, 1]);
      const headers = await h.transport.listUsers(1001);
      assert.deepEqual(headers.find((entry) => entry.id === '101'), { id: '101', cards: 0, fingers: 0, faces: 0 });
      assert.deepEqual(headers.find((entry) => entry.id === '100'), { id: '100', cards: 2, fingers: 2, faces: 1 });
    });

    test('getPartial returns only the masked fields', async () => {
      const user = fullUser('100');
      const [partial] = await h.transport.gateway.getPartial(1001, ['100'], InfoMask.INFO_MASK_NAME | InfoMask.INFO_MASK_CARD);
      assert.deepEqual(partial, { id: '100', name: user.name, cards: user.cards });
    });

    test('enroll without overwrite refuses an existing ID', async () => {
      await rejectsWithCode(h.transport.gateway.enroll(1001, [emptyUser('100')], { overwrite: false }), 'ALREADY_EXISTS', {
        method: 'Enroll',
        code: 6,
        deviceId: 1001,
      });
      const replaced: User = { ...emptyUser('101'), name: 'Replaced' };
      await h.transport.gateway.enroll(1001, [replaced]);
      assert.equal((await h.transport.gateway.get(1001, ['101']))[0]?.name, 'Replaced');
    });

    test('update replaces, or keeps the parts the mask says', async () => {
      const user = fullUser('102');
      await h.transport.gateway.enroll(1001, [user]);
      await h.transport.gateway.update(1001, [{ ...user, name: 'Kept cards', cards: [] }], { updateMask: UpdateMask.UPDATE_MASK_CARD });
      const [kept] = await h.transport.gateway.get(1001, ['102']);
      assert.equal(kept?.name, 'Kept cards');
      assert.deepEqual(kept?.cards, user.cards);
      await h.transport.gateway.update(1001, [{ ...user, name: 'No cards', cards: [] }]);
      const [replaced] = await h.transport.gateway.get(1001, ['102']);
      assert.deepEqual(replaced?.cards, []);
      await rejectsWithCode(h.transport.gateway.update(1001, [emptyUser('999999')]), 'NOT_FOUND', { method: 'Update' });
    });

    test('get is strict about unknown IDs; getUsers leaves them out', async () => {
      await rejectsWithCode(h.transport.gateway.get(1001, ['100', '424242']), 'NOT_FOUND', { method: 'Get', deviceId: 1001 });
      const users = await h.transport.getUsers(1001, ['424242', '100', '434343', '101']);
      assert.deepEqual(users.map((user) => user.id).sort(), ['100', '101']);
      assert.deepEqual(await h.transport.getUsers(1001, ['555']), []);
      assert.deepEqual(await h.transport.getUsers(1001, []), []);
    });

    test('getUsers does not mistake an unknown device for missing users', async () => {
      await rejectsWithCode(h.transport.getUsers(4040, ['100']), 'NOT_FOUND', { deviceId: 4040 });
    });

    test('delete and deleteAll', async () => {
      await h.transport.gateway.enroll(1002, [emptyUser('200'), emptyUser('201'), emptyUser('202')]);
      await h.transport.gateway.delete(1002, ['200']);
      assert.deepEqual((await h.transport.listUsers(1002)).map((hdr) => hdr.id).sort(), ['201', '202']);
      await h.transport.gateway.deleteAll(1002);
      assert.deepEqual(await h.transport.gateway.getList(1002), []);
    });

    test('getStatistic counts what the device holds', async () => {
      await h.transport.gateway.deleteAll(1002);
      await h.transport.gateway.enroll(1002, [fullUser('300'), emptyUser('301')]);
      const statistic = await h.transport.gateway.getStatistic(1002);
      assert.equal(statistic.numOfUsers, 2);
      assert.equal(statistic.numOfCards, 2);
      assert.equal(statistic.numOfFingerprints, 2);
      assert.equal(statistic.numOfFaces, 1);
      await h.transport.gateway.deleteAll(1002);
    });

    test('getPINHash: 32 bytes, the same for the same PIN', async () => {
      const first = await h.transport.gateway.getPINHash('1234');
      assert.equal(first.length, 32);
      assert.deepEqual(await h.transport.gateway.getPINHash('1234'), first);
      assert.notDeepEqual(await h.transport.gateway.getPINHash('4321'), first);
      assert.equal(await h.transport.hashPin('1234'), first.toString('base64'));
    });

    test('a PIN never appears in an error', async () => {
      const secret = '98765432109876543210';
      const error = await rejectsWithCode(h.transport.gateway.getPINHash(secret), 'INVALID_ARGUMENT', { method: 'GetPINHash' });
      assert.ok(!error.message.includes(secret));
      assert.ok(!JSON.stringify(error.detail).includes(secret));
    });

    test('encodedSize and maxMessageBytes', () => {
      assert.equal(h.transport.maxMessageBytes, 4 * 1024 * 1024);
      assert.ok(h.transport.encodedSize(fullUser('1')) > h.transport.encodedSize(emptyUser('1')));
    });
  });

  describe('Multi calls', () => {
    test('all devices succeed', async () => {
      const result = await h.transport.gateway.enrollMulti(DEVICES, [emptyUser('400')]);
      assert.deepEqual(result.ok, DEVICES);
      assert.equal(result.failed.size, 0);
      for (const id of DEVICES) assert.equal(h.sim.device(id).user('400')?.hdr?.ID, '400');
    });

    test('a full device fails alone, the others keep the user (trailer decoded)', async () => {
      h.sim.device(1002).setCapacity({ maxUsers: 0 });
      try {
        const result = await h.transport.enrollUsers(DEVICES, [emptyUser('401')]);
        assert.deepEqual(result.ok, [1001, 1003]);
        assert.deepEqual([...result.failed.keys()], [1002]);
        assert.equal(result.failed.get(1002)?.codeName, 'RESOURCE_EXHAUSTED');
        assert.equal(result.failed.get(1002)?.code, 8);
        assert.match(result.failed.get(1002)?.message ?? '', /1002/);
        assert.equal(h.sim.device(1001).user('401')?.hdr?.ID, '401');
        assert.equal(h.sim.device(1002).user('401'), undefined);
      } finally {
        h.sim.device(1002).setCapacity({ maxUsers: 500_000 });
      }
    });

    test('a disconnected device fails UNAVAILABLE; the channel stays healthy', async () => {
      h.sim.device(1003).disconnect();
      try {
        const result = await h.transport.deleteUsers(DEVICES, ['400']);
        assert.deepEqual(result.ok, [1001, 1002]);
        assert.equal(result.failed.get(1003)?.codeName, 'UNAVAILABLE');
        assert.equal(h.transport.health().ok, true);
      } finally {
        h.sim.device(1003).reconnect();
      }
    });

    test('every device failing still resolves per device', async () => {
      for (const id of DEVICES) h.sim.device(id).setFault({ failNextCode: 13, failNextCount: 1 });
      const result = await h.transport.gateway.deleteAllMulti(DEVICES);
      assert.deepEqual(result.ok, []);
      assert.deepEqual([...result.failed.keys()].sort(), DEVICES);
      assert.ok([...result.failed.values()].every((failure) => failure.codeName === 'INTERNAL'));
    });

    test('updateMulti, deleteMulti, deleteAllMulti', async () => {
      await h.transport.gateway.enrollMulti([1001, 1002], [emptyUser('402')]);
      const updated = await h.transport.gateway.updateMulti([1001, 1002], [{ ...emptyUser('402'), name: 'Multi' }]);
      assert.deepEqual(updated.ok, [1001, 1002]);
      assert.equal(h.sim.device(1002).user('402')?.name, 'Multi');
      const deleted = await h.transport.gateway.deleteMulti([1001, 1002], ['402']);
      assert.deepEqual(deleted.ok, [1001, 1002]);
      assert.equal(h.sim.device(1001).user('402'), undefined);
      await h.transport.gateway.enrollMulti([1002, 1003], [emptyUser('403')]);
      const cleared = await h.transport.gateway.deleteAllMulti([1002, 1003]);
      assert.deepEqual(cleared.ok, [1002, 1003]);
      assert.equal(h.sim.device(1003).userCount, 0);
    });

    test('nothing to do makes no call', async () => {
      const before = await counterValue(h.test.metrics, 'rollcall_gateway_calls_total', { method: 'EnrollMulti' });
      assert.deepEqual((await h.transport.gateway.enrollMulti(DEVICES, [])).ok, DEVICES);
      assert.deepEqual((await h.transport.gateway.deleteMulti([], ['1'])).ok, []);
      assert.equal(await counterValue(h.test.metrics, 'rollcall_gateway_calls_total', { method: 'EnrollMulti' }), before);
    });

    test('a Multi call that fails without a trailer rejects for all devices', async () => {
      h.sim.device(1002).setFault({ hangCount: 1 });
      await rejectsWithCode(h.transport.gateway.enrollMulti(DEVICES, [emptyUser('404')], { deadlineMs: 300 }), 'DEADLINE_EXCEEDED', {
        method: 'EnrollMulti',
        deviceIds: DEVICES,
      });
    });
  });

  describe('events', () => {
    test('monitoring, realtime events, cancel ends quietly', async () => {
      const result = await h.transport.enableMonitoring([1001, 1002]);
      assert.deepEqual(result.ok, [1001, 1002]);
      const stream = h.transport.subscribeEvents({ deviceIds: [1001], eventCodes: [USER_ENROLL_SUCCESS] });
      const seen: Array<{ userId?: string; subCode: number; changedOnDevice: boolean }> = [];
      const reading = (async () => {
        for await (const event of stream) {
          assert.equal(event.deviceId, 1001);
          assert.equal(event.eventCode, USER_ENROLL_SUCCESS);
          seen.push({ userId: event.userId, subCode: event.subCode, changedOnDevice: event.changedOnDevice });
          if (event.subCode === 2) stream.cancel();
        }
      })();
      // The subscription reaches the simulator a little after the call: enroll until it reports.
      await enrollUntilSeen(h, seen);
      assert.deepEqual({ subCode: seen[0]?.subCode, changedOnDevice: seen[0]?.changedOnDevice }, { subCode: 1, changedOnDevice: false });
      h.sim.device(1001).enrollAtDevice(toUserInfo(emptyUser('501')));
      await reading;
      assert.deepEqual(seen[seen.length - 1], { userId: '501', subCode: 2, changedOnDevice: true });
      assert.equal(stream.cancelled, true);
      const disabled = await h.transport.gateway.disableMonitoring([1001, 1002]);
      assert.deepEqual(disabled.ok, [1001, 1002]);
    });

    test('getLog and readEvents read the device log from an ID on', async () => {
      await h.transport.gateway.enroll(1003, [emptyUser('600')]);
      const all = await h.transport.gateway.getLog(1003, 0, 0);
      assert.ok(all.length > 0);
      const ids = all.map((event) => event.ID);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      const last = all[all.length - 1]!;
      assert.equal(last.userID, '600');
      const tail = await h.transport.readEvents(1003, last.ID, 10);
      assert.deepEqual(tail.map((event) => event.id), [last.ID]);
      assert.equal(tail[0]?.userId, '600');
      assert.equal((await h.transport.gateway.getLog(1003, 0, 1)).length, 1);
    });

    test('status changes of a device that drops and returns', async () => {
      const stream = h.transport.subscribeStatus();
      const changes: Array<{ deviceId: number; connected: boolean }> = [];
      const reading = (async () => {
        for await (const change of stream) {
          // Only from the first drop on: an earlier reconnect may or may not have been seen.
          if (change.deviceId !== 1002 || (changes.length === 0 && change.connected)) continue;
          changes.push({ deviceId: change.deviceId, connected: change.connected });
          if (changes.length === 2) stream.cancel();
        }
      })();
      // A subscription that has not reached the simulator yet misses the change; repeat until seen.
      for (let i = 0; i < 50 && changes.length === 0; i++) {
        h.sim.device(1002).disconnect();
        await delay(20);
        if (changes.length === 0) {
          h.sim.device(1002).reconnect();
          await delay(20);
        }
      }
      h.sim.device(1002).reconnect();
      await reading;
      assert.deepEqual(changes, [
        { deviceId: 1002, connected: false },
        { deviceId: 1002, connected: true },
      ]);
    });

    test('breaking out of a for-await cancels the stream', async () => {
      const stream = h.transport.subscribeStatus();
      const reading = (async () => {
        for await (const change of stream) {
          if (change.deviceId === 1001) break;
        }
      })();
      for (let i = 0; i < 50 && !stream.cancelled; i++) {
        h.sim.device(1001).disconnect();
        h.sim.device(1001).reconnect();
        await delay(20);
      }
      await reading;
      assert.equal(stream.cancelled, true);
    });

    test('a stream can be iterated only once, and an abort signal cancels it', async () => {
      const abort = new AbortController();
      const stream = h.transport.gateway.subscribeRealtimeLog({}, { signal: abort.signal });
      const iterator = stream[Symbol.asyncIterator]();
      assert.throws(() => stream[Symbol.asyncIterator](), /only once/);
      abort.abort();
      assert.deepEqual(await iterator.next(), { done: true, value: undefined });
      const early = h.transport.subscribeEvents({}, { signal: AbortSignal.abort() });
      for await (const event of early) assert.fail(`unexpected event ${event.id}`);
    });
  });

  describe('deadlines, cancellation and metrics', () => {
    test('a call that never answers ends DEADLINE_EXCEEDED, not before its deadline', async () => {
      h.sim.device(1001).setFault({ hangCount: 1 });
      const started = performance.now();
      await rejectsWithCode(h.transport.gateway.getStatistic(1001, { deadlineMs: 400 }), 'DEADLINE_EXCEEDED', { deviceId: 1001, code: 4 });
      const elapsed = performance.now() - started;
      // Timers may fire a millisecond early; never a deadline's worth.
      assert.ok(elapsed >= 390, `ended after ${elapsed} ms`);
    });

    test('an AbortSignal cancels a call: CANCELLED', async () => {
      h.sim.device(1001).setFault({ hangCount: 1 });
      const abort = new AbortController();
      const pending = h.transport.gateway.getStatistic(1001, { signal: abort.signal });
      setImmediate(() => abort.abort());
      const started = performance.now();
      await rejectsWithCode(pending, 'CANCELLED', { code: 1, deviceId: 1001 });
      // The configured deadline is 5 s; a cancel must not wait for it.
      assert.ok(performance.now() - started < 4000);
      h.sim.device(1001).clearFaults();
    });

    test('an already aborted signal rejects without a call', async () => {
      const before = await counterValue(h.test.metrics, 'rollcall_gateway_calls_total', { method: 'GetInfo', code: 'CANCELLED' });
      await rejectsWithCode(h.transport.gateway.getInfo(1001, { signal: AbortSignal.abort() }), 'CANCELLED');
      assert.equal(await counterValue(h.test.metrics, 'rollcall_gateway_calls_total', { method: 'GetInfo', code: 'CANCELLED' }), before + 1);
    });

    test('calls are counted by method and code, and timed', async () => {
      const metrics = h.test.metrics;
      const ok = await counterValue(metrics, 'rollcall_gateway_calls_total', { method: 'GetStatistic', code: 'OK' });
      const notFound = await counterValue(metrics, 'rollcall_gateway_calls_total', { method: 'GetStatistic', code: 'NOT_FOUND' });
      await h.transport.gateway.getStatistic(1002);
      await h.transport.gateway.getStatistic(1002);
      await rejectsWithCode(h.transport.gateway.getStatistic(9999), 'NOT_FOUND');
      assert.equal(await counterValue(metrics, 'rollcall_gateway_calls_total', { method: 'GetStatistic', code: 'OK' }), ok + 2);
      assert.equal(await counterValue(metrics, 'rollcall_gateway_calls_total', { method: 'GetStatistic', code: 'NOT_FOUND' }), notFound + 1);
      const histogram = await metrics.registry.getSingleMetric('rollcall_gateway_call_duration_seconds')!.get();
      const values = histogram.values as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>;
      const count = values.find((value) => value.metricName === 'rollcall_gateway_call_duration_seconds_count' && value.labels['method'] === 'GetStatistic');
      assert.ok((count?.value ?? 0) >= ok + notFound + 3);
      const text = await metrics.registry.metrics();
      assert.match(text, /rollcall_gateway_calls_total\{method="EnrollMulti",code="OK"\} \d+/);
      assert.match(text, /rollcall_gateway_calls_total\{method="SubscribeRealtimeLog",code="CANCELLED"\} \d+/);
    });

    test('errors name the RPC, the code and the device, with the gRPC error as cause', async () => {
      const error = await rejectsWithCode(h.transport.gateway.getInfo(7777), 'NOT_FOUND', { method: 'GetInfo', code: 5, deviceId: 7777 });
      assert.match(error.message, /GetInfo on device 7777 failed: NOT_FOUND/);
      assert.equal((error.cause as { code?: number }).code, 5);
    });
  });
});

describe('paging of Get under the message limit', () => {
  let h: Harness;
  before(async () => {
    // The receive limit as small as the send limit, so that a page of heavy users overflows it.
    h = await startHarness({ maxMessageBytes: 256 * 1024, maxReceiveBytes: 256 * 1024 }, [2001]);
  });
  after(async () => {
    await h.close();
  });

  test('pages keep a response under the limit; an overflowing page is split', async () => {
    // ~150 KB each: two of them overflow a 256 KiB response, one fits.
    const heavy = (id: string): User => ({
      ...emptyUser(id),
      photo: b64(16_000, 0xd8),
      faces: [{ index: 0, flag: 0, templates: [b64(134_000, 1)] }],
    });
    const ids = ['1', '2', '3', '4', '5'];
    for (const id of ids) await h.transport.gateway.enroll(2001, [heavy(id)]);
    const metrics = h.test.metrics;
    const exhausted = await counterValue(metrics, 'rollcall_gateway_calls_total', { method: 'Get', code: 'RESOURCE_EXHAUSTED' });
    const users = await h.transport.gateway.get(2001, ids);
    assert.deepEqual(users.map((user) => user.id), ids);
    assert.deepEqual(users[4], heavy('5'));
    assert.ok((await counterValue(metrics, 'rollcall_gateway_calls_total', { method: 'Get', code: 'RESOURCE_EXHAUSTED' })) > exhausted);
  });

  test('small users come in pages of the computed size', async () => {
    await h.transport.gateway.deleteAll(2001);
    const ids = Array.from({ length: 5 }, (_, i) => String(100 + i));
    await h.transport.gateway.enroll(2001, ids.map((id) => emptyUser(id)));
    const before = await counterValue(h.test.metrics, 'rollcall_gateway_calls_total', { method: 'Get', code: 'OK' });
    const users = await h.transport.getUsers(2001, ids);
    assert.equal(users.length, 5);
    // 256 KiB / 128 KiB per heavy user = 2 users a page: 3 calls.
    assert.equal(await counterValue(h.test.metrics, 'rollcall_gateway_calls_total', { method: 'Get', code: 'OK' }), before + 3);
  });
});

describe('long calls get the long deadline', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ deadlines: { defaultMs: 150, longMs: 600 } }, [3001]);
  });
  after(async () => {
    await h.close();
  });

  test('GetStatistic uses the default deadline, GetList the long one', async () => {
    h.sim.device(3001).setFault({ hangCount: 2 });
    let started = performance.now();
    await rejectsWithCode(h.transport.gateway.getStatistic(3001), 'DEADLINE_EXCEEDED');
    const short = performance.now() - started;
    started = performance.now();
    await rejectsWithCode(h.transport.gateway.getList(3001), 'DEADLINE_EXCEEDED');
    const long = performance.now() - started;
    assert.ok(short >= 140, `default deadline ended after ${short} ms`);
    assert.ok(long >= 590, `long deadline ended after ${long} ms`);
  });

  test('reload changes the deadlines', async () => {
    h.transport.reload({ address: h.sim.address, insecure: true, deadlines: { defaultMs: 400, longMs: 400 }, maxMessageBytes: 4 * 1024 * 1024, embedded: { devices: [] } });
    h.sim.device(3001).setFault({ hangCount: 1 });
    const started = performance.now();
    await rejectsWithCode(h.transport.gateway.getStatistic(3001), 'DEADLINE_EXCEEDED');
    assert.ok(performance.now() - started >= 390);
  });
});

describe('a gateway that is gone', () => {
  test('calls fail UNAVAILABLE with a hint, health turns bad, streams end with the error', async () => {
    const h = await startHarness({ deadlines: { defaultMs: 3000, longMs: 3000 } }, [4001]);
    try {
      await h.transport.gateway.getStatistic(4001);
      assert.equal(h.transport.health().ok, true);
      await h.sim.stop();
      const error = await rejectsWithCode(h.transport.gateway.getStatistic(4001), 'UNAVAILABLE', { deviceId: 4001 });
      assert.match(error.message, /plaintext/);
      const health = h.transport.health();
      assert.equal(health.ok, false, health.detail);
      await assert.rejects(h.transport.ready({ deadlineMs: 300 }), (e: unknown) => e instanceof RollcallError && e.code === 'ROLLCALL_ERR_GATEWAY_UNAVAILABLE');
      const stream = h.transport.subscribeEvents();
      await assert.rejects(
        (async () => {
          for await (const event of stream) assert.fail(`unexpected event ${event.id}`);
        })(),
        (e: unknown) => e instanceof RollcallError && e.detail?.['codeName'] === 'UNAVAILABLE' && e.detail?.['method'] === 'SubscribeRealtimeLog',
      );
      assert.equal(stream.cancelled, false);
    } finally {
      await h.close();
    }
  });

  test('stop cancels the calls and streams in flight', async () => {
    const h = await startHarness({ deadlines: { defaultMs: 60_000, longMs: 60_000 } }, [4003]);
    try {
      h.sim.device(4003).setFault({ hangCount: 1 });
      const hanging = h.transport.gateway.getStatistic(4003);
      const stream = h.transport.subscribeStatus();
      const reading = (async () => {
        for await (const change of stream) assert.fail(`unexpected change of ${change.deviceId}`);
      })();
      // Let the call reach the simulator before stopping.
      await h.transport.gateway.getInfo(4003).catch(() => undefined);
      await h.transport.stop();
      await rejectsWithCode(hanging, 'CANCELLED', { deviceId: 4003 });
      await reading;
      assert.equal(stream.cancelled, true);
    } finally {
      await h.close();
    }
  });

  test('a stopped transport refuses calls', async () => {
    const h = await startHarness({}, [4002]);
    await h.close();
    await assert.rejects(h.transport.gateway.getStatistic(4002), (e: unknown) => e instanceof RollcallError && e.code === 'ROLLCALL_ERR_GATEWAY_UNAVAILABLE');
    assert.equal(h.transport.health().ok, false);
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Enrolls users through the gateway until the stream has reported one (the subscription may open late). */
async function enrollUntilSeen(h: Harness, seen: unknown[]): Promise<void> {
  for (let i = 0; i < 100 && seen.length === 0; i++) {
    await h.transport.gateway.enroll(1001, [emptyUser(String(510 + i))]);
    if (seen.length === 0) await delay(20);
  }
  assert.ok(seen.length > 0, 'no realtime event arrived');
}
