/**
 * Issue 13's first "done when", on the simulator's model profiles (simulator/device-models.ts)
 * rather than hand-set limits: a BioStation 3, FaceStation F2, BioStation 2, FaceStation 2 and
 * BioEntry W3, users carrying every credential kind. After the fan-out each device holds only
 * what its model can (the simulator would refuse anything else), a deep check is clean and a
 * second one repairs nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncHarness, makeUser } from '../../helpers/sync-harness.js';
import { simulatedTemplate, TemplateFormat } from '../../../simulator/index.js';
import { CardType, type User } from '../../../daemon/model/user.js';
import { Type as DeviceType } from '../../../proto/gen/gsdk/device.js';

const b64 = (bytes: Buffer) => bytes.toString('base64');
const PIN = Buffer.alloc(32, 5).toString('base64');
const EX = 0x100;

/** 2 fingers, 2 IR faces and 2 visual faces, 2 cards and a PIN hash. */
function carrier(id: string): User {
  const n = Number(id);
  return makeUser(id, {
    fingers: [0, 1].map((i) => ({ index: i, flag: 0, templates: [b64(simulatedTemplate(TemplateFormat.SUPREMA, n * 10 + i * 2)), b64(simulatedTemplate(TemplateFormat.SUPREMA, n * 10 + i * 2 + 1))] })),
    faces: [
      { index: 0, flag: 0, templates: [b64(Buffer.alloc(64, n))] },
      { index: 1, flag: EX, templates: [b64(Buffer.alloc(552, n))], irTemplates: [b64(Buffer.alloc(552, n + 1))] },
      { index: 2, flag: 0, templates: [b64(Buffer.alloc(64, n + 2))] },
      { index: 3, flag: EX, templates: [b64(Buffer.alloc(552, n + 3))] },
    ],
    cards: [1, 2].map((c) => ({ type: CardType.CSN, data: b64(Buffer.alloc(32, n * 4 + c)) })),
    pinHash: PIN,
  });
}

const FLEET = [
  { id: 35, type: DeviceType.BIOSTATION_3 },
  { id: 30, type: DeviceType.FACESTATION_F2 },
  { id: 8, type: DeviceType.BIOSTATION_2 },
  { id: 10, type: DeviceType.FACESTATION_2 },
  { id: 42, type: DeviceType.BIOENTRY_W3 },
];

/** What each model holds of a carrier: fingers, IR faces, visual faces, cards, PIN. */
const EXPECTED: Record<number, [number, number, number, number, boolean]> = {
  35: [0, 0, 2, 2, true],
  30: [0, 0, 2, 2, true],
  8: [2, 0, 0, 2, true],
  10: [0, 2, 0, 2, true],
  42: [0, 0, 2, 2, false],
};

test('a fleet of real model profiles: each device holds what its model can; deep checks are clean twice', async () => {
  const h = await SyncHarness.start({ devices: FLEET });
  try {
    const users = Array.from({ length: 6 }, (_, i) => String(i + 1));
    await h.put(...users.map(carrier));
    for (const { id } of FLEET) await h.until(`device ${id} holds the users`, () => h.onDevice(id).size === users.length);

    for (const { id } of FLEET) {
      const [fingers, irFaces, visualFaces, cards, pin] = EXPECTED[id]!;
      for (const user of h.onDevice(id).values()) {
        const at = `device ${id} user ${user.id}`;
        assert.equal(user.fingers.length, fingers, `${at}: fingers`);
        assert.equal(user.faces.filter((f) => (f.flag & EX) === 0).length, irFaces, `${at}: IR faces`);
        assert.equal(user.faces.filter((f) => (f.flag & EX) !== 0).length, visualFaces, `${at}: visual faces`);
        assert.equal(user.cards.length, cards, `${at}: cards`);
        assert.equal(user.pinHash !== undefined, pin, `${at}: PIN`);
      }
      assert.deepEqual(h.engine.device(id)?.record.rejectedUsers ?? {}, {}, `device ${id} refused nothing`);
    }

    const first = await h.engine.verify({ deep: true, repair: true });
    for (const check of first) {
      assert.equal(check.error, undefined, `device ${check.deviceId}: ${check.error}`);
      assert.equal(check.differences, 0, `device ${check.deviceId}: deep check after the fan-out`);
    }
    const second = await h.engine.verify({ deep: true, repair: true });
    for (const check of second) {
      assert.deepEqual([check.differences, check.enrolled, check.removed], [0, 0, 0], `device ${check.deviceId}: a second deep check repairs nothing`);
    }
  } finally {
    await h.stop();
  }
});
