import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyUser, type User } from '../../../../daemon/model/user.js';
import { InfoMask, UserFlag, UserInfo } from '../../../../proto/gen/gsdk/user.js';
import {
  CARD_DATA_SIZE,
  encodedSize,
  fieldsOfInfoMask,
  fromPartialUserInfo,
  fromUserInfo,
  toUserInfo,
} from '../../../../plugins/transports/gsdk/user-info.js';
import { b64, fullUser } from './fixtures.js';

const visualFace: User = {
  ...emptyUser('alpha-7'),
  faces: [
    {
      index: 2,
      flag: 0x100,
      templates: [b64(552, 1), b64(552, 2)],
      irTemplates: [b64(552, 3)],
      imageData: b64(4000, 0xff),
      irImageData: b64(3000, 0xfe),
    },
  ],
};

const roundTrips: Array<[string, User]> = [
  ['an empty user', emptyUser('1')],
  ['a user with every device field', fullUser('42')],
  ['a disabled user with private auth modes', { ...emptyUser('7'), disabled: true, auth: { biometric: 1, card: 2, id: 0xfe, faceExt: 0xff, fingerExt: 0xff, cardExt: 0xff, idExt: 0xff } }],
  ['a visual-face user with an alphanumeric ID', visualFace],
  ['a user with only a PIN hash', { ...emptyUser('99'), pinHash: b64(32, 1) }],
  ['a user with a 48-character name', { ...emptyUser('5'), name: 'ä'.repeat(48) }],
];

describe('toUserInfo / fromUserInfo', () => {
  for (const [name, user] of roundTrips) {
    test(`round trip: ${name}`, () => {
      assert.deepEqual(fromUserInfo(toUserInfo(user)), user);
    });
    test(`round trip through the wire: ${name}`, () => {
      const bytes = UserInfo.encode(toUserInfo(user)).finish();
      assert.deepEqual(fromUserInfo(UserInfo.decode(bytes)), user);
    });
  }

  test('binary fields become bytes, headers count credentials', () => {
    const user = fullUser('42');
    const info = toUserInfo(user);
    assert.equal(info.hdr?.ID, '42');
    assert.equal(info.hdr?.numOfCard, 2);
    assert.equal(info.hdr?.numOfFinger, 2);
    assert.equal(info.hdr?.numOfFace, 1);
    assert.equal(info.hdr?.userFlag, UserFlag.USER_FLAG_NONE);
    assert.equal(info.PIN.length, 32);
    assert.equal(info.photo.length, 2048);
    assert.equal(info.fingers[0]?.templates[0]?.length, 384);
    assert.deepEqual(info.cards[0]?.data, Buffer.from([0x12, 0x34, 0x34, 0x34]));
    assert.equal(info.cards[0]?.size, CARD_DATA_SIZE);
    assert.equal(info.setting?.cardAuthMode, 3);
    assert.equal(info.setting?.IDAuthExtMode, 36);
    assert.deepEqual(info.accessGroupIDs, [3, 1, 2]);
  });

  test('a disabled user carries the DISABLED flag', () => {
    assert.equal(toUserInfo({ ...emptyUser('3'), disabled: true }).hdr?.userFlag, UserFlag.USER_FLAG_DISABLED);
  });

  test('the update mask is written into the header', () => {
    assert.equal(toUserInfo(emptyUser('3'), 0x20).hdr?.updateMask, 0x20);
    assert.equal(toUserInfo(emptyUser('3')).hdr?.updateMask, 0);
  });

  test('server-only fields never reach the wire', () => {
    const bare = fullUser('8');
    const decorated: User = {
      ...bare,
      department: 'Research',
      title: 'Dr',
      phone: '+1 555',
      email: 'a@example.invalid',
      userGroup: 'All Users',
      custom: { Purpose: 'visitor' },
    };
    assert.deepEqual(UserInfo.encode(toUserInfo(decorated)).finish(), UserInfo.encode(toUserInfo(bare)).finish());
    assert.deepEqual(fromUserInfo(toUserInfo(decorated)), bare);
  });

  const flagTable: Array<[number, boolean]> = [
    [UserFlag.USER_FLAG_NONE, false],
    [UserFlag.USER_FLAG_CREATED | UserFlag.USER_FLAG_UPDATED, false],
    [UserFlag.USER_FLAG_DISABLED, true],
    [UserFlag.USER_FLAG_DISABLED | UserFlag.USER_FLAG_CREATED, true],
  ];
  for (const [flag, disabled] of flagTable) {
    test(`userFlag 0x${flag.toString(16)} reads as disabled=${disabled}`, () => {
      const info = UserInfo.fromPartial({ hdr: { ID: '5', userFlag: flag } });
      assert.equal(fromUserInfo(info).disabled, disabled);
    });
  }

  test('a device answer without setting keeps the "use the device\'s" auth modes', () => {
    const user = fromUserInfo(UserInfo.fromPartial({ hdr: { ID: '5' }, name: 'x' }));
    assert.deepEqual(user, { ...emptyUser('5'), name: 'x' });
  });

  test('encodedSize grows with the payload', () => {
    const small = encodedSize(emptyUser('1'));
    const large = encodedSize(fullUser('1'));
    assert.ok(small > 0 && small < 64, `small=${small}`);
    assert.ok(large > 2048 + 1024 + 384, `large=${large}`);
  });
});

describe('GetPartial', () => {
  const maskTable: Array<[string, number, string[]]> = [
    ['ID only', InfoMask.INFO_MASK_ID_ONLY, []],
    ['header', InfoMask.INFO_MASK_HDR, ['disabled']],
    ['name and cards', InfoMask.INFO_MASK_NAME | InfoMask.INFO_MASK_CARD, ['name', 'cards']],
    ['setting', InfoMask.INFO_MASK_SETTING, ['startTime', 'endTime', 'auth', 'securityLevel']],
    ['credentials', InfoMask.INFO_MASK_PIN | InfoMask.INFO_MASK_FINGER | InfoMask.INFO_MASK_FACE, ['pinHash', 'fingers', 'faces']],
    ['groups, jobs and photo', InfoMask.INFO_MASK_ACCESS_GROUP | InfoMask.INFO_MASK_JOB | InfoMask.INFO_MASK_PHOTO, ['photo', 'accessGroups', 'jobCodes']],
  ];
  for (const [name, mask, fields] of maskTable) {
    test(`mask ${name} selects ${fields.join(', ') || 'nothing'}`, () => {
      assert.deepEqual(new Set(fieldsOfInfoMask(mask)), new Set(fields));
    });
  }

  test('ALL selects every device field', () => {
    const fields = new Set(fieldsOfInfoMask(InfoMask.INFO_MASK_ALL));
    for (const key of ['disabled', 'name', 'startTime', 'endTime', 'auth', 'securityLevel', 'cards', 'fingers', 'faces', 'accessGroups', 'jobCodes', 'pinHash', 'photo']) {
      assert.ok(fields.has(key as never), key);
    }
  });

  test('fields outside the mask are absent, not empty', () => {
    const user = fullUser('12');
    const partial = fromPartialUserInfo(toUserInfo(user), InfoMask.INFO_MASK_NAME | InfoMask.INFO_MASK_CARD);
    assert.deepEqual(partial, { id: '12', name: user.name, cards: user.cards });
  });
});
