import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceCopy, holdsShapeId, leftOffText, withLeftOffRestored, LEFT_OFF_REASONS, type DeviceHolds, type LeftOff } from '../../../daemon/model/device-copy.js';
import { CardType, emptyUser, type Face, type Finger, type User } from '../../../daemon/model/user.js';
import { deviceProjectionHash } from '../../../daemon/model/projection.js';

const b64 = (n: number, size = 8) => Buffer.alloc(size, n).toString('base64');
const finger = (n: number): Finger => ({ index: n, flag: 0, templates: [b64(n), b64(n + 100)] });
const irFace = (n: number): Face => ({ index: n, flag: 0, templates: [b64(n)] });
const visualFace = (n: number): Face => ({ index: n, flag: 0x100, templates: [b64(n, 552)], irTemplates: [b64(n + 1, 552)] });
const card = (n: number) => ({ type: CardType.CSN, data: b64(n, 32) });
const PIN = Buffer.alloc(32, 7).toString('base64');

/** A user with every credential kind: 3 fingers, 2 IR + 2 visual faces, 3 cards, a PIN hash of scheme 'aaaa'. */
const full: User = {
  ...emptyUser('42'),
  name: 'Every Credential',
  fingers: [finger(1), finger(2), finger(3)],
  faces: [irFace(1), visualFace(2), irFace(3), visualFace(4)],
  cards: [card(1), card(2), card(3)],
  pinHash: PIN,
  pinHashScheme: 'aaaa',
};

interface Case {
  what: string;
  holds: DeviceHolds;
  site?: { pinHashScheme?: string; templateFormat?: number };
  leftOff: LeftOff[];
  check: (copy: User) => void;
}

const cases: Case[] = [
  {
    what: 'nothing reported: nothing left off (the conservative default)',
    holds: {},
    leftOff: [],
    check: (copy) => assert.equal(copy, full),
  },
  {
    what: 'a device that holds everything, within its maxima: the same user',
    holds: { fingerprints: true, maxFingerprints: 10, faces: undefined, maxFaces: 5, cards: true, maxCards: 8, pin: true },
    site: { pinHashScheme: 'aaaa' },
    leftOff: [],
    check: (copy) => assert.equal(copy, full),
  },
  {
    what: 'no fingerprint sensor',
    holds: { fingerprints: false },
    leftOff: [{ what: 'fingerprint', count: 3, reason: 'no-fingerprint-sensor' }],
    check: (copy) => assert.deepEqual(copy.fingers, []),
  },
  {
    what: 'another template format than the site',
    holds: { fingerprints: true, templateFormat: 1 },
    site: { templateFormat: 0 },
    leftOff: [{ what: 'fingerprint', count: 3, reason: 'template-format' }],
    check: (copy) => assert.deepEqual(copy.fingers, []),
  },
  {
    what: 'a template format with the site format unknown: not checked',
    holds: { templateFormat: 2 },
    leftOff: [],
    check: (copy) => assert.equal(copy.fingers.length, 3),
  },
  {
    what: 'fingerprints over the maximum: the first ones kept',
    holds: { fingerprints: true, maxFingerprints: 2 },
    leftOff: [{ what: 'fingerprint', count: 1, reason: 'over-device-maximum' }],
    check: (copy) => assert.deepEqual(copy.fingers, [finger(1), finger(2)]),
  },
  {
    what: 'no face',
    holds: { faces: 'none' },
    leftOff: [{ what: 'face', count: 4, reason: 'no-face' }],
    check: (copy) => assert.deepEqual(copy.faces, []),
  },
  {
    what: 'IR faces on a visual-face device',
    holds: { faces: 'visual' },
    leftOff: [{ what: 'face', count: 2, reason: 'ir-face-on-visual-device' }],
    check: (copy) => assert.deepEqual(copy.faces, [visualFace(2), visualFace(4)]),
  },
  {
    what: 'visual faces on an IR-face device',
    holds: { faces: 'ir' },
    leftOff: [{ what: 'face', count: 2, reason: 'visual-face-on-ir-device' }],
    check: (copy) => assert.deepEqual(copy.faces, [irFace(1), irFace(3)]),
  },
  {
    what: 'visual faces over the maximum after the IR ones are left off',
    holds: { faces: 'visual', maxFaces: 1 },
    leftOff: [
      { what: 'face', count: 2, reason: 'ir-face-on-visual-device' },
      { what: 'face', count: 1, reason: 'over-device-maximum' },
    ],
    check: (copy) => assert.deepEqual(copy.faces, [visualFace(2)]),
  },
  {
    what: 'no card reader',
    holds: { cards: false },
    leftOff: [{ what: 'card', count: 3, reason: 'no-card-reader' }],
    check: (copy) => assert.deepEqual(copy.cards, []),
  },
  {
    what: 'cards over the maximum',
    holds: { cards: true, maxCards: 1 },
    leftOff: [{ what: 'card', count: 2, reason: 'over-device-maximum' }],
    check: (copy) => assert.deepEqual(copy.cards, [card(1)]),
  },
  {
    what: 'no PIN',
    holds: { pin: false },
    leftOff: [{ what: 'pin', count: 1, reason: 'no-pin' }],
    check: (copy) => {
      assert.equal(copy.pinHash, undefined);
      assert.equal(copy.pinHashScheme, undefined);
    },
  },
  {
    what: 'a PIN hash made by another gateway (pin-provenance)',
    holds: { pin: true },
    site: { pinHashScheme: 'bbbb' },
    leftOff: [{ what: 'pin', count: 1, reason: 'pin-hash-foreign' }],
    check: (copy) => assert.equal(copy.pinHash, undefined),
  },
  {
    what: "a PIN hash with the gateway's scheme not known yet: sent",
    holds: { pin: true },
    leftOff: [],
    check: (copy) => assert.equal(copy.pinHash, PIN),
  },
  {
    what: 'a BioStation 3 shape: visual face, no fingerprint, cards, PIN',
    holds: { fingerprints: false, faces: 'visual', maxFaces: 5, cards: true, maxCards: 8, pin: true },
    site: { pinHashScheme: 'aaaa' },
    leftOff: [
      { what: 'fingerprint', count: 3, reason: 'no-fingerprint-sensor' },
      { what: 'face', count: 2, reason: 'ir-face-on-visual-device' },
    ],
    check: (copy) => {
      assert.deepEqual(copy.fingers, []);
      assert.deepEqual(copy.faces, [visualFace(2), visualFace(4)]);
      assert.equal(copy.cards.length, 3);
      assert.equal(copy.pinHash, PIN);
    },
  },
];

describe('deviceCopy', () => {
  for (const c of cases) {
    test(c.what, () => {
      const before = structuredClone(full);
      const { copy, leftOff } = deviceCopy(full, c.holds, c.site);
      assert.deepEqual(leftOff, c.leftOff);
      c.check(copy);
      assert.deepEqual(full, before, 'the stored user is never changed');
      if (leftOff.length > 0) assert.notEqual(deviceProjectionHash(copy), deviceProjectionHash(full));
      // Server-side fields and the rest of the device fields travel as they are.
      assert.equal(copy.name, full.name);
      assert.equal(copy.id, full.id);
    });
  }

  test('every reason has a stable code and a text that names it', () => {
    assert.equal(new Set(LEFT_OFF_REASONS).size, LEFT_OFF_REASONS.length);
    for (const reason of LEFT_OFF_REASONS) {
      const text = leftOffText({ what: 'face', count: 2, reason });
      assert.match(text, new RegExp(`\\(${reason}\\)$`));
      assert.match(text, /^2 faces: /);
    }
    assert.equal(leftOffText({ what: 'pin', count: 1, reason: 'no-pin' }), 'PIN: the device takes no PIN (no-pin)');
  });

  test('a user without the credential a device lacks is copied as it is', () => {
    const plain = { ...emptyUser('7'), name: 'Plain' };
    const { copy, leftOff } = deviceCopy(plain, { fingerprints: false, faces: 'none', cards: false, pin: false });
    assert.equal(copy, plain);
    assert.deepEqual(leftOff, []);
  });
});

describe('holdsShapeId', () => {
  test('equal for equal holds, apart for any difference, including the site facts', () => {
    const a: DeviceHolds = { fingerprints: false, faces: 'visual', maxFaces: 5, cards: true, maxCards: 8, pin: true };
    assert.equal(holdsShapeId(a), holdsShapeId({ ...a }));
    const variants: DeviceHolds[] = [
      { ...a, fingerprints: true },
      { ...a, fingerprints: undefined },
      { ...a, maxFingerprints: 3 },
      { ...a, templateFormat: 1 },
      { ...a, faces: 'ir' },
      { ...a, faces: 'none' },
      { ...a, faces: undefined },
      { ...a, maxFaces: 1 },
      { ...a, cards: false },
      { ...a, maxCards: 2 },
      { ...a, pin: false },
    ];
    const ids = new Set([holdsShapeId(a), ...variants.map((v) => holdsShapeId(v))]);
    assert.equal(ids.size, variants.length + 1);
    assert.notEqual(holdsShapeId(a, { pinHashScheme: 'aaaa' }), holdsShapeId(a, { pinHashScheme: 'bbbb' }));
    assert.notEqual(holdsShapeId(a, { templateFormat: 0 }), holdsShapeId(a));
  });
});

describe('withLeftOffRestored', () => {
  test("a device user gets back what its device was never given, after the device's own", () => {
    const holds: DeviceHolds = { fingerprints: false, faces: 'visual', maxFaces: 1, pin: false };
    const { copy } = deviceCopy(full, holds);
    // At the device, the user's card list was edited: one card removed.
    const atDevice: User = { ...copy, cards: [card(1)] };
    const restored = withLeftOffRestored(atDevice, full, holds);
    assert.deepEqual(restored.fingers, full.fingers);
    assert.deepEqual(restored.faces, [visualFace(2), irFace(1), irFace(3), visualFace(4)]);
    assert.deepEqual(restored.cards, [card(1)], 'a kind the device holds keeps the device value');
    assert.equal(restored.pinHash, PIN);
    assert.equal(restored.pinHashScheme, 'aaaa');
  });

  test('nothing left off, or a user the server lacks: the device user as it is', () => {
    const atDevice = { ...full, name: 'Edited' };
    assert.equal(withLeftOffRestored(atDevice, full, {}), atDevice);
    assert.equal(withLeftOffRestored(atDevice, undefined, { faces: 'none' }), atDevice);
  });
});
