import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DEVICE_DELETE_SETTING, DEVICE_DELETE_SETTINGS, shouldRestoreOnDevice, type DeviceDeleteSetting } from '../../../daemon/merge/deletes.js';

describe('shouldRestoreOnDevice', () => {
  const cases: { setting: DeviceDeleteSetting; changed: boolean; restore: boolean; why: string }[] = [
    { setting: 'restore', changed: false, restore: true, why: 'a device is a replica: the next reconcile puts the user back' },
    { setting: 'restore', changed: true, restore: true, why: 'a changed user goes back too' },
    { setting: 'keep-deleted', changed: false, restore: false, why: 'the local delete stands while nothing changed' },
    { setting: 'keep-deleted', changed: true, restore: true, why: 'a change on the server sends the user again' },
  ];
  for (const c of cases) {
    test(`${c.setting}, user ${c.changed ? 'changed' : 'unchanged'} since the delete: ${c.why}`, () => {
      assert.equal(shouldRestoreOnDevice(c.setting, c.changed), c.restore);
    });
  }

  test('restore is the default and both settings are listed', () => {
    assert.equal(DEFAULT_DEVICE_DELETE_SETTING, 'restore');
    assert.deepEqual([...DEVICE_DELETE_SETTINGS].sort(), ['keep-deleted', 'restore']);
  });
});
