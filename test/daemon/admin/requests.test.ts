/** Checks of admin request fields: the value back, or a refusal naming the field. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as check from '../../../daemon/admin/requests.js';
import { AdminRequestError } from '../../../daemon/admin/request-error.js';
import type { DeviceStatus } from '../../../daemon/sync/engine.js';

function refusal(run: () => unknown): { kind: string; field: string; message: string } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof AdminRequestError);
    return { kind: error.kind, field: error.issues[0]!.field, message: error.message };
  }
  assert.fail('expected a refusal');
}

const device = (id: number, location?: string): DeviceStatus => ({ id, location, source: 'config', connected: true, cursor: 0, pending: 0, inSync: true, quarantined: false, failures: 0, lastEventId: 0 });

describe('request checks', () => {
  test('user IDs', () => {
    assert.equal(check.userId('id', 'A-17'), 'A-17');
    assert.deepEqual(refusal(() => check.userId('id', '')), { kind: 'invalid', field: 'id', message: 'id: a user ID is required' });
    assert.match(refusal(() => check.userId('ids[2]', 'x'.repeat(33))).message, /^ids\[2\]: a user ID is at most 32 bytes \(got 33\)/);
    assert.equal(refusal(() => check.userId('id', 'a\nb')).field, 'id');
    assert.deepEqual(check.userIds('ids', ['1', '2', '1']), ['1', '2']);
    assert.equal(refusal(() => check.userIds('ids', [])).field, 'ids');
  });

  test('page sizes: 0 takes the default, too many is refused rather than cut', () => {
    assert.equal(check.pageLimit('limit', 0), 100);
    assert.equal(check.pageLimit('limit', 5000), 5000);
    assert.match(refusal(() => check.pageLimit('limit', 10_001)).message, /^limit: must be from 1 to 10000/);
  });

  test('enums: log level and export format', () => {
    assert.equal(check.logLevel('debug'), 'debug');
    assert.equal(refusal(() => check.logLevel('verbose')).field, 'level');
    assert.equal(check.exportFormat('datafile'), 'datafile');
    assert.equal(refusal(() => check.exportFormat('xlsx')).field, 'format');
  });

  const names: [string, boolean][] = [
    ['staff.csv', true],
    ['rollcall_20261123_101500.tgz', true],
    ['../staff.csv', false],
    ['dir/staff.csv', false],
    ['.hidden.csv', false],
    ['', false],
    ['a\u0000.csv', false],
  ];
  for (const [name, ok] of names) {
    test(`file name ${JSON.stringify(name)} is ${ok ? 'taken' : 'refused'}`, () => {
      if (ok) assert.equal(check.fileName(name), name);
      else assert.equal(refusal(() => check.fileName(name)).field, 'name');
    });
  }

  test('PINs: 4 to 16 digits, never echoed', () => {
    assert.equal(check.plainPin('pin', '0042'), '0042');
    for (const bad of ['123', '12345678901234567', '12a4', ' 1234']) {
      const r = refusal(() => check.plainPin('pin', bad));
      assert.equal(r.field, 'pin');
      assert.ok(!r.message.includes(bad));
    }
  });

  test('device selection: unknown devices and locations are NOT_FOUND', () => {
    const devices = [device(1001, 'Lobby'), device(1002, 'Lobby'), device(1003, 'Dock')];
    assert.deepEqual(check.selectDevices(devices, {}).map((d) => d.id), [1001, 1002, 1003]);
    assert.deepEqual(check.selectDevices(devices, { location: 'Lobby' }).map((d) => d.id), [1001, 1002]);
    assert.deepEqual(check.selectDevices(devices, { deviceId: 1002, location: 'Lobby' }).map((d) => d.id), [1002]);
    assert.deepEqual(check.selectDevices(devices, { deviceId: 1003, location: 'Lobby' }), []);
    assert.deepEqual(refusal(() => check.selectDevices(devices, { deviceId: 7 })), { kind: 'not-found', field: 'deviceId', message: 'deviceId: no device 7 (known: 1001, 1002, 1003)' });
    assert.match(refusal(() => check.selectDevices(devices, { location: 'Roof' })).message, /no device has location "Roof" \(known: "Lobby", "Dock"\)/);
  });

  test('event queries', () => {
    assert.deepEqual(check.eventQuery({ sinceMs: 1000, untilMs: 2000, userId: '7', deviceId: 1001, kind: 'sync.' }), { since: 1000, until: 2000, userId: '7', deviceId: 1001, kind: 'sync.' });
    assert.equal(refusal(() => check.eventQuery({ sinceMs: 2000, untilMs: 2000 })).field, 'untilMs');
    assert.equal(refusal(() => check.eventQuery({ sinceMs: -1 })).field, 'sinceMs');
    assert.equal(refusal(() => check.eventQuery({ kind: '' })).field, 'kind');
  });
});
