import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserInfo } from '../../proto/gen/gsdk/user.js';
import { cancel, code, failure, openStream, take, unary, user } from './gsdk-client.js';
import { running, type Running } from './harness.js';

interface Event {
  ID: number;
  deviceID: number;
  userID: string;
  eventCode: number;
  subCode: number;
  changedOnDevice: boolean;
  timestamp: number;
}

describe('gsdk.event.Event', () => {
  let r: Running;
  before(async () => {
    r = await running([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });
  after(() => r.close());

  const enroll = (deviceID: number, id: string) => unary(r.c.user, 'Enroll', { deviceID, users: [user(id)], overwrite: true });

  test('realtime delivery needs monitoring; GetLog always works; IDs only increase', async () => {
    const stream = await openStream(r.c.event, 'SubscribeRealtimeLog', { queueSize: 100, deviceIDs: [], eventCodes: [] });
    try {
      await enroll(1, '1'); // not monitored: logged, not streamed
      await unary(r.c.event, 'EnableMonitoring', { deviceID: 1 });
      await enroll(1, '2');
      const [event] = await take<Event>(stream, 1);
      assert.equal(event?.userID, '2');
      assert.equal(event?.deviceID, 1);
      assert.equal(event?.eventCode, 0x2000);
      assert.equal(event?.subCode, 1);
      assert.equal(event?.changedOnDevice, false);
      assert.ok((event?.timestamp ?? 0) > 1_600_000_000);
      const { events } = await unary(r.c.event, 'GetLog', { deviceID: 1, startEventID: 0, maxNumOfLog: 0 });
      assert.deepEqual(events.map((e: Event) => e.userID), ['1', '2']);
      assert.deepEqual(events.map((e: Event) => e.ID), [1, 2]);
    } finally {
      await cancel(stream);
      await unary(r.c.event, 'DisableMonitoring', { deviceID: 1 });
    }
  });

  test('GetLog: startEventID is inclusive, maxNumOfLog bounds the page, 0 = all', async () => {
    for (let i = 0; i < 5; i += 1) await enroll(2, String(100 + i));
    const page = await unary(r.c.event, 'GetLog', { deviceID: 2, startEventID: 2, maxNumOfLog: 2 });
    assert.deepEqual(page.events.map((e: Event) => e.ID), [2, 3]);
    const rest = await unary(r.c.event, 'GetLog', { deviceID: 2, startEventID: 4, maxNumOfLog: 0 });
    assert.deepEqual(rest.events.map((e: Event) => e.ID), [4, 5]);
    const none = await unary(r.c.event, 'GetLog', { deviceID: 2, startEventID: 6, maxNumOfLog: 0 });
    assert.deepEqual(none.events, []);
    assert.equal((await failure(unary(r.c.event, 'GetLog', { deviceID: 77, startEventID: 0, maxNumOfLog: 0 }))).code, code.NOT_FOUND);
  });

  test('changes at the device carry subCode 2 and changedOnDevice; the gateway\'s carry subCode 1', async () => {
    await unary(r.c.event, 'EnableMonitoring', { deviceID: 3 });
    const stream = await openStream(r.c.event, 'SubscribeRealtimeLog', { queueSize: 100, deviceIDs: [3], eventCodes: [] });
    try {
      const at = r.sim.device(3);
      at.enrollAtDevice(UserInfo.fromPartial({ hdr: { ID: '7' }, name: 'At the door' }));
      at.updateAtDevice(UserInfo.fromPartial({ hdr: { ID: '7' }, name: 'Edited' }));
      await enroll(3, '8');
      at.deleteAtDevice(['7']);
      const events = await take<Event>(stream, 4);
      assert.deepEqual(
        events.map((e) => [e.eventCode, e.subCode, e.changedOnDevice, e.userID]),
        [
          [0x2000, 2, true, '7'],
          [0x2200, 2, true, '7'],
          [0x2000, 1, false, '8'],
          [0x2400, 2, true, '7'],
        ],
      );
      const ids = events.map((e) => e.ID);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      assert.equal(new Set(ids).size, 4);
    } finally {
      await cancel(stream);
    }
  });

  test('deviceIDs and eventCodes filters', async () => {
    await unary(r.c.event, 'EnableMonitoringMulti', { deviceIDs: [1, 2, 3] });
    const onlyTwo = await openStream(r.c.event, 'SubscribeRealtimeLog', { queueSize: 100, deviceIDs: [2], eventCodes: [] });
    const onlyDeletes = await openStream(r.c.event, 'SubscribeRealtimeLog', { queueSize: 100, deviceIDs: [], eventCodes: [0x2400] });
    try {
      await enroll(1, '50');
      await enroll(2, '51');
      await unary(r.c.user, 'Delete', { deviceID: 1, userIDs: ['50'] });
      await unary(r.c.user, 'Delete', { deviceID: 2, userIDs: ['51'] });
      const two = await take<Event>(onlyTwo, 2);
      assert.deepEqual(two.map((e) => [e.deviceID, e.eventCode, e.userID]), [
        [2, 0x2000, '51'],
        [2, 0x2400, '51'],
      ]);
      const deletes = await take<Event>(onlyDeletes, 2);
      assert.deepEqual(deletes.map((e) => [e.deviceID, e.eventCode, e.userID]), [
        [1, 0x2400, '50'],
        [2, 0x2400, '51'],
      ]);
    } finally {
      await cancel(onlyTwo);
      await cancel(onlyDeletes);
    }
  });

  test('monitoring is lost when the device disconnects; EnableMonitoring on it is UNAVAILABLE', async () => {
    await unary(r.c.event, 'EnableMonitoring', { deviceID: 2 });
    r.sim.device(2).disconnect();
    assert.equal(r.sim.device(2).state().monitoring, false);
    assert.equal((await failure(unary(r.c.event, 'EnableMonitoring', { deviceID: 2 }))).code, code.UNAVAILABLE);
    // A person at the device can still enroll: logged, caught up by GetLog after reconnecting.
    r.sim.device(2).enrollAtDevice(UserInfo.fromPartial({ hdr: { ID: '60' } }));
    r.sim.device(2).reconnect();
    const last = r.sim.device(2).state().lastEventID;
    const { events } = await unary(r.c.event, 'GetLog', { deviceID: 2, startEventID: last, maxNumOfLog: 0 });
    assert.deepEqual(events.map((e: Event) => [e.userID, e.subCode]), [['60', 2]]);
  });

  test('a subscriber that does not read loses events beyond its queue, as the gateway drops them', async () => {
    await unary(r.c.event, 'EnableMonitoring', { deviceID: 1 });
    const stream = await openStream(r.c.event, 'SubscribeRealtimeLog', { queueSize: 4, deviceIDs: [1], eventCodes: [0x1000] });
    const start = r.sim.stats().realtime;
    const emitted = 60_000;
    // The client does not read yet: HTTP/2 flow control fills, then the queue of 4, then drops.
    for (let i = 0; i < emitted; i += 1) r.sim.device(1).recordEvent({ eventCode: 0x1000, subCode: 0, userID: String(i + 1) });
    const stats = r.sim.stats().realtime;
    const delivered = stats.delivered - start.delivered;
    const dropped = stats.dropped - start.dropped;
    assert.equal(delivered + dropped, emitted);
    assert.ok(dropped > 0, 'some events were dropped');
    try {
      const received = await take<Event>(stream, delivered);
      assert.equal(received.length, delivered);
      for (let i = 1; i < received.length; i += 1) {
        assert.ok((received[i]?.ID ?? 0) > (received[i - 1]?.ID ?? 0), 'IDs still increase across the gap');
      }
      // After the drain the queue works again.
      r.sim.device(1).recordEvent({ eventCode: 0x1000, userID: 'after' });
      const [next] = await take<Event>(stream, 1);
      assert.equal(next?.userID, 'after');
    } finally {
      await cancel(stream);
    }
  });
});
