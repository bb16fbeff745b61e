/** The admin messages' field lists: the daemon's value → the wire → --json, key for key. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceStatus } from '../../../daemon/sync/engine.js';
import { CheckResult, Device, Event } from '../../../proto/gen/rollcall/admin/v1/admin.js';
import { renderChecks } from '../../../daemon/admin/render.js';
import { deviceShape } from '../../../daemon/admin/shapes/device.js';
import { checkShape } from '../../../daemon/admin/shapes/check.js';
import { eventShape } from '../../../daemon/admin/shapes/event.js';

/** Through the real encoder and decoder, as a message crosses the socket. */
const overWire = (device: ReturnType<typeof deviceShape.toWire>) => Device.decode(Device.encode(device).finish());

describe('admin message shapes', () => {
  test('a device with every field: the README\'s devices --json, in its key order', () => {
    const status: DeviceStatus = {
      id: 1001,
      name: 'Front door',
      location: 'Lobby',
      source: 'config',
      connected: true,
      cursor: 1,
      pending: 0,
      inSync: true,
      quarantined: false,
      failures: 0,
      userCount: 1,
      lastCheck: { at: Date.parse('2026-11-23T16:46:30.867Z'), method: 'headers', inSync: true, differences: 0 },
      heldRemoval: { at: Date.parse('2026-11-23T16:47:00.000Z'), removals: 30, holding: 40, upToSeq: 7 },
      connection: 'tcp-connected',
      connectionMode: 'dial',
      lastEventId: 12,
      eventBaseline: { eventId: 10, at: Date.parse('2026-11-23T16:40:00.000Z'), reason: 'first-contact' },
      heldBy: 'site-a-1',
    };
    assert.equal(
      JSON.stringify(deviceShape.toJson(overWire(deviceShape.toWire(status)))),
      '{"id":1001,"name":"Front door","location":"Lobby","source":"config","connected":true,"inSync":true,"cursor":1,"pending":0,"quarantined":false,"failures":0,"lastError":null,"userCount":1,' +
        '"lastCheck":{"at":"2026-11-23T16:46:30.867Z","method":"headers","inSync":true,"differences":0},"heldRemoval":{"at":"2026-11-23T16:47:00.000Z","removals":30,"holding":40,"upToSeq":7},"connection":"tcp-connected","connectionMode":"dial",' +
        '"lastEventId":12,"eventBaseline":{"eventId":10,"at":"2026-11-23T16:40:00.000Z","reason":"first-contact"},"heldBy":"site-a-1"}',
    );
  });

  test('absent values: empty or unset on the wire, null in --json; fields not listed are not carried', () => {
    const status = { id: 7, source: 'discovered', connected: false, cursor: 0, pending: 3, inSync: false, quarantined: true, failures: 9, lastError: 'UNAVAILABLE', lastEventId: 0, secret: 'x' } as DeviceStatus;
    const wire = deviceShape.toWire(status);
    assert.equal(wire.name, '');
    assert.equal(wire.lastCheck, undefined);
    assert.equal('secret' in wire, false);
    assert.deepEqual(deviceShape.toJson(overWire(wire)), {
      id: 7, name: null, location: null, source: 'discovered', connected: false, inSync: false, cursor: 0, pending: 3, quarantined: true, failures: 9, lastError: 'UNAVAILABLE', userCount: null, lastCheck: null, heldRemoval: null, connection: null, connectionMode: null, lastEventId: 0, eventBaseline: null, heldBy: null,
    });
  });

  test('a check: an error only when the check could not be done', () => {
    const done = { deviceId: 1, method: 'deep' as const, inSync: false, differences: 2, enrolled: 1, removed: 1, held: 0, leftAlone: 0 };
    assert.equal(checkShape.toWire(done).error, '');
    assert.equal(checkShape.toJson(checkShape.toWire(done)).error, null);
    assert.equal(checkShape.toJson(checkShape.toWire({ ...done, error: 'the device is no longer known' })).error, 'the device is no longer known');
  });

  test('a check: what the device\'s copies leave off travels as codes, counts and words; rendered per device', () => {
    const done = { deviceId: 3, method: 'deep' as const, inSync: true, differences: 0, enrolled: 0, removed: 0, held: 0, leftAlone: 0,
      leftOff: [{ what: 'fingerprint' as const, reason: 'no-fingerprint-sensor' as const, count: 24, users: 12 }] };
    const decoded = CheckResult.decode(CheckResult.encode(checkShape.toWire(done)).finish());
    const json = checkShape.toJson(decoded);
    assert.deepEqual(json.leftOff, [{ credential: 'fingerprint', reason: 'no-fingerprint-sensor', count: 24, users: 12, text: '24 fingerprints: the device has no fingerprint sensor (no-fingerprint-sensor)' }]);
    assert.deepEqual(checkShape.toJson(checkShape.toWire({ ...done, leftOff: undefined })).leftOff, []);
    assert.match(renderChecks([json]), /device 3:\n  left off: 24 fingerprints: the device has no fingerprint sensor \(no-fingerprint-sensor\) for 12 users/);
    assert.doesNotMatch(renderChecks([{ ...json, leftOff: [] }]), /left off/);
  });

  test('an event: its detail as JSON text on the wire; text that is not JSON is shown as it is', () => {
    const wire = eventShape.toWire({ id: 9, at: 0, kind: 'export.done', message: 'Export of 2 users', detail: { users: 2 } });
    assert.equal(wire.detailJson, '{"users":2}');
    const decoded = Event.decode(Event.encode(wire).finish());
    assert.deepEqual(eventShape.toJson(decoded), { id: 9, at: '1970-01-01T00:00:00.000Z', kind: 'export.done', message: 'Export of 2 users', userId: null, deviceId: null, detail: { users: 2 } });
    assert.equal(eventShape.toJson({ ...decoded, detailJson: 'not json' }).detail, 'not json');
    assert.equal(eventShape.toJson({ ...decoded, detailJson: '' }).detail, null);
  });
});
