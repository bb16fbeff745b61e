/**
 * Per-device copies of users (issue 13 item 2) with the real parts: a mixed simulated fleet
 * whose devices hold different credentials, users that carry every kind. After the fan-out
 * each device holds exactly its copy, a deep check finds nothing, and a second one repairs
 * nothing; what was left off is said per device, and counted.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SyncHarness, makeUser } from '../../helpers/sync-harness.js';
import { simulatedTemplate, TemplateFormat } from '../../../simulator/index.js';
import { CardType, type User } from '../../../daemon/model/user.js';
import { deviceCopy } from '../../../daemon/model/device-copy.js';
import { deviceProjectionHash } from '../../../daemon/model/projection.js';
import { toUserInfo } from '../../../plugins/transports/gsdk/user-info.js';

const b64 = (bytes: Buffer) => bytes.toString('base64');
const PIN = Buffer.alloc(32, 5).toString('base64');

/** A user with 2 fingers, 2 IR faces and 1 visual face, 2 cards and a PIN hash of unknown origin. */
function carrier(id: string): User {
  const n = Number(id);
  return makeUser(id, {
    fingers: [0, 1].map((i) => ({ index: i, flag: 0, templates: [b64(simulatedTemplate(TemplateFormat.SUPREMA, n * 10 + i * 2)), b64(simulatedTemplate(TemplateFormat.SUPREMA, n * 10 + i * 2 + 1))] })),
    faces: [
      { index: 0, flag: 0, templates: [b64(Buffer.alloc(64, n))] },
      { index: 1, flag: 0x100, templates: [b64(Buffer.alloc(552, n))], irTemplates: [b64(Buffer.alloc(552, n + 1))] },
      { index: 2, flag: 0, templates: [b64(Buffer.alloc(64, n + 2))] },
    ],
    cards: [1, 2].map((c) => ({ type: CardType.CSN, data: b64(Buffer.alloc(32, n * 4 + c)) })),
    pinHash: PIN,
  });
}

const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

const FLEET = [
  // No fingerprint sensor (a BioStation 3 in this respect).
  { id: 3001, maxFingerprintsPerUser: 0 },
  // One face per user.
  { id: 3002, maxFacesPerUser: 1 },
  // No card reader, one fingerprint per user.
  { id: 3003, maxCardsPerUser: 0, maxFingerprintsPerUser: 1 },
  // Holds everything the users carry, within the published maxima.
  { id: 3004 },
];

class CopyHarness extends SyncHarness {
  /** Whether the device holds exactly these users, each equal to that device's copy of the stored user. */
  async holdsCopies(deviceId: number, expectedIds: readonly string[]): Promise<boolean> {
    const held = this.onDevice(deviceId);
    if (held.size !== expectedIds.length) return false;
    const { holds = {} } = await this.transport.deviceProfile(deviceId);
    const site = { pinHashScheme: await this.transport.pinHashScheme() };
    for (const id of expectedIds) {
      const stored = await this.store.getUser(id);
      const theirs = held.get(id);
      if (!stored || !theirs || deviceProjectionHash(deviceCopy(stored, holds, site).copy) !== deviceProjectionHash(theirs)) return false;
    }
    return true;
  }
}

describe('per-device copies', () => {
  test('a mixed fleet: each device holds only what it can; deep checks are clean and a second one repairs nothing', async () => {
    const h = await CopyHarness.start({ devices: FLEET });
    try {
      const users = ids(1, 12);
      await h.put(...users.map(carrier));
      for (const { id } of FLEET) await h.until(`device ${id} holds its copies`, () => h.holdsCopies(id, users));

      // What each device holds, read at the device.
      for (const user of h.onDevice(3001).values()) {
        assert.equal(user.fingers.length, 0, 'no fingerprint on the sensorless device');
        assert.equal(user.cards.length, 2);
        assert.equal(user.pinHash, PIN);
      }
      for (const user of h.onDevice(3002).values()) {
        assert.equal(user.faces.length, 1, 'one face at most');
        assert.equal(user.fingers.length, 2);
      }
      for (const user of h.onDevice(3003).values()) {
        assert.equal(user.cards.length, 0, 'no card on the device without a reader');
        assert.equal(user.fingers.length, 1);
      }
      for (const user of h.onDevice(3004).values()) {
        assert.equal(user.fingers.length, 2);
        assert.equal(user.cards.length, 2);
        assert.ok(user.faces.length >= 2, 'the faces of its kind');
      }
      // Nothing was refused: copies fit, so no device remembers a refused user.
      for (const { id } of FLEET) assert.deepEqual(h.engine.device(id)?.record.rejectedUsers ?? {}, {}, `device ${id} refused nothing`);

      const first = await h.engine.verify({ deep: true, repair: true });
      for (const check of first) {
        assert.equal(check.error, undefined, `device ${check.deviceId}: ${check.error}`);
        assert.equal(check.differences, 0, `device ${check.deviceId}: deep check after the fan-out`);
        assert.equal(check.inSync, true);
      }
      const second = await h.engine.verify({ deep: true, repair: true });
      for (const check of second) {
        assert.deepEqual([check.differences, check.enrolled, check.removed], [0, 0, 0], `device ${check.deviceId}: a second deep check repairs nothing`);
      }

      // Said per device, with reasons.
      const byDevice = new Map(second.map((c) => [c.deviceId, c.leftOff]));
      assert.deepEqual(
        byDevice.get(3001)!.filter((t) => t.what === 'fingerprint'),
        [{ what: 'fingerprint', count: 24, users: 12, reason: 'no-fingerprint-sensor' }],
      );
      assert.deepEqual(byDevice.get(3003)!.find((t) => t.what === 'card'), { what: 'card', count: 24, users: 12, reason: 'no-card-reader' });
      assert.deepEqual(byDevice.get(3003)!.find((t) => t.what === 'fingerprint'), { what: 'fingerprint', count: 12, users: 12, reason: 'over-device-maximum' });
      assert.ok(byDevice.get(3002)!.some((t) => t.what === 'face' && t.reason === 'over-device-maximum'), JSON.stringify(byDevice.get(3002)));
      // Every device holds one kind of face: the other kind is left off everywhere.
      for (const { id } of FLEET) {
        assert.ok(byDevice.get(id)!.some((t) => t.what === 'face' && (t.reason === 'visual-face-on-ir-device' || t.reason === 'ir-face-on-visual-device')), `device ${id}: ${JSON.stringify(byDevice.get(id))}`);
      }
      const plans = await h.engine.plan({ deviceId: 3001 });
      assert.deepEqual(plans[0]!.leftOff, byDevice.get(3001));
      assert.deepEqual([plans[0]!.enroll, plans[0]!.remove], [[], []]);

      const metrics = await h.metrics.registry.metrics();
      assert.match(metrics, /rollcall_device_left_off_credentials\{device="3001",credential="fingerprint",reason="no-fingerprint-sensor"\} 24/);
      assert.match(metrics, /rollcall_device_left_off_credentials\{device="3003",credential="card",reason="no-card-reader"\} 24/);
    } finally {
      await h.stop();
    }
  });

  test('devices of one shape share calls; devices of another shape get their own', async () => {
    const devices = [{ id: 4001, maxFingerprintsPerUser: 0 }, { id: 4002, maxFingerprintsPerUser: 0 }, { id: 4003 }, { id: 4004 }];
    const h = await CopyHarness.start({ devices });
    try {
      await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
      const calls = async () => (await h.metrics.registry.getSingleMetric('rollcall_gateway_calls_total')!.get()).values.filter((v) => v.labels.method === 'EnrollMulti').reduce((a, v) => a + v.value, 0);
      const before = await calls();
      const users = ids(100, 20);
      await h.put(...users.map(carrier));
      await h.until('every device acknowledged', () => h.engine.status().every((d) => d.cursor === h.store.currentSeq()));
      for (const { id } of devices) assert.ok(await h.holdsCopies(id, users), `device ${id} holds its copies`);
      const multi = (await calls()) - before;
      // Two shapes, one commit: two calls (a cut at a soft deadline may split one; never one per device and batch).
      assert.ok(multi >= 2 && multi <= 4, `EnrollMulti calls: ${multi}`);
    } finally {
      await h.stop();
    }
  });

  test('device-wins: an edit at a device that never had the fingerprints merges without losing them', async () => {
    const h = await CopyHarness.start({ devices: [{ id: 7001, maxFingerprintsPerUser: 0 }, { id: 7002 }], mode: 'all-devices-with-device-updates', sync: { mergePolicy: 'device-wins' } });
    try {
      const user = carrier('9');
      await h.put(user);
      for (const id of [7001, 7002]) await h.until(`device ${id} holds its copy`, () => h.holdsCopies(id, ['9']));
      // At the sensorless door the name is changed; the device user has no fingerprints (it never had any).
      const atDoor = { ...h.onDevice(7001).get('9')!, name: 'Changed at the door' };
      assert.equal(atDoor.fingers.length, 0);
      h.sim.device(7001).updateAtDevice(toUserInfo(atDoor));
      await h.until('the edit merged', async () => (await h.store.getUser('9'))?.name === 'Changed at the door');
      const merged = (await h.store.getUser('9'))!;
      assert.deepEqual(merged.fingers, user.fingers, 'the fingerprints the door never held are kept');
      assert.deepEqual(merged.faces, user.faces, 'and so are the faces of the other kind');
      assert.equal(merged.pinHash, PIN);
      for (const id of [7001, 7002]) await h.until(`device ${id} holds the merged copy`, () => h.holdsCopies(id, ['9']));
      assert.equal(h.onDevice(7002).get('9')!.fingers.length, 2, 'the device with a sensor still holds them');
    } finally {
      await h.stop();
    }
  });

  test('a PIN hash of another gateway is left off, and deep checks do not repair it forever', async () => {
    const h = await CopyHarness.start({ devices: [{ id: 5001 }] });
    try {
      const scheme = await h.transport.pinHashScheme();
      const foreign = makeUser('77', { pinHash: PIN, pinHashScheme: `${scheme === 'feedfacefeedface' ? 'beef' : 'feed'}facefeedface` });
      const own = makeUser('78', { pinHash: PIN, pinHashScheme: scheme });
      await h.put(foreign, own);
      await h.until('both users on the device', () => h.onDevice(5001).size === 2);
      assert.equal(h.onDevice(5001).get('77')!.pinHash, undefined, 'the foreign hash never reaches the device');
      assert.equal(h.onDevice(5001).get('78')!.pinHash, PIN);
      for (let round = 0; round < 2; round++) {
        const [check] = await h.engine.verify({ deviceId: 5001, deep: true, repair: true });
        assert.deepEqual([check!.differences, check!.enrolled, check!.inSync], [0, 0, true], `deep check ${round + 1}`);
        assert.deepEqual(check!.leftOff, [{ what: 'pin', count: 1, users: 1, reason: 'pin-hash-foreign' }]);
      }
    } finally {
      await h.stop();
    }
  });
});
