/** The PIN hash's provenance through the pure merges (daemon/model/pin-provenance.ts). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyImportPatch, type ImportMergeOptions } from '../../../daemon/merge/import-merge.js';
import { mergeDeviceUser } from '../../../daemon/merge/merge.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import type { UserPatch } from '../../../daemon/plugins/api.js';

const OLD = Buffer.alloc(32, 1).toString('base64');
const NEW = Buffer.alloc(32, 2).toString('base64');
const preserve: ImportMergeOptions = { mode: 'preserve', blankClears: false };
const overwrite: ImportMergeOptions = { mode: 'overwrite', blankClears: false };
const clearing: ImportMergeOptions = { mode: 'overwrite', blankClears: true };

function stored(fields: Partial<User> = {}): User {
  return { ...emptyUser('7'), name: 'Stored', department: 'Ops', pinHash: OLD, pinHashScheme: 'aaaa', ...fields };
}
const patch = (values: UserPatch['values'], blank: UserPatch['blank'] = []): UserPatch => ({ id: '7', values, blank });

describe('import merge: pinHashScheme', () => {
  test('a hash made from the row\'s PIN brings its scheme; a new user gets it', () => {
    const result = applyImportPatch(undefined, patch({ name: 'N', pinHash: NEW, pinHashScheme: 'bbbb' }), overwrite);
    assert.ok('user' in result);
    assert.deepEqual([result.user.pinHash, result.user.pinHashScheme], [NEW, 'bbbb']);
  });

  test('overwrite, same PIN rehashed by another scheme: the hash and scheme change', () => {
    const result = applyImportPatch(stored(), patch({ name: 'Stored', pinHash: NEW, pinHashScheme: 'bbbb' }), overwrite);
    assert.ok('user' in result);
    assert.deepEqual([result.user.pinHash, result.user.pinHashScheme], [NEW, 'bbbb']);
    assert.deepEqual(result.changed, ['pinHash', 'pinHashScheme']);
  });

  test('overwrite, same hash and scheme: unchanged', () => {
    const existing = stored();
    const result = applyImportPatch(existing, patch({ pinHash: OLD, pinHashScheme: 'aaaa' }), overwrite);
    assert.ok('user' in result);
    assert.equal(result.user, existing);
    assert.deepEqual(result.changed, []);
  });

  test('a hash the file carried (no scheme) is of unknown origin: the old scheme goes', () => {
    const result = applyImportPatch(stored(), patch({ pinHash: NEW }), overwrite);
    assert.ok('user' in result);
    assert.equal(result.user.pinHash, NEW);
    assert.ok(!('pinHashScheme' in result.user));
  });

  test('a row without a PIN keeps hash and scheme; a clearing blank removes both', () => {
    const kept = applyImportPatch(stored(), patch({ department: 'R&D' }), overwrite);
    assert.ok('user' in kept);
    assert.deepEqual([kept.user.pinHash, kept.user.pinHashScheme], [OLD, 'aaaa']);
    const cleared = applyImportPatch(stored(), patch({}, ['pinHash']), clearing);
    assert.ok('user' in cleared);
    assert.ok(!('pinHash' in cleared.user) && !('pinHashScheme' in cleared.user));
  });

  test('preserve: an existing user is left alone, except a foreign hash the row\'s PIN replaces (nothing else)', () => {
    const result = applyImportPatch(stored(), patch({ name: 'Other', department: 'X', pinHash: NEW, pinHashScheme: 'bbbb' }), preserve);
    assert.ok('user' in result);
    assert.deepEqual(result.user, stored({ pinHash: NEW, pinHashScheme: 'bbbb' }));
    assert.deepEqual(result.changed, ['pinHash', 'pinHashScheme']);
  });

  const skips: { what: string; existing: User; values: UserPatch['values'] }[] = [
    { what: 'the same scheme', existing: stored(), values: { pinHash: OLD, pinHashScheme: 'aaaa' } },
    { what: 'a stored hash of unknown origin', existing: stored({ pinHashScheme: undefined }), values: { pinHash: NEW, pinHashScheme: 'bbbb' } },
    { what: 'no stored hash', existing: stored({ pinHash: undefined, pinHashScheme: undefined }), values: { pinHash: NEW, pinHashScheme: 'bbbb' } },
    { what: 'a row hash of unknown origin', existing: stored(), values: { pinHash: NEW } },
  ];
  for (const s of skips) {
    test(`preserve skips the existing user: ${s.what}`, () => {
      const existing = JSON.parse(JSON.stringify(s.existing)) as User;
      assert.deepEqual(applyImportPatch(existing, patch({ name: 'Other', ...s.values }), preserve), { skipped: 'exists' });
    });
  }
});

describe('device merge: pinHashScheme travels with pinHash', () => {
  const device = (fields: Partial<User> = {}): User => ({ ...emptyUser('7'), name: 'At device', pinHash: NEW, pinHashScheme: 'cccc', ...fields });

  test('fill-vacant takes the device\'s hash with its scheme when the server has none', () => {
    const { user } = mergeDeviceUser(stored({ pinHash: undefined, pinHashScheme: undefined }), device(), 'fill-vacant');
    assert.deepEqual([user.pinHash, user.pinHashScheme], [NEW, 'cccc']);
  });

  test('fill-vacant keeps the server\'s hash and scheme when it has one', () => {
    const { user } = mergeDeviceUser(stored(), device(), 'fill-vacant');
    assert.deepEqual([user.pinHash, user.pinHashScheme], [OLD, 'aaaa']);
  });

  test('device-wins takes the device\'s hash and scheme; a device without a PIN leaves neither', () => {
    const won = mergeDeviceUser(stored(), device(), 'device-wins').user;
    assert.deepEqual([won.pinHash, won.pinHashScheme], [NEW, 'cccc']);
    const none = mergeDeviceUser(stored(), device({ pinHash: undefined, pinHashScheme: undefined }), 'device-wins').user;
    assert.ok(!('pinHash' in none) && !('pinHashScheme' in none));
  });

  test('a new user from a device is taken whole, scheme included', () => {
    const { user } = mergeDeviceUser(undefined, device(), 'fill-vacant');
    assert.equal(user.pinHashScheme, 'cccc');
  });
});
