/**
 * UserEncodings: each user object encoded once, and EnrollMulti requests made of those bytes
 * equal, byte for byte, to what ts-proto writes for the same request.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyUser, type User } from '../../../../daemon/model/user.js';
import { EnrollMultiRequest, UserInfo } from '../../../../proto/gen/gsdk/user.js';
import { encodedSize, toUserInfo } from '../../../../plugins/transports/gsdk/user-info.js';
import { encodeEnrollMulti, UserEncodings } from '../../../../plugins/transports/gsdk/user-encodings.js';
import { fullUser } from './fixtures.js';

const reference = (deviceIDs: number[], users: readonly User[], overwrite: boolean): Buffer =>
  Buffer.from(EnrollMultiRequest.encode({ deviceIDs, users: users.map((u) => toUserInfo(u)), overwrite }).finish());

describe('UserEncodings', () => {
  const cases: Array<[string, number[], User[], boolean]> = [
    ['users of every kind, overwrite', [1001, 1002, 70000], [fullUser('1'), emptyUser('2'), fullUser('alpha-3')], true],
    ['without overwrite', [1001], [fullUser('1')], false],
    ['no users', [1001, 1002], [], true],
    ['no devices', [], [emptyUser('9')], true],
  ];
  for (const [title, deviceIds, users, overwrite] of cases) {
    test(`an EnrollMulti request of cached bytes is the one ts-proto writes: ${title}`, () => {
      const encodings = new UserEncodings();
      const request = encodings.enrollMulti(deviceIds, users, overwrite);
      assert.deepEqual(encodeEnrollMulti(request), reference(deviceIds, users, overwrite));
      // Read back, it is the request that was meant.
      const decoded = EnrollMultiRequest.decode(encodeEnrollMulti(request));
      assert.deepEqual(decoded.deviceIDs, deviceIds);
      assert.deepEqual(decoded.users.map((u) => u.hdr?.ID), users.map((u) => u.id));
      assert.equal(decoded.overwrite, overwrite);
    });
  }

  test('a user object is encoded once; its size is that of the whole encoding, as encodedSize says', () => {
    const encodings = new UserEncodings();
    const user = fullUser('1');
    const first = encodings.bytes(user);
    assert.equal(encodings.bytes(user), first, 'the same bytes, not a second encoding');
    assert.equal(encodings.enrollMulti([1], [user], true).users[0], first);
    assert.equal(encodings.size(user), encodedSize(user));
    assert.equal(encodings.size(user), first.length + 6);
  });

  test('an edited user (a new object, as the store hands out) is encoded anew: its bytes are never an older version', () => {
    const encodings = new UserEncodings();
    const before = fullUser('1');
    const beforeBytes = encodings.bytes(before);
    const after: User = { ...before, name: 'Renamed', cards: before.cards.slice(0, 1) };
    const request = encodeEnrollMulti(encodings.enrollMulti([1001], [after], true));
    const sent = EnrollMultiRequest.decode(request).users[0]!;
    assert.equal(sent.name, 'Renamed');
    assert.equal(sent.cards.length, 1);
    assert.deepEqual(request, reference([1001], [after], true));
    // The earlier version's bytes are still its own.
    assert.equal(UserInfo.decode(beforeBytes).name, before.name);
  });
});
