import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionMode, Status } from '../../../../proto/gen/gsdk/connect.js';
import { CapabilityInfo, DeviceCapability } from '../../../../proto/gen/gsdk/device.js';
import { EventLog } from '../../../../proto/gen/gsdk/event.js';
import {
  isConnected,
  toDeviceEvent,
  toDeviceHolds,
  toDeviceProfile,
  toDeviceStatusChange,
  toDeviceUserHeader,
  toGatewayDevice,
} from '../../../../plugins/transports/gsdk/device-views.js';

describe('device views', () => {
  const statuses: Array<[Status, boolean]> = [
    [Status.DISCONNECTED, false],
    [Status.TCP_CONNECTED, true],
    [Status.TLS_CONNECTED, true],
    [Status.TCP_CANNOT_CONNECT, false],
    [Status.TCP_NOT_ALLOWED, false],
    [Status.TLS_CANNOT_CONNECT, false],
    [Status.TLS_NOT_ALLOWED, false],
  ];
  for (const [status, connected] of statuses) {
    test(`status ${Status[status]} is ${connected ? '' : 'not '}connected`, () => {
      assert.equal(isConnected(status), connected);
    });
  }

  test('a gateway device leaves out what the gateway did not report', () => {
    const base = { deviceID: 9, connectionMode: ConnectionMode.SERVER_TO_DEVICE, autoReconnect: true, useSSL: false };
    assert.deepEqual(toGatewayDevice({ ...base, IPAddr: '10.0.0.9', port: 51211, status: Status.TLS_CONNECTED, type: 35 }), {
      id: 9,
      connected: true,
      state: 'tls-connected',
      address: '10.0.0.9',
      port: 51211,
      type: 35,
    });
    assert.deepEqual(toGatewayDevice({ ...base, IPAddr: '', port: 0, status: Status.TCP_CANNOT_CONNECT, type: 0 }), { id: 9, connected: false, state: 'tcp-cannot-connect' });
  });

  test('a status change', () => {
    assert.deepEqual(toDeviceStatusChange({ deviceID: 4, status: Status.DISCONNECTED, timestamp: 1_700_000_000 }), {
      deviceId: 4,
      connected: false,
      status: 0,
      state: 'disconnected',
      timestamp: 1_700_000_000,
    });
  });

  const users: Array<[string, string | undefined]> = [
    ['42', '42'],
    ['badge-7', 'badge-7'],
    ['', undefined],
    ['4294967295', undefined],
  ];
  for (const [userID, userId] of users) {
    test(`event userID ${JSON.stringify(userID)} → ${String(userId)}`, () => {
      const log = EventLog.fromPartial({ ID: 17, timestamp: 5, deviceID: 3, userID, eventCode: 0x2000, subCode: 2, changedOnDevice: true });
      const expected = { id: 17, deviceId: 3, timestamp: 5, eventCode: 0x2000, subCode: 2, changedOnDevice: true, ...(userId ? { userId } : {}) };
      assert.deepEqual(toDeviceEvent(log), expected);
    });
  }

  test('a user header', () => {
    assert.deepEqual(
      toDeviceUserHeader({ ID: '8', userFlag: 3, numOfCard: 2, numOfFinger: 4, numOfFace: 1, authGroupID: 0, updateMask: 0 }),
      { id: '8', cards: 2, fingers: 4, faces: 1 },
    );
  });

  const profiles: Array<[string, Parameters<typeof toDeviceProfile>, ReturnType<typeof toDeviceProfile>]> = [
    ['every answer', [CapabilityInfo.fromPartial({ type: 35, maxNumOfUser: 100, alphanumericIDSupported: true }), DeviceCapability.fromPartial({ maxUsers: 500 }), true],
      { type: 35, maxUsers: 500, alphanumericIdSupported: true, alphanumericIdEnabled: true, holds: { pin: false, cards: false, fingerprints: false, faces: 'none' } }],
    ['no GetCapability (older gateway)', [CapabilityInfo.fromPartial({ type: 8, maxNumOfUser: 100 }), undefined, false],
      { type: 8, maxUsers: 100, alphanumericIdSupported: false, alphanumericIdEnabled: false, holds: { pin: false, cards: false, fingerprints: false, faces: 'none' } }],
    ['capacity not reported', [CapabilityInfo.fromPartial({ type: 8 }), DeviceCapability.fromPartial({}), undefined],
      { type: 8, alphanumericIdSupported: false, holds: { pin: false, cards: false, fingerprints: false, faces: 'none' } }],
    ['nothing answered', [undefined, undefined, undefined], { holds: {} }],
  ];
  const holds: Array<[string, Parameters<typeof toDeviceHolds>, ReturnType<typeof toDeviceHolds>]> = [
    ['a BioStation 3 (visual face, no fingerprint)',
      [CapabilityInfo.fromPartial({ type: 35, PINSupported: true, cardSupported: true, faceSupported: true }), DeviceCapability.fromPartial({ maxCardsPerUser: 8, maxFacesPerUser: 5, faceExSupported: true })],
      { pin: true, cards: true, fingerprints: false, faces: 'visual', maxCards: 8, maxFaces: 5 }],
    ['a FaceStation 2 (IR face)',
      [CapabilityInfo.fromPartial({ type: 10, PINSupported: true, cardSupported: true, faceSupported: true }), DeviceCapability.fromPartial({ maxCardsPerUser: 8, maxFacesPerUser: 5 })],
      { pin: true, cards: true, fingerprints: false, faces: 'ir', maxCards: 8, maxFaces: 5 }],
    ['a visual-face template version without the EX flag',
      [CapabilityInfo.fromPartial({ faceSupported: true }), DeviceCapability.fromPartial({ visualFaceTemplateVersion: 1 })],
      { pin: false, cards: false, fingerprints: false, faces: 'visual' }],
    ['a fingerprint reader with a maximum of 2',
      [CapabilityInfo.fromPartial({ fingerSupported: true, cardSupported: true }), DeviceCapability.fromPartial({ maxFingerprintsPerUser: 2 })],
      { pin: false, cards: true, fingerprints: true, faces: 'none', maxFingerprints: 2 }],
    ['faces without GetCapability: the kind is not known, so no face is left off for it',
      [CapabilityInfo.fromPartial({ faceSupported: true, fingerSupported: true }), undefined],
      { pin: false, cards: false, fingerprints: true }],
    ['only GetCapability: the maxima, nothing about the sensors',
      [undefined, DeviceCapability.fromPartial({ maxFacesPerUser: 1, faceExSupported: true })],
      { maxFaces: 1 }],
  ];
  for (const [name, args, expected] of holds) {
    test(`device holds: ${name}`, () => {
      assert.deepEqual(toDeviceHolds(...args), expected);
    });
  }

  for (const [name, args, expected] of profiles) {
    test(`device profile: ${name}`, () => {
      assert.deepEqual(toDeviceProfile(...args), expected);
    });
  }
});
