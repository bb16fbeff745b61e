import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  cardKey,
  credentialKey,
  credentialProjectionKey,
  DEVICE_FIELDS,
  deviceFieldsDiffer,
  faceKey,
  fingerKey,
  sameDeviceProjection,
  type DeviceField,
} from '../../../daemon/merge/equality.js';
import { CardType, type User } from '../../../daemon/model/user.js';
import { card, face, finger, fullUser, user } from './users.js';

const base = fullUser('1', 's');

describe('deviceFieldsDiffer', () => {
  const cases: { name: string; change: (u: User) => User; differ: DeviceField[] }[] = [
    { name: 'same user', change: (u) => u, differ: [] },
    { name: 'server-only fields are not device fields', change: (u) => ({ ...u, department: 'Other', email: undefined, custom: {} }), differ: [] },
    { name: 'the ID is not compared', change: (u) => ({ ...u, id: '2' }), differ: [] },
    { name: 'name', change: (u) => ({ ...u, name: 'Other' }), differ: ['name'] },
    { name: 'disabled', change: (u) => ({ ...u, disabled: true }), differ: ['disabled'] },
    { name: 'start and end', change: (u) => ({ ...u, startTime: 1, endTime: 2 }), differ: ['startTime', 'endTime'] },
    { name: 'one auth mode', change: (u) => ({ ...u, auth: { ...u.auth, idExt: 40 } }), differ: ['auth'] },
    { name: 'security level', change: (u) => ({ ...u, securityLevel: 5 }), differ: ['securityLevel'] },
    { name: 'cards in another order', change: (u) => ({ ...u, cards: [...u.cards].reverse() }), differ: [] },
    { name: 'a card of another type with the same data', change: (u) => ({ ...u, cards: [{ ...u.cards[0]!, type: CardType.QR }, u.cards[1]!] }), differ: ['cards'] },
    { name: 'a card less', change: (u) => ({ ...u, cards: u.cards.slice(1) }), differ: ['cards'] },
    { name: 'a card twice instead of two cards', change: (u) => ({ ...u, cards: [u.cards[0]!, u.cards[0]!] }), differ: ['cards'] },
    { name: 'finger index (devices ignore it)', change: (u) => ({ ...u, fingers: u.fingers.map((f) => ({ ...f, index: f.index + 5 })) }), differ: [] },
    { name: 'finger templates swapped', change: (u) => ({ ...u, fingers: u.fingers.map((f) => ({ ...f, templates: [...f.templates].reverse() })) }), differ: [] },
    { name: 'finger duress flag', change: (u) => ({ ...u, fingers: u.fingers.map((f) => ({ ...f, flag: 1 })) }), differ: ['fingers'] },
    { name: 'face index (devices ignore it)', change: (u) => ({ ...u, faces: u.faces.map((f) => ({ ...f, index: 9 })) }), differ: [] },
    { name: 'face image', change: (u) => ({ ...u, faces: [{ ...u.faces[0]!, imageData: undefined }] }), differ: ['faces'] },
    { name: 'face flag', change: (u) => ({ ...u, faces: [{ ...u.faces[0]!, flag: 0x100 }] }), differ: ['faces'] },
    { name: 'access groups in another order', change: (u) => ({ ...u, accessGroups: [7, 1] }), differ: [] },
    { name: 'another access group', change: (u) => ({ ...u, accessGroups: [1, 8] }), differ: ['accessGroups'] },
    { name: 'job code label', change: (u) => ({ ...u, jobCodes: [{ code: 10, label: 'Night' }] }), differ: ['jobCodes'] },
    { name: 'PIN removed', change: (u) => ({ ...u, pinHash: undefined }), differ: ['pinHash'] },
    { name: 'photo changed', change: (u) => ({ ...u, photo: 'AAAA' }), differ: ['photo'] },
    {
      name: 'several, listed in field order',
      change: (u) => ({ ...u, photo: undefined, name: 'X', cards: [] }),
      differ: ['name', 'cards', 'photo'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const other = c.change(structuredClone(base));
      assert.deepEqual(deviceFieldsDiffer(base, other), c.differ);
      assert.deepEqual(deviceFieldsDiffer(other, base), c.differ);
      assert.equal(sameDeviceProjection(base, other), c.differ.length === 0);
    });
  }

  test('an empty and an absent PIN hash or photo are the same', () => {
    const absent = user('1');
    const empty = user('1', { pinHash: '', photo: '' });
    assert.deepEqual(deviceFieldsDiffer(absent, empty), []);
  });

  test('every device field is a User key and none is server-only', () => {
    const keys = Object.keys(fullUser('1', 'x'));
    for (const field of DEVICE_FIELDS) assert.ok(keys.includes(field), field);
    for (const serverOnly of ['department', 'title', 'phone', 'email', 'userGroup', 'custom']) {
      assert.ok(!(DEVICE_FIELDS as readonly string[]).includes(serverOnly), serverOnly);
    }
  });
});

describe('credential keys', () => {
  test('a card is its type and data', () => {
    const a = card('a');
    assert.equal(cardKey(a), cardKey({ ...a }));
    assert.notEqual(cardKey(a), cardKey({ ...a, type: CardType.SECURE }));
    assert.notEqual(cardKey(a), cardKey(card('b')));
    assert.equal(credentialKey('cards', a), cardKey(a));
  });

  test('a finger is its two templates, whatever its index, flag or template order', () => {
    const a = finger('a', 0, 1);
    assert.equal(fingerKey(a), fingerKey({ ...a, index: 4, flag: 1, templates: [...a.templates].reverse() }));
    assert.notEqual(fingerKey(a), fingerKey({ ...a, templates: [a.templates[0]!, finger('b').templates[1]!] }));
    assert.equal(credentialKey('fingers', a), fingerKey(a));
  });

  test('the projection key of a finger adds its flag', () => {
    const a = finger('a');
    assert.notEqual(credentialProjectionKey('fingers', a), credentialProjectionKey('fingers', { ...a, flag: 1 }));
    assert.equal(credentialProjectionKey('fingers', a), credentialProjectionKey('fingers', { ...a, index: 9 }));
  });

  test('a face is its templates and images; moving a value between parts makes another face', () => {
    const a = face('a');
    assert.equal(faceKey(a), faceKey({ ...a, index: 3, flag: 1 }));
    assert.notEqual(faceKey(a), faceKey({ ...a, imageData: undefined }));
    // The same values in other parts must not collide.
    const moved = { index: 0, flag: 0, templates: [], imageData: undefined, irTemplates: a.templates, irImageData: a.imageData };
    assert.notEqual(faceKey(a), faceKey(moved));
    assert.equal(credentialKey('faces', a), faceKey(a));
  });

  test('job codes that would read the same run together stay apart', () => {
    const a = user('1', { jobCodes: [{ code: 1, label: '2' }] });
    const b = user('1', { jobCodes: [{ code: 12, label: '' }] });
    assert.deepEqual(deviceFieldsDiffer(a, b), ['jobCodes']);
  });
});
