import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { User } from '../../../../daemon/model/user.js';
import { checkUserRecord, toUserRecord } from '../../../../plugins/watchers/datafile/user-record.js';
import { bareUser, fullUser } from '../../../fixtures/datafile/users.js';

const bytes = (n: number): string => Buffer.alloc(n, 7).toString('base64');

function withField(patch: Record<string, unknown>): unknown {
  return { ...toUserRecord(bareUser(1)), ...patch };
}

describe('datafile user records', () => {
  test('every field of a full user passes and comes back equal', () => {
    const user = fullUser(3);
    const check = checkUserRecord(JSON.parse(JSON.stringify(toUserRecord(user))));
    assert.deepEqual(check, { ok: true, user });
  });

  const rejected: [string, unknown, RegExp][] = [
    ['not an object', 'user', /^\(record\): /],
    ['no id', { ...toUserRecord(bareUser(1)), id: undefined }, /^id: /],
    ['id "0"', withField({ id: '0' }), /^id: user ID 0 is not allowed/],
    ['id of 33 bytes', withField({ id: 'x'.repeat(33) }), /^id: expected at most 32 bytes/],
    ['id of 11 three-byte characters', withField({ id: '€'.repeat(11) }), /^id: expected at most 32 bytes/],
    ['name of 49 characters', withField({ name: 'n'.repeat(49) }), /^name: expected at most 48 characters/],
    ['startTime past uint32', withField({ startTime: 2 ** 32 }), /^startTime: /],
    ['a negative endTime', withField({ endTime: -1 }), /^endTime: /],
    ['an auth mode past a byte', withField({ auth: { ...bareUser(1).auth, card: 256 } }), /^auth\.card: /],
    ['security level 6', withField({ securityLevel: 6 }), /^securityLevel: /],
    ['card data of 33 bytes', withField({ cards: [{ type: 1, data: bytes(33) }] }), /^cards\.0\.data: expected at most 32 bytes/],
    ['card data that is not base64', withField({ cards: [{ type: 1, data: 'not base64!' }] }), /^cards\.0\.data: /],
    ['a template of 385 bytes', withField({ fingers: [{ index: 0, flag: 0, templates: [bytes(385)] }] }), /^fingers\.0\.templates\.0: expected at most 384 bytes/],
    ['three templates for one finger', withField({ fingers: [{ index: 0, flag: 0, templates: [bytes(1), bytes(1), bytes(1)] }] }), /^fingers\.0\.templates: /],
    ['a face image that is not base64', withField({ faces: [{ index: 0, flag: 0, templates: [], imageData: '***' }] }), /^faces\.0\.imageData: /],
    ['an access group that is not a number', withField({ accessGroups: ['1'] }), /^accessGroups\.0: /],
    ['a PIN hash of 31 bytes', withField({ pinHash: bytes(31) }), /^pinHash: expected exactly 32 bytes/],
    ['a photo past 16 KiB', withField({ photo: bytes(16 * 1024 + 1) }), /^photo: expected at most 16384 bytes/],
    ['a custom value that is not text', withField({ custom: { Purpose: 3 } }), /^custom\.Purpose: /],
  ];
  for (const [label, value, reason] of rejected) {
    test(`rejects ${label}`, () => {
      const check = checkUserRecord(value);
      assert.equal(check.ok, false);
      assert.match(check.ok ? '' : check.reason, reason);
    });
  }

  test('a rejection names the fields, never their values', () => {
    const secret = bytes(400);
    const check = checkUserRecord(withField({ fingers: [{ index: 0, flag: 0, templates: [secret] }], pinHash: 'QUJD' }));
    assert.equal(check.ok, false);
    const reason = check.ok ? '' : check.reason;
    assert.ok(!reason.includes(secret.slice(0, 16)));
    assert.ok(!reason.includes('QUJD'));
    assert.equal(check.ok ? undefined : check.userId, '1');
  });

  test('the record written for a user holds the model fields only, in a fixed order', () => {
    const user = { ...bareUser(1), extra: true, photo: bytes(3) } as User;
    const record = toUserRecord(user);
    assert.deepEqual(Object.keys(record), [
      'id', 'name', 'disabled', 'startTime', 'endTime', 'auth', 'securityLevel',
      'cards', 'fingers', 'faces', 'accessGroups', 'jobCodes', 'photo',
    ]);
  });
});
