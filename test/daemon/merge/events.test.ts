import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  conflictEvents,
  deviceDeleteEvent,
  deviceEnrollEvent,
  deviceUpdateEvent,
  EventText,
  mergeEvents,
  saveFailedEvent,
  serverUpdateEvent,
  wordedEvent,
} from '../../../daemon/merge/events.js';
import { isEventKind } from '../../../daemon/event-kinds.js';
import { MERGE_POLICIES, mergeDeviceUser, type Conflict } from '../../../daemon/merge/merge.js';
import { RollcallError } from '../../../daemon/errors.js';
import type { NewEvent } from '../../../daemon/plugins/api.js';
import { card, face, finger, fullUser, secretsOf, user } from './users.js';

describe('event builders', () => {
  const cases: { name: string; event: NewEvent; expected: NewEvent }[] = [
    {
      name: 'server update',
      event: serverUpdateEvent('7'),
      expected: { kind: 'user.update.server', message: 'User update succeeded (Server)', userId: '7' },
    },
    {
      name: 'server update that reached a device',
      event: serverUpdateEvent('7', { deviceId: 541, changedFields: ['name', 'cards'] }),
      expected: { kind: 'user.update.server', message: 'User update succeeded (Server)', userId: '7', deviceId: 541, detail: { changedFields: ['name', 'cards'] } },
    },
    {
      name: 'device update',
      event: deviceUpdateEvent('7', 541, ['fingers'], 'fill-vacant'),
      expected: {
        kind: 'user.update.device',
        message: 'User update succeeded (Device)',
        userId: '7',
        deviceId: 541,
        detail: { changedFields: ['fingers'], policy: 'fill-vacant' },
      },
    },
    {
      name: 'device enrollment',
      event: deviceEnrollEvent('7', 541, ['name', 'cards']),
      expected: { kind: 'user.enroll.device', message: 'User enrollment succeeded (Device)', userId: '7', deviceId: 541, detail: { fields: ['name', 'cards'] } },
    },
    {
      name: 'device delete',
      event: deviceDeleteEvent('7', 541, 'keep-deleted'),
      expected: {
        kind: 'user.delete.device',
        message: 'User deletion succeeded (Device)',
        userId: '7',
        deviceId: 541,
        detail: { deviceDeletes: 'keep-deleted', keptInDatabase: true },
      },
    },
    {
      name: 'save failed with a text',
      event: saveFailedEvent('7', 541, 'the store is closed'),
      expected: { kind: 'user.save.failed', message: 'Fail to save to the server DB', userId: '7', deviceId: 541, detail: { reason: 'the store is closed' } },
    },
    {
      name: 'save failed with a coded error (its code kept, its cause not)',
      event: saveFailedEvent('7', 541, new RollcallError('ROLLCALL_ERR_STORE_CLOSED', 'store closed', { cause: new Error('secret cause') })),
      expected: {
        kind: 'user.save.failed',
        message: 'Fail to save to the server DB',
        userId: '7',
        deviceId: 541,
        detail: { reason: 'store closed', code: 'ROLLCALL_ERR_STORE_CLOSED' },
      },
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(c.event, c.expected));
  }

  test('one conflict event per conflict, in order', () => {
    const conflicts: Conflict[] = [
      { field: 'name', kept: 'server', serverValue: 'Alice', deviceValue: 'Alicia' },
      { field: 'cards', kept: 'server', serverValue: '8 cards', deviceValue: '9 cards, 1 not on the server (limit of 8 cards reached)' },
    ];
    assert.deepEqual(conflictEvents('7', 541, conflicts, 'fill-vacant'), [
      { kind: 'merge.conflict', message: 'Merge conflict', userId: '7', deviceId: 541, detail: { field: 'name', kept: 'server', serverValue: 'Alice', deviceValue: 'Alicia', policy: 'fill-vacant' } },
      {
        kind: 'merge.conflict',
        message: 'Merge conflict',
        userId: '7',
        deviceId: 541,
        detail: { field: 'cards', kept: 'server', serverValue: '8 cards', deviceValue: '9 cards, 1 not on the server (limit of 8 cards reached)', policy: 'fill-vacant' },
      },
    ]);
    assert.deepEqual(conflictEvents('7', 541, []), []);
  });

  test('texts are stable, and each is the wording of a kind in the catalogue', () => {
    // The builders' cases above hold the other texts.
    assert.equal(EventText['user.save.failed'], 'Fail to save to the server DB');
    assert.deepEqual(Object.keys(EventText).filter((kind) => !isEventKind(kind)), []);
  });

  test('wordedEvent: the kind, its text and the fields given', () => {
    assert.deepEqual(wordedEvent('user.delete.server', { userId: '7', detail: { source: 'admin' } }), {
      kind: 'user.delete.server',
      message: 'User deletion succeeded (Server)',
      userId: '7',
      detail: { source: 'admin' },
    });
  });
});

describe('mergeEvents', () => {
  test('a new user: one enrollment event', () => {
    const result = mergeDeviceUser(undefined, user('7', { name: 'A', cards: [card('a')] }), 'fill-vacant');
    assert.deepEqual(
      mergeEvents('7', 541, result, 'fill-vacant').map((e) => [e.kind, e.detail]),
      [['user.enroll.device', { fields: ['name', 'cards'] }]],
    );
  });

  test('an update with conflicts: the update event, then one event per conflict', () => {
    const result = mergeDeviceUser(user('7', { name: 'A' }), user('7', { name: 'B', cards: [card('a')] }), 'fill-vacant');
    assert.deepEqual(
      mergeEvents('7', 541, result, 'fill-vacant').map((e) => e.kind),
      ['user.update.device', 'merge.conflict'],
    );
  });

  test('nothing changed and nothing lost: no events', () => {
    const result = mergeDeviceUser(user('7', { name: 'A' }), user('7', { name: 'A' }), 'server-wins');
    assert.deepEqual(mergeEvents('7', 541, result, 'server-wins'), []);
  });

  test('no secret reaches any event, under any policy', () => {
    const server = fullUser('7', 'server');
    server.faces.push({ ...face('ir'), irTemplates: ['aXJ0ZW1wbGF0ZXNlY3JldDAxMjM0NTY3ODk='], irImageData: 'aXJpbWFnZXNlY3JldDAxMjM0NTY3ODk=' });
    const device = fullUser('7', 'device');
    device.fingers.push(finger('extra', 1));
    device.cards.push(card('extra'));
    const secrets = [...secretsOf(server), ...secretsOf(device)];
    assert.ok(secrets.length > 20);
    const events: NewEvent[] = [];
    for (const policy of MERGE_POLICIES) {
      for (const [s, d] of [[undefined, device], [server, device], [device, server], [user('7'), server]] as const) {
        const result = mergeDeviceUser(s, d, policy, { maxCards: 1 });
        events.push(...mergeEvents('7', 541, result, policy));
      }
    }
    events.push(serverUpdateEvent('7', { deviceId: 541, changedFields: ['pinHash', 'photo', 'cards'] }), deviceDeleteEvent('7', 541, 'restore'));
    assert.ok(events.filter((e) => e.kind === 'merge.conflict').length > 20, 'conflicts were produced');
    const text = JSON.stringify(events);
    for (const secret of secrets) assert.ok(!text.includes(secret), 'a secret value is in the events');
    // The secret-bearing fields are described, not dropped.
    assert.match(text, /PIN set/);
    assert.match(text, /photo \d+ bytes/);
  });
});
