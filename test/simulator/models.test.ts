import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEVICE_MODELS, deviceModel } from '../../simulator/device-models.js';
import { checkFleet, resolveDeviceSpec } from '../../simulator/device-spec.js';
import { configSchema, devicesFromConfig } from '../../simulator/schema.js';
import { FORMAT, code, csn, deviceErrorsOf, failure, finger, unary, user } from './gsdk-client.js';
import { running, type Running } from './harness.js';

/** Device profiles: what each model reports, serves and refuses (spec/device-models.md). */

const EX = 0x100; // FaceFlag BS2_FACE_FLAG_EX: visual face data
const PIN_HASH = Buffer.alloc(32, 3);
const irFace = { flag: 0, templates: [Buffer.alloc(16, 1)], imageData: Buffer.alloc(8, 2) };
const visualFace = { flag: EX, templates: [Buffer.alloc(16, 1)], irTemplates: [Buffer.alloc(16, 2)] };

const FLEET = [
  { id: 35, type: 35 }, // BIOSTATION_3
  { id: 8, type: 8 }, // BIOSTATION_2
  { id: 10, type: 10 }, // FACESTATION_2
  { id: 29, type: 29 }, // FACESTATION_F2_FP
  { id: 30, type: 30 }, // FACESTATION_F2
  { id: 42, type: 42 }, // BIOENTRY_W3
  { id: 19, type: 19 }, // XPASS2
  { id: 31, type: 31 }, // XSTATION_2_QR
  { id: 1, type: 35, maxFingerprintsPerUser: 4, face: 'ir' as const, pin: false }, // BIOSTATION_3 with overrides
];

describe('the model table', () => {
  test('covers the 19 types of device-models.md §1 with consistent rows', () => {
    const names = [
      'BIOSTATION_3', 'BIOSTATION_2', 'BIOSTATION_2A', 'BIOSTATION_A2', 'BIOSTATION_L2', 'BIOENTRY_W3', 'BIOENTRY_W2', 'BIOENTRY_P2',
      'BIOENTRY_R2', 'BIOLITE_N2', 'FACESTATION_2', 'FACESTATION_F2', 'FACESTATION_F2_FP', 'FACELITE', 'XSTATION_2', 'XSTATION_2_QR',
      'XSTATION_2_FP', 'XPASS2', 'XPASS2_KEYPAD',
    ];
    const values = [35, 8, 38, 9, 12, 42, 13, 17, 21, 18, 10, 30, 29, 25, 32, 31, 34, 19, 26];
    assert.equal(DEVICE_MODELS.size, names.length);
    for (const [i, value] of values.entries()) {
      const m = DEVICE_MODELS.get(value);
      assert.ok(m, `${names[i]} (${value}) has a row`);
      assert.equal(m.fingerprint, m.maxFingerprintsPerUser > 0, `${names[i]} fingerprint vs its maximum`);
      assert.equal(m.face === 'none', m.maxFacesPerUser === 0, `${names[i]} face vs its maximum`);
      assert.equal(m.templateFormats.length > 0, m.fingerprint, `${names[i]} template formats only with a sensor`);
    }
  });

  test('the defaults the issue names', () => {
    const bs3 = deviceModel(35);
    assert.deepEqual([bs3.fingerprint, bs3.face, bs3.qr, bs3.pin], [false, 'visual', true, true]);
    const fs2 = deviceModel(10);
    assert.deepEqual([fs2.fingerprint, fs2.face, fs2.maxUsers], [false, 'ir', 30_000]);
    const fsf2fp = deviceModel(29);
    assert.deepEqual([fsf2fp.fingerprint, fsf2fp.face, fsf2fp.maxFacesPerUser], [true, 'visual', 2]);
    const bs2 = deviceModel(8);
    assert.deepEqual([bs2.fingerprint, bs2.face], [true, 'none']);
    const w3 = deviceModel(42);
    assert.deepEqual([w3.fingerprint, w3.face], [false, 'visual']);
    assert.ok(w3.guesses.includes('fingerprint'), 'the BioEntry W3 sensor is marked a guess');
  });

  test('a type without a row gets a profile marked as guessed', () => {
    const m = deviceModel(14); // CORESTATION_40
    assert.ok(m.guesses.includes('face') && m.guesses.includes('fingerprint'));
  });
});

describe('device specs', () => {
  test('take the model by default; explicit keys override', () => {
    const bs3 = resolveDeviceSpec({ id: 1, type: 35 }, 0);
    assert.deepEqual([bs3.maxFingerprintsPerUser, bs3.maxFacesPerUser, bs3.face, bs3.pin], [0, 2, 'visual', true]);
    const custom = resolveDeviceSpec({ id: 1, type: 35, maxFingerprintsPerUser: 3, face: 'ir', pin: false }, 0);
    assert.deepEqual([custom.maxFingerprintsPerUser, custom.maxFacesPerUser, custom.face, custom.pin], [3, 2, 'ir', false]);
    const camera = resolveDeviceSpec({ id: 1, type: 19, face: 'visual' }, 0);
    assert.deepEqual([camera.face, camera.maxFacesPerUser], ['visual', 5], 'a camera given to a model without one holds 5');
    const off = resolveDeviceSpec({ id: 1, type: 29, maxFacesPerUser: 0 }, 0);
    assert.equal(off.face, 'none');
  });

  test('faces on a model without a camera need face: ir|visual', () => {
    assert.match(checkFleet([{ id: 1, type: 19, maxFacesPerUser: 3 }]) ?? '', /needs face: ir or visual/);
    assert.equal(checkFleet([{ id: 1, type: 19, maxFacesPerUser: 3, face: 'ir' }]), undefined);
    const parsed = configSchema.safeParse({ devices: [{ id: 1, face: 'none', maxFacesPerUser: 2 }] });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['devices', 0, 'maxFacesPerUser']);
  });

  test('config-file keys face and pin reach the spec', () => {
    const config = configSchema.parse({ devices: [{ id: 1, type: 'BIOSTATION_3', face: 'ir', pin: false }] });
    assert.deepEqual(devicesFromConfig(config), [{ id: 1, type: 35, face: 'ir', pin: false }]);
  });
});

describe('capabilities, Finger.GetConfig and refusals per model', () => {
  let r: Running;
  before(async () => {
    r = await running(FLEET);
  });
  after(() => r.close());

  const capabilities = async (id: number) => ({
    info: (await unary(r.c.device, 'GetCapabilityInfo', { deviceID: id })).capInfo,
    cap: (await unary(r.c.device, 'GetCapability', { deviceID: id })).deviceCapability,
  });

  test('GetCapabilityInfo and GetCapability report the model and agree with each other', async () => {
    const expected: Record<number, { finger: boolean; face: boolean; visual: boolean; pin: boolean; qr: boolean; faces: number; users: number }> = {
      35: { finger: false, face: true, visual: true, pin: true, qr: true, faces: 2, users: 500_000 },
      8: { finger: true, face: false, visual: false, pin: true, qr: false, faces: 0, users: 500_000 },
      10: { finger: false, face: true, visual: false, pin: true, qr: false, faces: 5, users: 30_000 },
      29: { finger: true, face: true, visual: true, pin: true, qr: false, faces: 2, users: 500_000 },
      30: { finger: false, face: true, visual: true, pin: true, qr: false, faces: 2, users: 500_000 },
      42: { finger: false, face: true, visual: true, pin: false, qr: false, faces: 2, users: 500_000 },
      19: { finger: false, face: false, visual: false, pin: false, qr: false, faces: 0, users: 500_000 },
      31: { finger: false, face: false, visual: false, pin: true, qr: true, faces: 0, users: 500_000 },
      1: { finger: true, face: true, visual: false, pin: false, qr: true, faces: 2, users: 500_000 },
    };
    for (const spec of FLEET) {
      const want = expected[spec.id]!;
      const { info, cap } = await capabilities(spec.id);
      const at = `device ${spec.id}`;
      assert.equal(info.type, spec.type, at);
      assert.equal(info.maxNumOfUser, want.users, at);
      assert.equal(cap.maxUsers, want.users, at);
      assert.equal(info.fingerSupported, want.finger, at);
      assert.equal(info.faceSupported, want.face, at);
      assert.equal(info.PINSupported, want.pin, at);
      assert.equal(info.QRSupported, want.qr, at);
      assert.equal(info.cardSupported, true, at);
      assert.equal(cap.faceExSupported, want.visual, at);
      assert.equal(cap.cameraSupported, want.face, at);
      assert.equal(cap.maxFacesPerUser, want.faces, at);
      assert.equal(cap.maxCardsPerUser, 8, at);
      assert.equal(cap.fingerprintInputSupported, want.finger, at);
      assert.equal(cap.faceInputSupported, want.face, at);
      assert.equal(cap.PINInputSupported, want.pin, at);
      assert.equal(cap.cardInputSupported, true, at);
      // The fields agree: supported = maximum above 0.
      assert.equal(info.fingerSupported, cap.maxFingerprintsPerUser > 0 && cap.maxFingerprints > 0, at);
      assert.equal(info.faceSupported, cap.maxFaces > 0, at);
      assert.equal(info.cardSupported, cap.maxCards > 0, at);
    }
    assert.equal((await capabilities(1)).cap.maxFingerprintsPerUser, 4, 'the override');
  });

  test('Finger.GetConfig: the template format on a model with a sensor, UNIMPLEMENTED without', async () => {
    const fp = await unary(r.c.finger, 'GetConfig', { deviceID: 29 });
    assert.equal(fp.config.templateFormat, FORMAT.SUPREMA);
    r.sim.device(8).setCapacity({ templateFormat: FORMAT.ISO });
    assert.equal((await unary(r.c.finger, 'GetConfig', { deviceID: 8 })).config.templateFormat, FORMAT.ISO);
    r.sim.device(8).setCapacity({ templateFormat: FORMAT.SUPREMA });
    for (const id of [35, 10, 30, 42, 19]) {
      const error = await failure(unary(r.c.finger, 'GetConfig', { deviceID: id }));
      assert.equal(error.code, code.UNIMPLEMENTED, `device ${id}`);
      assert.match(error.details, /no fingerprint sensor/);
    }
    assert.equal((await failure(unary(r.c.finger, 'GetConfig', { deviceID: 999 }))).code, code.NOT_FOUND);
  });

  test('Face.GetConfig: answered by a model with a face camera, UNIMPLEMENTED without', async () => {
    for (const id of [35, 10, 29, 30, 42, 1]) {
      const { config } = await unary(r.c.face, 'GetConfig', { deviceID: id });
      assert.equal(config.enrollTimeout, 60, `device ${id}`);
      assert.equal(config.unableToSaveImageOfVisualFace, false);
    }
    for (const id of [8, 19, 31]) {
      const error = await failure(unary(r.c.face, 'GetConfig', { deviceID: id }));
      assert.equal(error.code, code.UNIMPLEMENTED, `device ${id}`);
      assert.match(error.details, /no face camera/);
    }
  });

  const refused = async (deviceID: number, u: Record<string, unknown>, rule: string): Promise<void> => {
    const error = await failure(unary(r.c.user, 'Enroll', { deviceID, users: [u], overwrite: true }));
    assert.equal(error.code, code.INVALID_ARGUMENT, `${rule} on ${deviceID}`);
    assert.match(error.details, new RegExp(`\\[${rule}\\]`));
    assert.equal(r.sim.device(deviceID).user(String(u['hdr'] && (u['hdr'] as { ID: string }).ID)), undefined, 'nothing stored');
  };

  test('Enroll refuses what the model cannot hold, naming the rule', async () => {
    await refused(35, user('501', { fingers: [finger(FORMAT.SUPREMA)] }), 'finger-not-supported');
    await refused(35, user('502', { faces: [irFace] }), 'face-ir-on-visual');
    await refused(10, user('503', { faces: [visualFace] }), 'face-visual-on-ir');
    await refused(8, user('504', { faces: [irFace] }), 'face-not-supported');
    await refused(29, user('505', { faces: [visualFace, visualFace, visualFace] }), 'too-many-faces');
    await refused(42, user('506', { PIN: PIN_HASH }), 'pin-not-supported');
    await refused(8, user('507', { fingers: [finger(FORMAT.ISO)] }), 'finger-template-format');
    r.sim.device(19).setCapacity({ maxCardsPerUser: 0 });
    await refused(19, user('508', { cards: [csn(1)] }), 'card-not-supported');
    r.sim.device(19).setCapacity({ maxCardsPerUser: 8 });
  });

  test('what the model holds is taken', async () => {
    const take = async (deviceID: number, u: Record<string, unknown>) => unary(r.c.user, 'Enroll', { deviceID, users: [u], overwrite: true });
    await take(35, user('601', { cards: [csn(1)], faces: [visualFace, visualFace], PIN: PIN_HASH }));
    await take(10, user('602', { cards: [csn(2)], faces: Array.from({ length: 5 }, () => irFace), PIN: PIN_HASH }));
    await take(29, user('603', { fingers: [finger(FORMAT.SUPREMA)], faces: [visualFace] }));
    await take(19, user('604', { cards: [csn(3)] }));
    await take(1, user('605', { fingers: [finger(FORMAT.SUPREMA)], faces: [irFace] }));
    assert.equal(r.sim.device(35).user('601')?.faces.length, 2);
    assert.equal(r.sim.device(10).user('602')?.faces.length, 5);
  });

  test('EnrollMulti and UpdateMulti: the devices that cannot hold it fail with the rule, the others store it', async () => {
    const u = user('701', { cards: [csn(7)], fingers: [finger(FORMAT.SUPREMA)] });
    const error = await failure(unary(r.c.user, 'EnrollMulti', { deviceIDs: [29, 8, 35, 10], users: [u], overwrite: true }));
    const errors = deviceErrorsOf(error).sort((a, b) => a.deviceID - b.deviceID);
    assert.deepEqual(errors.map((e) => [e.deviceID, e.code]), [[10, code.INVALID_ARGUMENT], [35, code.INVALID_ARGUMENT]]);
    for (const e of errors) assert.match(e.msg, /\[finger-not-supported\]/);
    assert.ok(r.sim.device(29).user('701'));
    assert.ok(r.sim.device(8).user('701'));

    await unary(r.c.user, 'Enroll', { deviceID: 42, users: [user('701', { cards: [csn(7)] })], overwrite: true });
    const withPin = user('701', { cards: [csn(7)], PIN: PIN_HASH });
    const update = await failure(unary(r.c.user, 'UpdateMulti', { deviceIDs: [29, 42], users: [withPin] }));
    assert.equal(update.code, code.INVALID_ARGUMENT);
    const [only, ...rest] = deviceErrorsOf(update);
    assert.deepEqual([only?.deviceID, rest.length], [42, 0]);
    assert.match(only?.msg ?? '', /\[pin-not-supported\]/);
    assert.equal(r.sim.device(42).user('701')?.PIN.length, 0, 'the refused update changed nothing');
    assert.equal(r.sim.device(29).user('701')?.PIN.length, 32);
  });

  test('SetFace refuses a face of the other kind', async () => {
    await unary(r.c.user, 'Enroll', { deviceID: 30, users: [user('801', { cards: [csn(8)] })], overwrite: true });
    const error = await failure(unary(r.c.user, 'SetFace', { deviceID: 30, userFaces: [{ userID: '801', faces: [irFace] }] }));
    assert.equal(error.code, code.INVALID_ARGUMENT);
    assert.match(error.details, /\[face-ir-on-visual\]/);
  });
});
