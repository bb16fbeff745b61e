/**
 * `rollcall devices events-from <device> <eventId|latest>` against a running admin server
 * over real parts (simulator over gRPC, LevelDB, the engine following device events).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminHarness } from './admin-harness.js';
import { makeUser } from '../../helpers/sync-harness.js';
import { toUserInfo } from '../../../plugins/transports/gsdk/user-info.js';

interface DeviceBody {
  id: number;
  lastEventId: number;
  eventBaseline: { eventId: number; at: string; reason: string } | null;
}

describe('rollcall devices events-from', () => {
  let h: AdminHarness;

  before(async () => {
    h = await AdminHarness.start({ mode: 'all-devices-with-device-updates' });
    await h.sync.until('devices checked', () => h.sync.engine.status().every((d) => d.lastCheck !== undefined));
  });

  after(async () => {
    await h?.stop();
  });

  test('devices --json shows where each log is read from', async () => {
    const { code, body } = await h.json<{ devices: DeviceBody[] }>(['devices']);
    assert.equal(code, 0);
    for (const device of body.devices) assert.equal(device.eventBaseline?.reason, 'first-contact');
  });

  test('latest, an event ID, and bad input', async () => {
    const door = h.sync.sim.device(1002);
    door.enrollAtDevice(toUserInfo(makeUser('42', { name: 'Door' })));
    await h.sync.until('42 merged', async () => (await h.sync.store.getUser('42'))?.name === 'Door');
    const newest = door.state().lastEventID;

    const latest = await h.json<DeviceBody>(['devices', 'events-from', '1002', 'latest'], { child: true });
    assert.equal(latest.code, 0, latest.stderr);
    assert.equal(latest.body.eventBaseline?.reason, 'operator');
    assert.ok(latest.body.eventBaseline!.eventId >= newest + 1);

    // Back to the enrollment of 42: read again (merging it again changes nothing).
    const again = await h.json<DeviceBody>(['devices', 'events-from', '1002', String(newest)]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([again.body.eventBaseline?.eventId, again.body.eventBaseline?.reason], [newest, 'operator']);
    await h.sync.until('read again', async () => ((await h.sync.store.getDevice(1002))?.lastEventId ?? 0) >= newest);
    const baselines = await h.sync.store.queryEvents({ kind: 'device.events.baseline', deviceId: 1002 });
    assert.equal(baselines.at(-1)?.detail?.['reason'], 'operator');

    const human = await h.local(['devices', 'events-from', '1002', 'latest']);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^device 1002: its event log is read from event \d+ on/);

    const past = await h.json<{ error: { issues: { field: string }[]; message: string } }>(['devices', 'events-from', '1002', String(newest + 1000)]);
    assert.equal(past.code, 64);
    assert.equal(past.body.error.issues[0]?.field, 'start.eventId');
    assert.match(past.body.error.message, /has not logged event/);

    const unknown = await h.local(['devices', 'events-from', '999', 'latest']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no device 999/);

    const usage = await h.local(['devices', 'events-from', '1002', 'soon']);
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /<start> must be a whole number/);
  });

  test('latest for a device that is away: taken when it connects again', async () => {
    const door = h.sync.sim.device(1003);
    door.disconnect();
    await h.sync.until('seen away', () => h.sync.engine.device(1003)?.connected === false);
    const away = await h.local(['devices', 'events-from', '1003', 'latest']);
    assert.equal(away.code, 0, away.stderr);
    assert.match(away.stdout, /device 1003 is not connected: its event log is read from its newest event when it connects/);
    assert.equal((await h.sync.store.getDevice(1003))?.eventBaseline, undefined);
    // Made while away: before the start asked for, so not read as an event; the check that
    // follows the baseline finds the user (unknown to the database) and merges it.
    door.enrollAtDevice(toUserInfo(makeUser('88', { name: 'Made while away' })));
    const newest = door.state().lastEventID;
    door.reconnect();
    await h.sync.until('baseline taken', async () => ((await h.sync.store.getDevice(1003))?.eventBaseline?.eventId ?? 0) > newest);
    assert.equal((await h.sync.store.getDevice(1003))?.eventBaseline?.reason, 'first-contact');
    await h.sync.until('88 merged by the check', async () => (await h.sync.store.getUser('88'))?.name === 'Made while away');
  });
});
