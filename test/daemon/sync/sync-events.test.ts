/**
 * The event-log entries of the sync engine, table-driven: each builder's kind (one of the
 * catalogue's), its BioStar wording, and details that carry IDs, counts, codes and
 * reasons, never user content.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isEventKind } from '../../../daemon/event-kinds.js';
import type { DeviceFailure, NewEvent } from '../../../daemon/plugins/api.js';
import {
  allDeletedAtDeviceEvent,
  checkEvent,
  deviceChangeIgnoredEvent,
  deviceFailureEvent,
  failureText,
  quarantinedEvent,
  refusedEvents,
  removalConfirmedEvent,
  removalHeldEvent,
  ruleSkipEvents,
} from '../../../daemon/sync/sync-events.js';

const full: DeviceFailure = { reason: 'full', code: 8, codeName: 'RESOURCE_EXHAUSTED', message: 'max user count 500 reached' };
const unavailable: DeviceFailure = { reason: 'unavailable', code: 14, codeName: 'UNAVAILABLE', message: 'device 7 is disconnected' };

interface Row {
  name: string;
  events: NewEvent[];
  kind: string;
  message: RegExp;
  deviceId?: number;
  userId?: string;
  /** The detail, exactly. */
  detail: Record<string, unknown> | undefined;
}

const rows: Row[] = [
  {
    name: 'a full device (reason full)',
    events: [deviceFailureEvent(7, full, 40)],
    kind: 'sync.capacity',
    message: /^Sync Error \(Exceeded max user count\) on device 7: max user count 500 reached$/,
    deviceId: 7,
    detail: { code: 'RESOURCE_EXHAUSTED', reason: 'max user count 500 reached', users: 40 },
  },
  {
    name: 'any other device failure',
    events: [deviceFailureEvent(7, unavailable, 3)],
    kind: 'sync.enroll.failed',
    message: /^User enrollment failed \(Device 7\): UNAVAILABLE: device 7 is disconnected$/,
    deviceId: 7,
    detail: { code: 'UNAVAILABLE', reason: 'device 7 is disconnected', users: 3 },
  },
  {
    name: 'a user left alone for a rule of the device',
    events: ruleSkipEvents(7, [
      { userId: '42', why: 'rule', reason: 'ID is not numeric' },
      { userId: '43', why: 'refused', reason: 'refused before' },
      { userId: '44', why: 'deleted-at-device', reason: 'kept deleted' },
    ]),
    kind: 'sync.enroll.failed',
    message: /^User enrollment failed \(Device 7\): ID is not numeric$/,
    deviceId: 7,
    userId: '42',
    detail: { reason: 'ID is not numeric' },
  },
  {
    name: 'a user the device refused',
    events: refusedEvents(7, { '42': { reason: 'too many fingerprints' } }),
    kind: 'sync.enroll.refused',
    message: /^User enrollment failed \(Device 7\): too many fingerprints$/,
    deviceId: 7,
    userId: '42',
    detail: { reason: 'too many fingerprints' },
  },
  {
    name: 'a quarantine',
    events: [quarantinedEvent(7, 4, 'UNAVAILABLE: device 7 is disconnected')],
    kind: 'device.quarantined',
    message: /^Device 7 quarantined after 4 failures: UNAVAILABLE: device 7 is disconnected$/,
    deviceId: 7,
    detail: { reason: 'UNAVAILABLE: device 7 is disconnected' },
  },
  {
    name: 'a held removal',
    events: [removalHeldEvent(7, 120, 400, 0.1)],
    kind: 'sync.removal.held',
    message: /^Removal of 120 of 400 users from device 7 held \(more than 10%\); confirm with `rollcall confirm --device 7`$/,
    deviceId: 7,
    detail: { removals: 120, holding: 400 },
  },
  {
    name: 'a confirmed removal',
    events: [removalConfirmedEvent(7, 120)],
    kind: 'sync.removal.confirmed',
    message: /^Removal of 120 users from device 7 confirmed by an operator$/,
    deviceId: 7,
    detail: { removals: 120 },
  },
  {
    name: 'a check in sync',
    events: [checkEvent(7, 'headers', true, 0)],
    kind: 'sync.check.ok',
    message: /^Device 7 checked \(headers\): in sync$/,
    deviceId: 7,
    detail: { method: 'headers', differences: 0 },
  },
  {
    name: 'a check with differences, not repaired',
    events: [checkEvent(7, 'deep', false, 5)],
    kind: 'sync.check.differences',
    message: /^Device 7 checked \(deep\): 5 difference\(s\)$/,
    deviceId: 7,
    detail: { method: 'deep', differences: 5 },
  },
  {
    name: 'a check with differences, repaired',
    events: [checkEvent(7, 'deep', false, 5, { enrolled: 3, removed: 1, held: 1 })],
    kind: 'sync.check.differences',
    message: /^Device 7 checked \(deep\): 5 difference\(s\), 3 enrolled, 1 removed$/,
    deviceId: 7,
    detail: { method: 'deep', differences: 5, enrolled: 3, removed: 1, held: 1 },
  },
  {
    name: 'every user deleted at a device',
    events: [allDeletedAtDeviceEvent(7, 'keep-deleted')],
    kind: 'user.delete.device',
    message: /^All users deleted \(Device\)$/,
    deviceId: 7,
    detail: { deviceDeletes: 'keep-deleted' },
  },
  {
    name: 'a device-side change not merged',
    events: [deviceChangeIgnoredEvent(7, '42', 'all-devices')],
    kind: 'user.update.device.ignored',
    message: /^User changed at device 7; not merged, the server's version is restored \(sync mode all-devices\)$/,
    deviceId: 7,
    userId: '42',
    detail: undefined,
  },
];

describe('sync events', () => {
  for (const row of rows) {
    test(row.name, () => {
      assert.equal(row.events.length, 1);
      const event = row.events[0]!;
      assert.equal(event.kind, row.kind);
      assert.ok(isEventKind(event.kind), `${event.kind} is in the catalogue`);
      assert.match(event.message, row.message);
      assert.equal(event.deviceId, row.deviceId);
      assert.equal(event.userId, row.userId);
      assert.deepEqual(event.detail, row.detail);
      assert.equal(event.at, undefined, 'the store stamps the time');
    });
  }

  test('details hold only numbers and the codes and reasons given, and no field that names user content', () => {
    const given = new Set<unknown>([full.codeName, full.message, unavailable.codeName, unavailable.message, 'ID is not numeric', 'too many fingerprints', 'UNAVAILABLE: device 7 is disconnected', 'headers', 'deep', 'keep-deleted']);
    const userFields = /name|card|finger|face|pin|photo|template|email|phone|password/i;
    for (const event of rows.flatMap((r) => r.events)) {
      for (const [key, value] of Object.entries(event.detail ?? {})) {
        assert.ok(!userFields.test(key), `${event.kind}: detail ${key}`);
        assert.ok(typeof value === 'number' || given.has(value), `${event.kind}: detail ${key} = ${JSON.stringify(value)}`);
      }
    }
  });

  test('a rule skip per user left alone for a rule; refused and deleted-at-device users are no rule skips', () => {
    const events = ruleSkipEvents(7, [
      { userId: '1', why: 'rule', reason: 'r1' },
      { userId: '2', why: 'refused', reason: 'r2' },
      { userId: '3', why: 'rule', reason: 'r3' },
    ]);
    assert.deepEqual(
      events.map((e) => [e.userId, e.detail?.reason]),
      [
        ['1', 'r1'],
        ['3', 'r3'],
      ],
    );
    assert.deepEqual(ruleSkipEvents(7, []), []);
  });

  test('one refused event per user refused', () => {
    const events = refusedEvents(9, { a: { reason: 'x' }, b: { reason: 'y' } });
    assert.deepEqual(
      events.map((e) => [e.kind, e.userId, e.deviceId]),
      [
        ['sync.enroll.refused', 'a', 9],
        ['sync.enroll.refused', 'b', 9],
      ],
    );
  });

  test('failureText is the code name and the message', () => {
    assert.equal(failureText(unavailable), 'UNAVAILABLE: device 7 is disconnected');
  });
});
