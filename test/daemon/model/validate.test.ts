import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertValidUser, formatIssues, validateUser, type ValidationIssue, type ValidationOptions } from '../../../daemon/model/validate.js';
import { DEFAULT_DEVICE_LIMITS, resolveDeviceLimits, type DeviceLimits } from '../../../daemon/model/limits.js';
import { emptyUser, type Face, type User } from '../../../daemon/model/user.js';
import { isRollcallError } from '../../../daemon/errors.js';

/** base64 of `bytes` bytes. */
function b64(bytes: number, fill = 7): string {
  return Buffer.alloc(bytes, fill).toString('base64');
}

function times<T>(count: number, make: (i: number) => T): T[] {
  return Array.from({ length: count }, (_, i) => make(i));
}

/** A user that every device accepts, with some of everything. */
function baseUser(): User {
  return {
    ...emptyUser('1001'),
    name: 'Ada Lovelace',
    startTime: 1_700_000_000,
    endTime: 1_900_000_000,
    securityLevel: 3,
    cards: [{ type: 1, data: b64(4) }],
    fingers: [{ index: 0, flag: 0, templates: [b64(384), b64(300)] }],
    faces: [{ index: 0, flag: 0, templates: [b64(100)], imageData: b64(1000) }],
    accessGroups: [1, 2],
    jobCodes: [{ code: 1, label: 'Night shift' }],
    pinHash: b64(32),
    photo: b64(2000),
  };
}

function irFace(overrides: Partial<Face> = {}): Face {
  return { index: 0, flag: 0, templates: [b64(100)], ...overrides };
}

function visualFace(overrides: Partial<Face> = {}): Face {
  return { index: 0, flag: 0x100, templates: [b64(552)], ...overrides };
}

type Expected = [field: string, rule: string][];

interface Row {
  name: string;
  change: (user: User) => void;
  expected: Expected;
  limits?: Partial<DeviceLimits>;
  options?: ValidationOptions;
}

/** Loosens the type of a field to put a wrong-typed value in it, as JSON from outside could. */
function set(target: object, key: string, value: unknown): void {
  (target as Record<string, unknown>)[key] = value;
}

const alnum: ValidationOptions = { alphanumericIds: true };

const rows: Row[] = [
  // --- id
  { name: 'id 1', change: (u) => (u.id = '1'), expected: [] },
  { name: 'id at the numeric maximum', change: (u) => (u.id = '4294967294'), expected: [] },
  { name: 'id one above the numeric maximum', change: (u) => (u.id = '4294967295'), expected: [['id', 'range']] },
  { name: 'id 0', change: (u) => (u.id = '0'), expected: [['id', 'zero']] },
  { name: 'id of zeros', change: (u) => (u.id = '0000'), expected: [['id', 'zero']] },
  { name: 'id of zeros, alphanumeric', change: (u) => (u.id = '00'), options: alnum, expected: [['id', 'zero']] },
  { name: 'id with leading zeros', change: (u) => (u.id = '007'), expected: [] },
  { name: 'empty id', change: (u) => (u.id = ''), expected: [['id', 'required']] },
  { name: 'id of the wrong type', change: (u) => set(u, 'id', 1001), expected: [['id', 'type']] },
  { name: 'letters in a numeric id', change: (u) => (u.id = 'A-12'), expected: [['id', 'numeric']] },
  { name: 'a negative numeric id', change: (u) => (u.id = '-1'), expected: [['id', 'numeric']] },
  { name: 'letters with alphanumeric ids on', change: (u) => (u.id = 'Staff-12_b.x'), options: alnum, expected: [] },
  { name: 'a space in an alphanumeric id', change: (u) => (u.id = 'a b'), options: alnum, expected: [['id', 'charset']] },
  { name: 'a non-ASCII alphanumeric id', change: (u) => (u.id = 'José'), options: alnum, expected: [['id', 'charset']] },
  { name: 'alphanumeric id of 32 bytes', change: (u) => (u.id = 'x'.repeat(32)), options: alnum, expected: [] },
  { name: 'alphanumeric id of 33 bytes', change: (u) => (u.id = 'x'.repeat(33)), options: alnum, expected: [['id', 'max-bytes']] },
  {
    name: 'numeric id of 33 digits',
    change: (u) => (u.id = '1'.repeat(33)),
    expected: [
      ['id', 'max-bytes'],
      ['id', 'range'],
    ],
  },
  { name: 'id at a smaller device limit', change: (u) => (u.id = 'abcdefghij'), options: alnum, limits: { maxUserIdBytes: 10 }, expected: [] },
  { name: 'id over a smaller device limit', change: (u) => (u.id = 'abcdefghijk'), options: alnum, limits: { maxUserIdBytes: 10 }, expected: [['id', 'max-bytes']] },

  // --- name
  { name: 'empty name', change: (u) => (u.name = ''), expected: [] },
  { name: 'name of 48 characters', change: (u) => (u.name = 'n'.repeat(48)), expected: [] },
  { name: 'name of 49 characters', change: (u) => (u.name = 'n'.repeat(49)), expected: [['name', 'max-chars']] },
  { name: 'name of 48 four-byte characters (192 bytes)', change: (u) => (u.name = '😀'.repeat(48)), expected: [] },
  {
    name: 'name of 49 four-byte characters where 60 characters are allowed (196 bytes)',
    change: (u) => (u.name = '😀'.repeat(49)),
    limits: { maxNameChars: 60 },
    expected: [['name', 'max-bytes']],
  },
  { name: 'name with a lone surrogate', change: (u) => (u.name = 'Ada \uD800'), expected: [['name', 'encoding']] },
  { name: 'name of the wrong type', change: (u) => set(u, 'name', null), expected: [['name', 'type']] },

  // --- disabled
  { name: 'disabled of the wrong type', change: (u) => set(u, 'disabled', 'yes'), expected: [['disabled', 'type']] },

  // --- validity period
  { name: 'no period', change: (u) => ((u.startTime = 0), (u.endTime = 0)), expected: [] },
  { name: 'period of one instant', change: (u) => ((u.startTime = 100), (u.endTime = 100)), expected: [] },
  { name: 'period ending before it starts', change: (u) => ((u.startTime = 101), (u.endTime = 100)), expected: [['endTime', 'end-before-start']] },
  { name: 'start without end', change: (u) => ((u.startTime = 100), (u.endTime = 0)), expected: [] },
  { name: 'end without start', change: (u) => ((u.startTime = 0), (u.endTime = 100)), expected: [] },
  { name: 'start at the uint32 maximum', change: (u) => ((u.startTime = 4294967295), (u.endTime = 0)), expected: [] },
  { name: 'start above uint32', change: (u) => ((u.startTime = 4294967296), (u.endTime = 0)), expected: [['startTime', 'uint32']] },
  { name: 'negative end', change: (u) => (u.endTime = -1), expected: [['endTime', 'uint32']] },
  { name: 'fractional start', change: (u) => (u.startTime = 1.5), expected: [['startTime', 'uint32']] },

  // --- auth modes and security level
  { name: 'auth mode 0', change: (u) => (u.auth.biometric = 0), expected: [] },
  { name: 'auth mode 49', change: (u) => (u.auth.idExt = 49), expected: [] },
  { name: 'auth mode 50', change: (u) => (u.auth.idExt = 50), expected: [['auth.idExt', 'auth-mode']] },
  { name: 'auth mode 253', change: (u) => (u.auth.card = 253), expected: [['auth.card', 'auth-mode']] },
  { name: 'auth mode 254 (prohibited)', change: (u) => (u.auth.card = 0xfe), expected: [] },
  { name: 'auth mode 255 (device default)', change: (u) => (u.auth.card = 0xff), expected: [] },
  { name: 'auth mode 256', change: (u) => (u.auth.faceExt = 256), expected: [['auth.faceExt', 'auth-mode']] },
  { name: 'auth mode -1', change: (u) => (u.auth.id = -1), expected: [['auth.id', 'auth-mode']] },
  { name: 'auth missing', change: (u) => set(u, 'auth', undefined), expected: [['auth', 'type']] },
  { name: 'security level 0', change: (u) => (u.securityLevel = 0), expected: [] },
  { name: 'security level 5', change: (u) => (u.securityLevel = 5), expected: [] },
  { name: 'security level 6', change: (u) => (u.securityLevel = 6), expected: [['securityLevel', 'range']] },
  { name: 'security level -1', change: (u) => (u.securityLevel = -1), expected: [['securityLevel', 'range']] },

  // --- cards
  { name: 'no cards', change: (u) => (u.cards = []), expected: [] },
  { name: '8 cards', change: (u) => (u.cards = times(8, (i) => ({ type: 1, data: b64(4, i) }))), expected: [] },
  { name: '9 cards', change: (u) => (u.cards = times(9, (i) => ({ type: 1, data: b64(4, i) }))), expected: [['cards', 'max-count']] },
  { name: '3 cards where 2 are allowed', change: (u) => (u.cards = times(3, () => ({ type: 1, data: b64(4) }))), limits: { maxCards: 2 }, expected: [['cards', 'max-count']] },
  { name: 'card data of 32 bytes', change: (u) => (u.cards = [{ type: 2, data: b64(32) }]), expected: [] },
  { name: 'card data of 33 bytes', change: (u) => (u.cards = [{ type: 2, data: b64(33) }]), expected: [['cards[0].data', 'max-bytes']] },
  { name: 'empty card data', change: (u) => (u.cards = [{ type: 1, data: '' }]), expected: [['cards[0].data', 'required']] },
  { name: 'card data that is not base64', change: (u) => (u.cards = [{ type: 1, data: 'not base64!' }]), expected: [['cards[0].data', 'base64']] },
  { name: 'card data with misplaced padding', change: (u) => (u.cards = [{ type: 1, data: 'QUJD=' }]), expected: [['cards[0].data', 'base64']] },
  { name: 'card data of one base64 character', change: (u) => (u.cards = [{ type: 1, data: 'QUJDR' }]), expected: [['cards[0].data', 'base64']] },
  { name: 'card data without padding', change: (u) => (u.cards = [{ type: 1, data: 'QUJDRA' }]), expected: [] },
  { name: 'card of a negative type', change: (u) => (u.cards = [{ type: -1, data: b64(4) }]), expected: [['cards[0].type', 'uint32']] },
  { name: 'card that is not an object', change: (u) => set(u, 'cards', [null]), expected: [['cards[0]', 'type']] },
  { name: 'cards that are not a list', change: (u) => set(u, 'cards', {}), expected: [['cards', 'type']] },

  // --- fingers
  { name: '10 fingers', change: (u) => (u.fingers = times(10, (i) => ({ index: i, flag: 0, templates: [b64(300), b64(300)] }))), expected: [] },
  { name: '11 fingers', change: (u) => (u.fingers = times(11, (i) => ({ index: i, flag: 0, templates: [b64(300), b64(300)] }))), expected: [['fingers', 'max-count']] },
  { name: 'a finger with one template', change: (u) => (u.fingers = [{ index: 0, flag: 0, templates: [b64(300)] }]), expected: [['fingers[0].templates', 'count']] },
  { name: 'a finger with three templates', change: (u) => (u.fingers = [{ index: 0, flag: 0, templates: [b64(300), b64(300), b64(300)] }]), expected: [['fingers[0].templates', 'count']] },
  { name: 'templates of 384 bytes', change: (u) => (u.fingers = [{ index: 0, flag: 0, templates: [b64(384), b64(384)] }]), expected: [] },
  { name: 'a template of 385 bytes', change: (u) => (u.fingers = [{ index: 0, flag: 0, templates: [b64(384), b64(385)] }]), expected: [['fingers[0].templates[1]', 'max-bytes']] },
  { name: 'an empty template', change: (u) => (u.fingers = [{ index: 0, flag: 0, templates: ['', b64(10)] }]), expected: [['fingers[0].templates[0]', 'required']] },
  { name: 'a duress finger', change: (u) => (u.fingers = [{ index: 0, flag: 1, templates: [b64(10), b64(10)] }]), expected: [] },
  { name: 'a finger flag of 2', change: (u) => (u.fingers = [{ index: 0, flag: 2, templates: [b64(10), b64(10)] }]), expected: [['fingers[0].flag', 'flag']] },
  { name: 'a finger index past int32', change: (u) => (u.fingers = [{ index: 2 ** 31, flag: 0, templates: [b64(10), b64(10)] }]), expected: [['fingers[0].index', 'int32']] },
  { name: 'finger templates that are not a list', change: (u) => set(u.fingers[0] as object, 'templates', 'x'), expected: [['fingers[0].templates', 'type']] },

  // --- faces
  { name: '5 faces', change: (u) => (u.faces = times(5, (i) => irFace({ index: i }))), expected: [] },
  { name: '6 faces', change: (u) => (u.faces = times(6, (i) => irFace({ index: i }))), expected: [['faces', 'max-count']] },
  { name: 'an IR face with 30 templates', change: (u) => (u.faces = [irFace({ templates: times(30, () => b64(50)) })]), expected: [] },
  { name: 'an IR face with 31 templates', change: (u) => (u.faces = [irFace({ templates: times(31, () => b64(50)) })]), expected: [['faces[0].templates', 'max-count']] },
  { name: 'an IR face template of unpublished size', change: (u) => (u.faces = [irFace({ templates: [b64(3000)] })]), expected: [] },
  { name: 'an IR face image of 16384 bytes', change: (u) => (u.faces = [irFace({ imageData: b64(16384) })]), expected: [] },
  { name: 'an IR face image of 16385 bytes', change: (u) => (u.faces = [irFace({ imageData: b64(16385) })]), expected: [['faces[0].imageData', 'max-bytes']] },
  { name: 'a face with only an image', change: (u) => (u.faces = [irFace({ templates: [], imageData: b64(100) })]), expected: [] },
  { name: 'a face with neither templates nor image', change: (u) => (u.faces = [irFace({ templates: [] })]), expected: [['faces[0].templates', 'required']] },
  { name: 'a visual face with 10 templates', change: (u) => (u.faces = [visualFace({ templates: times(10, () => b64(552)) })]), expected: [] },
  { name: 'a visual face with 11 templates', change: (u) => (u.faces = [visualFace({ templates: times(11, () => b64(552)) })]), expected: [['faces[0].templates', 'max-count']] },
  { name: 'a visual face template of 553 bytes', change: (u) => (u.faces = [visualFace({ templates: [b64(553)] })]), expected: [['faces[0].templates[0]', 'max-bytes']] },
  { name: 'a visual face with 10 IR templates', change: (u) => (u.faces = [visualFace({ irTemplates: times(10, () => b64(100)) })]), expected: [] },
  { name: 'a visual face with 11 IR templates', change: (u) => (u.faces = [visualFace({ irTemplates: times(11, () => b64(100)) })]), expected: [['faces[0].irTemplates', 'max-count']] },
  { name: 'a visual face image past the IR limit (its own limit is unconfirmed)', change: (u) => (u.faces = [visualFace({ imageData: b64(30000) })]), expected: [] },
  { name: 'a face flag of -1', change: (u) => (u.faces = [irFace({ flag: -1 })]), expected: [['faces[0].flag', 'uint32']] },
  { name: 'IR templates that are not a list', change: (u) => (u.faces = [visualFace({ irTemplates: 'x' as unknown as string[] })]), expected: [['faces[0].irTemplates', 'type']] },
  { name: 'an IR image that is not base64', change: (u) => (u.faces = [visualFace({ irImageData: '***' })]), expected: [['faces[0].irImageData', 'base64']] },

  // --- access groups
  { name: '16 access groups', change: (u) => (u.accessGroups = times(16, (i) => i + 1)), expected: [] },
  { name: '17 access groups', change: (u) => (u.accessGroups = times(17, (i) => i + 1)), expected: [['accessGroups', 'max-count']] },
  { name: 'a repeated access group', change: (u) => (u.accessGroups = [5, 6, 5]), expected: [['accessGroups[2]', 'duplicate']] },
  { name: 'access group at the uint32 maximum', change: (u) => (u.accessGroups = [4294967295]), expected: [] },
  { name: 'a negative access group', change: (u) => (u.accessGroups = [-1]), expected: [['accessGroups[0]', 'uint32']] },
  { name: 'a fractional access group', change: (u) => (u.accessGroups = [1.5]), expected: [['accessGroups[0]', 'uint32']] },

  // --- job codes
  { name: '16 job codes', change: (u) => (u.jobCodes = times(16, (i) => ({ code: i, label: `job ${i}` }))), expected: [] },
  { name: '17 job codes', change: (u) => (u.jobCodes = times(17, (i) => ({ code: i, label: `job ${i}` }))), expected: [['jobCodes', 'max-count']] },
  { name: 'a job label of 48 bytes', change: (u) => (u.jobCodes = [{ code: 1, label: 'é'.repeat(24) }]), expected: [] },
  { name: 'a job label of 50 bytes', change: (u) => (u.jobCodes = [{ code: 1, label: 'é'.repeat(25) }]), expected: [['jobCodes[0].label', 'max-bytes']] },
  { name: 'a negative job code', change: (u) => (u.jobCodes = [{ code: -1, label: 'x' }]), expected: [['jobCodes[0].code', 'uint32']] },
  { name: 'a job label of the wrong type', change: (u) => (u.jobCodes = [{ code: 1, label: 7 as unknown as string }]), expected: [['jobCodes[0].label', 'type']] },

  // --- PIN hash
  { name: 'no PIN hash', change: (u) => delete u.pinHash, expected: [] },
  { name: 'an empty PIN hash', change: (u) => (u.pinHash = ''), expected: [] },
  { name: 'a PIN hash of 31 bytes', change: (u) => (u.pinHash = b64(31)), expected: [['pinHash', 'exact-bytes']] },
  { name: 'a PIN hash of 33 bytes', change: (u) => (u.pinHash = b64(33)), expected: [['pinHash', 'exact-bytes']] },
  { name: 'a plaintext PIN where the hash belongs', change: (u) => (u.pinHash = '1234'), expected: [['pinHash', 'exact-bytes']] },
  { name: 'a PIN hash that is not base64', change: (u) => (u.pinHash = '12 34'), expected: [['pinHash', 'base64']] },
  { name: 'a PIN hash of the wrong type', change: (u) => set(u, 'pinHash', 1234), expected: [['pinHash', 'type']] },

  // --- photo
  { name: 'no photo', change: (u) => delete u.photo, expected: [] },
  { name: 'a photo of 16384 bytes', change: (u) => (u.photo = b64(16384)), expected: [] },
  { name: 'a photo of 16385 bytes', change: (u) => (u.photo = b64(16385)), expected: [['photo', 'max-bytes']] },
  { name: 'a photo over a smaller device limit', change: (u) => (u.photo = b64(101)), limits: { maxPhotoBytes: 100 }, expected: [['photo', 'max-bytes']] },
  { name: 'a photo that is not base64', change: (u) => (u.photo = 'data:image/jpeg;base64,AAAA'), expected: [['photo', 'base64']] },
];

describe('validateUser rules', () => {
  test('the base user is valid', () => assert.deepEqual(validateUser(baseUser()), []));

  for (const row of rows) {
    test(row.name, () => {
      const user = baseUser();
      row.change(user);
      const issues = validateUser(user, row.limits, row.options);
      assert.deepEqual(
        issues.map((issue) => [issue.field, issue.rule]),
        row.expected,
        issues.map((issue) => issue.message).join('\n'),
      );
      for (const issue of issues) assert.ok(issue.message.startsWith(`${issue.field}: `), issue.message);
    });
  }

  test('a user at every limit at once is valid', () => {
    const user: User = {
      ...emptyUser('4294967294'),
      name: 'n'.repeat(48),
      startTime: 1,
      endTime: 4294967295,
      securityLevel: 5,
      cards: times(8, (i) => ({ type: 1, data: b64(32, i) })),
      fingers: times(10, (i) => ({ index: i, flag: 1, templates: [b64(384), b64(384)] })),
      faces: times(5, (i) => irFace({ index: i, templates: times(30, () => b64(64)), imageData: b64(16384) })),
      accessGroups: times(16, (i) => i),
      jobCodes: times(16, (i) => ({ code: i, label: 'j'.repeat(48) })),
      pinHash: b64(32),
      photo: b64(16384),
    };
    assert.deepEqual(validateUser(user), []);
  });

  test('reports every broken rule, not only the first', () => {
    const user = baseUser();
    user.id = '0';
    user.name = 'n'.repeat(60);
    user.cards = times(9, () => ({ type: 1, data: b64(40) }));
    user.accessGroups = [1, 1];
    const rules = validateUser(user).map((issue) => `${issue.field} ${issue.rule}`);
    assert.ok(rules.includes('id zero'));
    assert.ok(rules.includes('name max-chars'));
    assert.ok(rules.includes('cards max-count'));
    assert.equal(rules.filter((rule) => /^cards\[\d\]\.data max-bytes$/.test(rule)).length, 9);
    assert.ok(rules.includes('accessGroups[1] duplicate'));
  });

  test('a value that is not an object is one type issue', () => {
    assert.deepEqual(
      validateUser(null as unknown as User).map((issue) => [issue.field, issue.rule]),
      [['user', 'type']],
    );
  });
});

describe('validation messages', () => {
  test('name the field, the rule and the numbers', () => {
    const user = baseUser();
    user.cards = times(9, () => ({ type: 1, data: b64(4) }));
    user.fingers = [{ index: 0, flag: 0, templates: [b64(384), b64(400)] }];
    const messages = validateUser(user).map((issue) => issue.message);
    assert.deepEqual(messages, [
      'cards: at most 8 cards per user (got 9)',
      'fingers[0].templates[1]: a fingerprint template must be at most 384 bytes (got 400)',
    ]);
  });

  test('follow the device limits in force', () => {
    const user = baseUser();
    user.cards = times(3, () => ({ type: 1, data: b64(4) }));
    assert.equal(validateUser(user, { maxCards: 2 })[0]?.message, 'cards: at most 2 cards per user (got 3)');
  });

  test('never quote card data, PIN hashes, templates or photos', () => {
    const secret = fc.uint8Array({ minLength: 9, maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString('base64'));
    fc.assert(
      fc.property(secret, secret, secret, secret, (card, pinHash, template, photo) => {
        const user = baseUser();
        user.cards = [{ type: 1, data: card }, { type: 1, data: `${card}!` }];
        user.pinHash = pinHash;
        user.fingers = [{ index: 0, flag: 0, templates: [template] }];
        user.photo = photo;
        const issues = validateUser(user, { maxCardDataBytes: 8, maxTemplateBytes: 8, maxPhotoBytes: 8 });
        assert.ok(issues.length >= 4);
        let thrown = '';
        try {
          assertValidUser(user, { maxCardDataBytes: 8, maxTemplateBytes: 8, maxPhotoBytes: 8 });
        } catch (error) {
          thrown = JSON.stringify({ message: (error as Error).message, detail: (error as { detail?: unknown }).detail });
        }
        const text = issues.map((issue) => issue.message).join('\n') + thrown;
        for (const value of [card, pinHash, template, photo]) assert.ok(!text.includes(value), `leaked ${value}`);
      }),
      { numRuns: 50 },
    );
  });
});

describe('assertValidUser', () => {
  test('passes a valid user', () => {
    assert.doesNotThrow(() => assertValidUser(baseUser()));
  });

  test('throws ROLLCALL_ERR_USER_INVALID with every issue in the detail', () => {
    const user = baseUser();
    user.id = 'abc';
    user.securityLevel = 9;
    const expected = validateUser(user);
    assert.equal(expected.length, 2);
    assert.throws(
      () => assertValidUser(user),
      (error: unknown) => {
        assert.ok(isRollcallError(error, 'ROLLCALL_ERR_USER_INVALID'));
        assert.deepEqual(error.detail, { userId: 'abc', issues: expected });
        assert.match(error.message, /^user abc breaks a device rule: id: .*; securityLevel: /);
        return true;
      },
    );
  });

  test('uses the alphanumeric option and the device limits', () => {
    const user = baseUser();
    user.id = 'abc';
    assert.doesNotThrow(() => assertValidUser(user, undefined, { alphanumericIds: true }));
    assert.throws(() => assertValidUser(user, { maxUserIdBytes: 2 }, { alphanumericIds: true }), { code: 'ROLLCALL_ERR_USER_INVALID' });
  });
});

describe('formatIssues', () => {
  const issue = (n: number): ValidationIssue => ({ field: `f${n}`, rule: 'range', message: `f${n}: m${n}` });
  test('joins the messages', () => assert.equal(formatIssues([issue(1), issue(2)]), 'f1: m1; f2: m2'));
  test('says how many more there are past the maximum', () => {
    assert.equal(formatIssues(times(7, issue), 2), 'f0: m0; f1: m1; and 5 more');
  });
});

describe('resolveDeviceLimits', () => {
  test('gives the G-SDK defaults', () => {
    assert.deepEqual(resolveDeviceLimits(), { ...DEFAULT_DEVICE_LIMITS });
    assert.equal(DEFAULT_DEVICE_LIMITS.maxCards, 8);
    assert.equal(DEFAULT_DEVICE_LIMITS.maxFingers, 10);
    assert.equal(DEFAULT_DEVICE_LIMITS.maxFaces, 5);
    assert.equal(DEFAULT_DEVICE_LIMITS.maxAccessGroups, 16);
    assert.equal(DEFAULT_DEVICE_LIMITS.maxJobCodes, 16);
    assert.equal(DEFAULT_DEVICE_LIMITS.maxNameChars, 48);
    assert.equal(DEFAULT_DEVICE_LIMITS.maxPhotoBytes, 16384);
    assert.equal(DEFAULT_DEVICE_LIMITS.maxUserIdBytes, 32);
    assert.equal(DEFAULT_DEVICE_LIMITS.maxTemplateBytes, 384);
  });

  test('lays overrides over the defaults and ignores undefined ones', () => {
    const limits = resolveDeviceLimits({ maxCards: 4, maxFaces: undefined });
    assert.equal(limits.maxCards, 4);
    assert.equal(limits.maxFaces, 5);
  });

  test('does not let a caller change the defaults', () => {
    const limits = resolveDeviceLimits();
    limits.maxCards = 1;
    assert.equal(DEFAULT_DEVICE_LIMITS.maxCards, 8);
    assert.throws(() => {
      (DEFAULT_DEVICE_LIMITS as DeviceLimits).maxCards = 1;
    });
  });
});
