import { Type, type CapabilityInfo, type DeviceCapability, type DeviceServer, type FactoryInfo } from '../../proto/gen/gsdk/device.js';
import type { VirtualDevice } from '../virtual-device.js';
import type { CallScope } from './calls.js';

/** A locally administered MAC address derived from the device ID. */
function macAddressOf(deviceId: number): string {
  const bytes = [0x02, 0x52, (deviceId >>> 24) & 0xff, (deviceId >>> 16) & 0xff, (deviceId >>> 8) & 0xff, deviceId & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function factoryInfo(device: VirtualDevice): FactoryInfo {
  return {
    MACAddr: macAddressOf(device.id),
    modelName: `${Type[device.type] ?? 'UNKNOWN'} (rollcall simulator)`,
    firmwareVersion: 'sim-1',
    kernelVersion: 'sim-1',
    BSCoreVersion: 'sim-1',
    boardVersion: 'sim-1',
  };
}

export function capabilityInfo(device: VirtualDevice): CapabilityInfo {
  const { capacity } = device;
  return {
    type: device.type,
    maxNumOfUser: capacity.maxUsers,
    PINSupported: capacity.pin,
    cardSupported: capacity.maxCardsPerUser > 0,
    card1xSupported: false,
    SEOSSupported: false,
    fingerSupported: capacity.maxFingerprintsPerUser > 0,
    faceSupported: faceHeld(device),
    userNameSupported: true,
    userPhotoSupported: true,
    userPhraseSupported: false,
    alphanumericIDSupported: device.alphanumericIDSupported,
    WLANSupported: false,
    imageLogSupported: false,
    VOIPSupported: false,
    TNASupported: true,
    jobCodeSupported: true,
    wiegandSupported: false,
    wiegandMultiSupported: false,
    triggerActionSupported: false,
    DSTSupported: false,
    DNSSupported: false,
    OSDPKeySupported: false,
    RS485ExtSupported: false,
    QRSupported: capacity.qr && capacity.maxCardsPerUser > 0,
    dynamicSlaveDeviceSupported: false,
  };
}

/** Whether the device takes faces at all: a camera and room for at least one per user. */
function faceHeld(device: VirtualDevice): boolean {
  return device.capacity.face !== 'none' && device.capacity.maxFacesPerUser > 0;
}

/** A device-wide total: what the simulator can hold, users × per user, within uint32. */
function total(users: number, perUser: number): number {
  return Math.min(users * perUser, 0xffff_ffff);
}

/**
 * The capacities the simulator enforces. The device-wide totals of cards, faces and
 * fingerprints are what users × per-user maxima allow (the simulator has no separate
 * template store); the other maxima are 0 (not reported).
 */
export function deviceCapability(device: VirtualDevice): DeviceCapability {
  const { capacity } = device;
  const faces = faceHeld(device) ? capacity.maxFacesPerUser : 0;
  return {
    maxUsers: capacity.maxUsers,
    maxEventLogs: device.log.capacity,
    maxImageLogs: 0,
    maxCards: total(capacity.maxUsers, capacity.maxCardsPerUser),
    maxFaces: total(capacity.maxUsers, faces),
    maxFingerprints: total(capacity.maxUsers, capacity.maxFingerprintsPerUser),
    maxUserNames: 0,
    maxUserImages: 0,
    maxUserJobs: 0,
    maxUserPhrases: 0,
    maxCardsPerUser: capacity.maxCardsPerUser,
    maxFacesPerUser: faces,
    maxFingerprintsPerUser: capacity.maxFingerprintsPerUser,
    // A face camera is a camera; other cameras (X-Station 2's QR camera) are not reported.
    cameraSupported: faces > 0,
    faceExSupported: faces > 0 && capacity.face === 'visual',
    cardInputSupported: capacity.maxCardsPerUser > 0,
    fingerprintInputSupported: capacity.maxFingerprintsPerUser > 0,
    faceInputSupported: faces > 0,
    idInputSupported: true,
    PINInputSupported: capacity.pin,
    updateUserSupported: true,
    visualFaceTemplateVersion: 0,
  };
}

/** gsdk.device.Device: identity and capabilities of a virtual device. */
export function deviceService(scope: CallScope): DeviceServer {
  return {
    getInfo: scope.unary(async (req, call) => scope.onDevice(req.deviceID, call, (d) => ({ info: factoryInfo(d) }))),
    getCapabilityInfo: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({ capInfo: capabilityInfo(d) })),
    ),
    getCapability: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({ deviceCapability: deviceCapability(d) })),
    ),
  };
}
