import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionMode, Status } from '../../../../proto/gen/gsdk/connect.js';
import { CapabilityInfo, DeviceCapability } from '../../../../proto/gen/gsdk/device.js';
import { EventLog } from '../../../../proto/gen/gsdk/event.js';
import {
  isConnected,
  toDeviceEvent,
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
      { type: 35, maxUsers: 500, alphanumericIdSupported: true, alphanumericIdEnabled: true }],
    ['no GetCapability (older gateway)', [CapabilityInfo.fromPartial({ type: 8, maxNumOfUser: 100 }), undefined, false],
      { type: 8, maxUsers: 100, alphanumericIdSupported: false, alphanumericIdEnabled: false }],
    ['capacity not reported', [CapabilityInfo.fromPartial({ type: 8 }), DeviceCapability.fromPartial({}), undefined],
      { type: 8, alphanumericIdSupported: false }],
    ['nothing answered', [undefined, undefined, undefined], {}],
  ];
  for (const [name, args, expected] of profiles) {
    test(`device profile: ${name}`, () => {
      assert.deepEqual(toDeviceProfile(...args), expected);
    });
  }
});
