import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserInfo, type DeepPartial } from '../../proto/gen/gsdk/user.js';
import { TemplateFormat } from '../../proto/gen/gsdk/finger.js';
import { FaceFlag } from '../../proto/gen/gsdk/face.js';
import { checkUser, checkUserId, templateFormatOf, type UserRules } from '../../simulator/rules.js';

const rules: UserRules = {
  maxCardsPerUser: 8,
  maxFingerprintsPerUser: 10,
  maxFacesPerUser: 5,
  face: 'ir',
  pin: true,
  templateFormat: TemplateFormat.SUPREMA,
  useAlphanumericID: false,
};

const tpl = (format: number, size = 100): Buffer => Buffer.concat([Buffer.from([format]), Buffer.alloc(size - 1, 9)]);
const finger = (format = 0, size = 100, count = 2) => ({ index: 0, flag: 0, templates: Array.from({ length: count }, () => tpl(format, size)) });
const card = (size = 32) => ({ type: 1, size: 32, data: Buffer.alloc(size, 1) });
const face = (flag = 0, templates = 1, image = 0, templateSize = 100) => ({
  index: 0,
  flag,
  templates: Array.from({ length: templates }, () => Buffer.alloc(templateSize, 1)),
  imageData: Buffer.alloc(image),
  irTemplates: [],
  irImageData: Buffer.alloc(0),
});

describe('checkUserId', () => {
  const cases: [string, boolean, string | undefined][] = [
    ['1', false, undefined],
    ['4294967295', false, undefined],
    ['', false, 'id-empty'],
    ['0', false, 'id-zero'],
    ['000', false, 'id-zero'],
    ['12a', false, 'id-not-numeric'],
    ['12a', true, undefined],
    ['ana.b', true, undefined],
    ['0', true, 'id-zero'],
    ['1'.repeat(32), false, undefined],
    ['1'.repeat(33), false, 'id-too-long'],
    ['é'.repeat(16), true, undefined],
    ['é'.repeat(17), true, 'id-too-long'],
  ];
  for (const [id, alphanumeric, rule] of cases) {
    test(`${JSON.stringify(id)} alphanumeric=${alphanumeric} → ${rule ?? 'ok'}`, () => {
      assert.equal(checkUserId(id, alphanumeric)?.rule, rule);
    });
  }
});

describe('checkUser', () => {
  const cases: [string, DeepPartial<UserInfo>, Partial<UserRules>, string | undefined][] = [
    ['a plain user', { hdr: { ID: '1' }, name: 'Ana' }, {}, undefined],
    ['48-character name', { hdr: { ID: '1' }, name: 'a'.repeat(48) }, {}, undefined],
    ['49-character name', { hdr: { ID: '1' }, name: 'a'.repeat(49) }, {}, 'name-too-long'],
    ['48 four-byte characters (192 bytes)', { hdr: { ID: '1' }, name: '😀'.repeat(48) }, {}, undefined],
    ['8 cards', { hdr: { ID: '1' }, cards: Array.from({ length: 8 }, () => card()) }, {}, undefined],
    ['9 cards', { hdr: { ID: '1' }, cards: Array.from({ length: 9 }, () => card()) }, {}, 'too-many-cards'],
    ['a card on a device without reader', { hdr: { ID: '1' }, cards: [card()] }, { maxCardsPerUser: 0 }, 'card-not-supported'],
    ['33-byte card data', { hdr: { ID: '1' }, cards: [card(33)] }, {}, 'card-data-too-long'],
    ['10 fingers', { hdr: { ID: '1' }, fingers: Array.from({ length: 10 }, () => finger()) }, {}, undefined],
    ['11 fingers', { hdr: { ID: '1' }, fingers: Array.from({ length: 11 }, () => finger()) }, {}, 'too-many-fingers'],
    ['one template in a finger', { hdr: { ID: '1' }, fingers: [finger(0, 100, 1)] }, {}, 'finger-template-count'],
    ['three templates in a finger', { hdr: { ID: '1' }, fingers: [finger(0, 100, 3)] }, {}, 'finger-template-count'],
    ['384-byte template', { hdr: { ID: '1' }, fingers: [finger(0, 384)] }, {}, undefined],
    ['385-byte template', { hdr: { ID: '1' }, fingers: [finger(0, 385)] }, {}, 'finger-template-too-large'],
    ['ISO template on a SUPREMA device', { hdr: { ID: '1' }, fingers: [finger(1)] }, {}, 'finger-template-format'],
    ['ISO template on an ISO device', { hdr: { ID: '1' }, fingers: [finger(1)] }, { templateFormat: TemplateFormat.ISO }, undefined],
    ['untagged template', { hdr: { ID: '1' }, fingers: [finger(7)] }, {}, 'finger-template-format'],
    ['5 faces', { hdr: { ID: '1' }, faces: Array.from({ length: 5 }, () => face()) }, {}, undefined],
    ['6 faces', { hdr: { ID: '1' }, faces: Array.from({ length: 6 }, () => face()) }, {}, 'too-many-faces'],
    ['31 IR face templates', { hdr: { ID: '1' }, faces: [face(0, 31)] }, {}, 'face-template-count'],
    ['16385-byte face image', { hdr: { ID: '1' }, faces: [face(0, 1, 16385)] }, {}, 'face-image-too-large'],
    ['11 visual face templates', { hdr: { ID: '1' }, faces: [face(FaceFlag.BS2_FACE_FLAG_EX, 11)] }, { face: 'visual' }, 'face-template-count'],
    ['553-byte visual face template', { hdr: { ID: '1' }, faces: [face(FaceFlag.BS2_FACE_FLAG_EX, 1, 0, 553)] }, { face: 'visual' }, 'face-template-too-large'],
    // What the model cannot hold at all.
    ['a card on a card-less device', { hdr: { ID: '1' }, cards: [card()] }, { maxCardsPerUser: 0 }, 'card-not-supported'],
    ['a finger on a device without a sensor', { hdr: { ID: '1' }, fingers: [finger()] }, { maxFingerprintsPerUser: 0 }, 'finger-not-supported'],
    ['no finger on a device without a sensor', { hdr: { ID: '1' }, cards: [card()] }, { maxFingerprintsPerUser: 0 }, undefined],
    ['a face on a device without a camera', { hdr: { ID: '1' }, faces: [face()] }, { face: 'none', maxFacesPerUser: 0 }, 'face-not-supported'],
    ['an IR face on a visual device', { hdr: { ID: '1' }, faces: [face(0)] }, { face: 'visual' }, 'face-ir-on-visual'],
    ['a visual face on an IR device', { hdr: { ID: '1' }, faces: [face(FaceFlag.BS2_FACE_FLAG_EX)] }, { face: 'ir' }, 'face-visual-on-ir'],
    ['a visual face on a visual device', { hdr: { ID: '1' }, faces: [face(FaceFlag.BS2_FACE_FLAG_EX | FaceFlag.BS2_FACE_FLAG_TEMPLATE_ONLY)] }, { face: 'visual' }, undefined],
    ['3 visual faces where 2 are allowed', { hdr: { ID: '1' }, faces: Array.from({ length: 3 }, () => face(FaceFlag.BS2_FACE_FLAG_EX)) }, { face: 'visual', maxFacesPerUser: 2 }, 'too-many-faces'],
    ['a PIN on a device without PIN entry', { hdr: { ID: '1' }, PIN: Buffer.alloc(32, 1) }, { pin: false }, 'pin-not-supported'],
    ['no PIN on a device without PIN entry', { hdr: { ID: '1' }, name: 'x' }, { pin: false }, undefined],
    ['16 access groups', { hdr: { ID: '1' }, accessGroupIDs: Array.from({ length: 16 }, (_, i) => i + 1) }, {}, undefined],
    ['17 access groups', { hdr: { ID: '1' }, accessGroupIDs: Array.from({ length: 17 }, (_, i) => i + 1) }, {}, 'too-many-access-groups'],
    ['17 job codes', { hdr: { ID: '1' }, jobCodes: Array.from({ length: 17 }, (_, i) => ({ code: i, label: 'x' })) }, {}, 'too-many-job-codes'],
    ['49-byte job label', { hdr: { ID: '1' }, jobCodes: [{ code: 1, label: 'x'.repeat(49) }] }, {}, 'job-label-too-long'],
    ['32-byte PIN hash', { hdr: { ID: '1' }, PIN: Buffer.alloc(32, 1) }, {}, undefined],
    ['plaintext-looking PIN', { hdr: { ID: '1' }, PIN: Buffer.from('1234') }, {}, 'pin-not-hash'],
    ['16384-byte photo', { hdr: { ID: '1' }, photo: Buffer.alloc(16384) }, {}, undefined],
    ['16385-byte photo', { hdr: { ID: '1' }, photo: Buffer.alloc(16385) }, {}, 'photo-too-large'],
    ['no header', {}, {}, 'id-empty'],
  ];
  for (const [name, partial, override, rule] of cases) {
    test(`${name} → ${rule ?? 'ok'}`, () => {
      assert.equal(checkUser(UserInfo.fromPartial(partial), { ...rules, ...override })?.rule, rule);
    });
  }
});

test('templateFormatOf reads the simulator tag', () => {
  assert.equal(templateFormatOf(tpl(0)), TemplateFormat.SUPREMA);
  assert.equal(templateFormatOf(tpl(1)), TemplateFormat.ISO);
  assert.equal(templateFormatOf(tpl(2)), TemplateFormat.ANSI);
  assert.equal(templateFormatOf(tpl(3)), undefined);
  assert.equal(templateFormatOf(Buffer.alloc(0)), undefined);
});
