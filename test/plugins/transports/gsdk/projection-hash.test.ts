import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { User } from '../../../../daemon/model/user.js';
import { UserInfo, UserFlag } from '../../../../proto/gen/gsdk/user.js';
import { deviceProjectionHash } from '../../../../plugins/transports/gsdk/projection-hash.js';
import { fromUserInfo, toUserInfo } from '../../../../plugins/transports/gsdk/user-info.js';
import { b64, fullUser } from './fixtures.js';

/** The same record with its keys in reverse order, at every level. */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([key, inner]) => [key, reversedKeys(inner)])) as T;
}

const base = fullUser('42');
const hash = deviceProjectionHash(base);

describe('deviceProjectionHash', () => {
  test('is a sha256 hex digest', () => {
    assert.match(hash, /^[0-9a-f]{64}$/);
  });

  const same: Array<[string, User]> = [
    ['keys in another order', reversedKeys(base)],
    ['server-only fields changed', { ...base, department: 'Sales', email: 'x@example.invalid', custom: { a: 'b' } }],
    ['finger and face indexes changed (devices ignore them)', {
      ...base,
      fingers: base.fingers.map((finger, i) => ({ ...finger, index: 10 + i })),
      faces: base.faces.map((face) => ({ ...face, index: 4 })),
    }],
    ['access groups in another order', { ...base, accessGroups: [2, 3, 1] }],
    ['base64 without padding', { ...base, cards: [{ type: 1, data: 'EjQ0NA' }, base.cards[1]!] }],
    ['an empty face image instead of none', { ...base, faces: base.faces.map((face) => ({ ...face, irTemplates: [], irImageData: '' })) }],
  ];
  for (const [name, user] of same) {
    test(`unchanged by ${name}`, () => {
      assert.equal(deviceProjectionHash(user), hash);
    });
  }

  const different: Array<[string, User]> = [
    ['id', { ...base, id: '43' }],
    ['name', { ...base, name: 'Other' }],
    ['disabled', { ...base, disabled: true }],
    ['startTime', { ...base, startTime: base.startTime + 1 }],
    ['endTime', { ...base, endTime: 0 }],
    ['an auth mode', { ...base, auth: { ...base.auth, card: 4 } }],
    ['an extended auth mode', { ...base, auth: { ...base.auth, idExt: 0xff } }],
    ['securityLevel', { ...base, securityLevel: 5 }],
    ['card data', { ...base, cards: [{ type: 1, data: b64(4, 0x13, 0x34) }, base.cards[1]!] }],
    ['card type', { ...base, cards: [{ ...base.cards[0]!, type: 2 }, base.cards[1]!] }],
    ['card order', { ...base, cards: [...base.cards].reverse() }],
    ['a finger template', { ...base, fingers: [{ ...base.fingers[0]!, templates: [b64(384, 0, 8), b64(300, 0, 2)] }, base.fingers[1]!] }],
    ['a finger flag', { ...base, fingers: [{ ...base.fingers[0]!, flag: 1 }, base.fingers[1]!] }],
    ['a face image', { ...base, faces: [{ ...base.faces[0]!, imageData: b64(1024, 0xff, 7) }] }],
    ['a face removed', { ...base, faces: [] }],
    ['an access group', { ...base, accessGroups: [1, 2, 4] }],
    ['a job code label', { ...base, jobCodes: [{ code: 7, label: 'Day shift' }] }],
    ['the PIN hash', { ...base, pinHash: b64(32, 9, 8) }],
    ['no PIN', { ...base, pinHash: undefined }],
    ['the photo', { ...base, photo: b64(2048, 0xd8, 8) }],
  ];
  for (const [name, user] of different) {
    test(`changed by ${name}`, () => {
      assert.notEqual(deviceProjectionHash(user), hash);
    });
  }

  test('a user read back from a device hashes like the record that was sent', () => {
    const info = UserInfo.decode(UserInfo.encode(toUserInfo(base)).finish());
    // Devices mark users they created or updated; that is not user data.
    info.hdr!.userFlag |= UserFlag.USER_FLAG_CREATED | UserFlag.USER_FLAG_UPDATED;
    info.hdr!.authGroupID = 0;
    assert.equal(deviceProjectionHash(fromUserInfo(info)), hash);
  });
});
