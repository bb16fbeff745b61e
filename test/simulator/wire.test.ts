import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { code, csn, failure, unary, user, wireFields } from './gsdk-client.js';
import { running, type Running } from './harness.js';

/**
 * Field numbers checked on raw bytes against spec/gsdk-wire.md, without any .proto file:
 * requests are hand-encoded, responses hand-decoded. This is what a client generated from
 * Suprema's official V1.8 protos sends and expects.
 */

function varintBytes(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const tagged = (no: number, wire: number): number[] => varintBytes(no * 8 + wire);
const uint = (no: number, value: number): Buffer => Buffer.from([...tagged(no, 0), ...varintBytes(value)]);
const bytes = (no: number, value: Buffer | string): Buffer => {
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([Buffer.from([...tagged(no, 2), ...varintBytes(b.length)]), b]);
};

function rawCall(client: grpc.Client, path: string, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      (error, response) => (error ? reject(error) : resolve(response as Buffer)),
    );
  });
}

const field = (buf: Buffer, no: number) => wireFields(buf).filter((f) => f.no === no);
const one = (buf: Buffer, no: number) => {
  const found = field(buf, no);
  assert.equal(found.length, 1, `field ${no} once`);
  return found[0]!;
};

describe('wire numbering (V1.8) on raw bytes', () => {
  let r: Running;
  let raw: grpc.Client;
  before(async () => {
    r = await running([{ id: 1001, type: 35, alphanumericID: true }]);
    raw = new grpc.Client(r.sim.address, grpc.credentials.createInsecure());
  });
  after(async () => {
    raw.close();
    await r.close();
  });

  test('User.Enroll / GetList: UserInfo 1..10 in, UserHdr ID=1 userFlag=2 numOfCard=3 numOfFinger=4 numOfFace=5 authGroupID=6', async () => {
    const hdr = Buffer.concat([bytes(1, 'ana'), uint(2, 0x80), uint(6, 9)]);
    const card = Buffer.concat([uint(1, 1), uint(2, 32), bytes(3, Buffer.alloc(32, 1))]);
    // BIOSTATION_3 is a visual-face device: the face carries BS2_FACE_FLAG_EX (0x100) at field 2.
    const face = Buffer.concat([uint(2, 0x100), bytes(3, Buffer.alloc(8, 1)), bytes(4, Buffer.from('IMG')), bytes(5, Buffer.from('IR')), bytes(6, Buffer.from('IRIMG'))]);
    const info = Buffer.concat([bytes(1, hdr), bytes(3, 'Ana'), bytes(4, card), bytes(4, card), bytes(6, face), bytes(9, Buffer.alloc(32, 2)), bytes(10, Buffer.from([1, 2]))]);
    await rawCall(raw, '/gsdk.user.User/Enroll', Buffer.concat([uint(1, 1001), bytes(2, info), uint(3, 1)]));

    const list = await rawCall(raw, '/gsdk.user.User/GetList', uint(1, 1001));
    const h = one(list, 1).bytes!;
    assert.equal(one(h, 1).bytes?.toString(), 'ana');
    assert.equal(one(h, 2).varint, 0x80, 'userFlag DISABLED at 2');
    assert.equal(one(h, 3).varint, 2, 'numOfCard at 3');
    assert.equal(field(h, 4).length, 0, 'numOfFinger 0 is not written');
    assert.equal(one(h, 5).varint, 1, 'numOfFace at 5');
    assert.equal(one(h, 6).varint, 9, 'authGroupID at 6');

    const got = await rawCall(raw, '/gsdk.user.User/Get', Buffer.concat([uint(1, 1001), bytes(2, 'ana')]));
    const u = one(got, 1).bytes!;
    assert.equal(one(u, 3).bytes?.toString(), 'Ana');
    assert.equal(field(u, 4).length, 2, 'cards at 4');
    const f = one(u, 6).bytes!;
    assert.equal(one(f, 4).bytes?.toString(), 'IMG', 'FaceData.imageData at 4');
    assert.equal(one(f, 5).bytes?.toString(), 'IR', 'FaceData.irTemplates at 5');
    assert.equal(one(f, 6).bytes?.toString(), 'IRIMG', 'FaceData.irImageData at 6');
    assert.equal(one(u, 9).bytes?.length, 32, 'PIN at 9');
    assert.deepEqual([...(one(u, 10).bytes ?? [])], [1, 2], 'photo at 10');
  });

  test('User.Update reads updateMask at UserHdr field 7', async () => {
    const hdr = Buffer.concat([bytes(1, 'ana'), uint(7, 0x20)]); // keep CARD
    await rawCall(raw, '/gsdk.user.User/Update', Buffer.concat([uint(1, 1001), bytes(2, Buffer.concat([bytes(1, hdr), bytes(3, 'Renamed')]))]));
    assert.equal(r.sim.device(1001).user('ana')?.name, 'Renamed');
    assert.equal(r.sim.device(1001).user('ana')?.cards.length, 2);
  });

  test('GetPINHash: PIN=1 string in, hashVal=1 bytes (32) out', async () => {
    const response = await rawCall(raw, '/gsdk.user.User/GetPINHash', bytes(1, '4321'));
    assert.equal(one(response, 1).bytes?.length, 32);
  });

  test('Device.GetCapabilityInfo: type=1, maxNumOfUser=2, alphanumericIDSupported=12 (V1.8 packing)', async () => {
    const response = await rawCall(raw, '/gsdk.device.Device/GetCapabilityInfo', uint(1, 1001));
    const cap = one(response, 1).bytes!;
    assert.equal(one(cap, 1).varint, 35);
    assert.equal(one(cap, 2).varint, 500_000);
    assert.equal(one(cap, 12).varint, 1);
    assert.equal(field(cap, 13).length, 0, 'field 13 is WLANSupported (false), not the V1.0 alphanumeric flag');
  });

  test('Device.GetInfo: FactoryInfo numbering starts at 2', async () => {
    const info = one(await rawCall(raw, '/gsdk.device.Device/GetInfo', uint(1, 1001)), 1).bytes!;
    assert.equal(field(info, 1).length, 0);
    assert.match(one(info, 2).bytes?.toString() ?? '', /^02:52:00:00:03:e9$/, 'MACAddr at 2');
    assert.match(one(info, 3).bytes?.toString() ?? '', /BIOSTATION_3/, 'modelName at 3');
  });

  test('Device.GetCapability: maxUsers=1, maxEventLogs=2, per-user maxima 13..15, updateUserSupported=101', async () => {
    const cap = one(await rawCall(raw, '/gsdk.device.Device/GetCapability', uint(1, 1001)), 1).bytes!;
    assert.equal(one(cap, 1).varint, 500_000);
    assert.equal(one(cap, 2).varint, 100_000);
    assert.equal(one(cap, 13).varint, 8);
    assert.equal(one(cap, 14).varint, 2, 'BIOSTATION_3: 2 visual faces per user');
    assert.equal(field(cap, 15).length, 0, 'BIOSTATION_3 has no fingerprint sensor: 0 is not written');
    assert.equal(one(cap, 26).varint, 1, 'faceExSupported at 26');
    assert.equal(one(cap, 101).varint, 1);
  });

  test('System.GetConfig: SystemConfig.useAlphanumericID at 7', async () => {
    const config = one(await rawCall(raw, '/gsdk.system.System/GetConfig', uint(1, 1001)), 1).bytes!;
    assert.equal(one(config, 7).varint, 1);
  });

  test('Event.GetLog: EventLog ID=1 deviceID=3 userID=4 eventCode=6 subCode=7 changedOnDevice=10', async () => {
    const response = await rawCall(raw, '/gsdk.event.Event/GetLog', Buffer.concat([uint(1, 1001), uint(2, 1), uint(3, 1)]));
    const event = one(response, 1).bytes!;
    assert.equal(one(event, 1).varint, 1);
    assert.ok((one(event, 2).varint ?? 0) > 1_600_000_000);
    assert.equal(one(event, 3).varint, 1001);
    assert.equal(one(event, 4).bytes?.toString(), 'ana');
    assert.equal(one(event, 6).varint, 0x2000);
    assert.equal(one(event, 7).varint, 1);
    assert.equal(field(event, 10).length, 0, 'changedOnDevice false for a gateway enroll');
  });

  test('the pre-V1.5 path /user.User/... is not served', async () => {
    const error = await failure(rawCall(raw, '/user.User/GetList', uint(1, 1001)));
    assert.equal(error.code, code.UNIMPLEMENTED);
  });
});

describe('gsdk.device.Device and gsdk.system.System', () => {
  let r: Running;
  before(async () => {
    r = await running([
      { id: 1, type: 0x13, maxUsers: 1234, maxFingerprintsPerUser: 0, maxFacesPerUser: 0, alphanumericIDSupported: false },
    ]);
  });
  after(() => r.close());

  test('capabilities follow the device spec', async () => {
    const { capInfo } = await unary(r.c.device, 'GetCapabilityInfo', { deviceID: 1 });
    assert.equal(capInfo.type, 0x13);
    assert.equal(capInfo.maxNumOfUser, 1234);
    assert.equal(capInfo.cardSupported, true);
    assert.equal(capInfo.fingerSupported, false);
    assert.equal(capInfo.faceSupported, false);
    assert.equal(capInfo.alphanumericIDSupported, false);
    const { deviceCapability } = await unary(r.c.device, 'GetCapability', { deviceID: 1 });
    assert.equal(deviceCapability.maxUsers, 1234);
    assert.equal(deviceCapability.maxFingerprintsPerUser, 0);
    assert.equal(deviceCapability.fingerprintInputSupported, false);
    const { info } = await unary(r.c.device, 'GetInfo', { deviceID: 1 });
    assert.match(info.modelName, /XPASS2/);
    assert.match(info.modelName, /simulator/);
  });

  test('a device without a fingerprint sensor refuses fingers', async () => {
    const error = await failure(
      unary(r.c.user, 'Enroll', { deviceID: 1, users: [user('1', { cards: [csn(1)], fingers: [{ templates: [Buffer.from([0]), Buffer.from([0])] }] })], overwrite: false }),
    );
    assert.equal(error.code, code.INVALID_ARGUMENT);
    assert.match(error.details, /finger-not-supported/);
  });

  test('GetConfig / SetConfig', async () => {
    assert.deepEqual(await unary(r.c.system, 'GetConfig', { deviceID: 1 }), { config: { useAlphanumericID: false } });
    await unary(r.c.system, 'SetConfig', { deviceID: 1, config: { useAlphanumericID: false } });
    assert.equal((await failure(unary(r.c.system, 'GetConfig', { deviceID: 2 }))).code, code.NOT_FOUND);
  });
});

describe('Finger.GetConfig and Face.GetConfig on raw bytes', () => {
  let r: Running;
  let raw: grpc.Client;
  before(async () => {
    r = await running([{ id: 7, type: 29, templateFormat: 'ANSI' }]); // FACESTATION_F2_FP
    raw = new grpc.Client(r.sim.address, grpc.credentials.createInsecure());
  });
  after(async () => {
    raw.close();
    await r.close();
  });

  test('/gsdk.finger.Finger/GetConfig: config=1, FingerConfig.templateFormat=5', async () => {
    const config = one(await rawCall(raw, '/gsdk.finger.Finger/GetConfig', uint(1, 7)), 1).bytes!;
    assert.equal(one(config, 5).varint, 2, 'ANSI at 5');
  });

  test('/gsdk.face.Face/GetConfig: config=1, FaceConfig.enrollTimeout=5', async () => {
    const config = one(await rawCall(raw, '/gsdk.face.Face/GetConfig', uint(1, 7)), 1).bytes!;
    assert.equal(one(config, 5).varint, 60);
  });
});
