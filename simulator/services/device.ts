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
    PINSupported: true,
    cardSupported: capacity.maxCardsPerUser > 0,
    card1xSupported: false,
    SEOSSupported: false,
    fingerSupported: capacity.maxFingerprintsPerUser > 0,
    faceSupported: capacity.maxFacesPerUser > 0,
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
    QRSupported: false,
    dynamicSlaveDeviceSupported: false,
  };
}

/** Only the capacities the simulator enforces are reported; the others are 0 (not reported). */
export function deviceCapability(device: VirtualDevice): DeviceCapability {
  const { capacity } = device;
  return {
    maxUsers: capacity.maxUsers,
    maxEventLogs: device.log.capacity,
    maxImageLogs: 0,
    maxCards: 0,
    maxFaces: 0,
    maxFingerprints: 0,
    maxUserNames: 0,
    maxUserImages: 0,
    maxUserJobs: 0,
    maxUserPhrases: 0,
    maxCardsPerUser: capacity.maxCardsPerUser,
    maxFacesPerUser: capacity.maxFacesPerUser,
    maxFingerprintsPerUser: capacity.maxFingerprintsPerUser,
    faceExSupported: false,
    cardInputSupported: capacity.maxCardsPerUser > 0,
    fingerprintInputSupported: capacity.maxFingerprintsPerUser > 0,
    faceInputSupported: capacity.maxFacesPerUser > 0,
    idInputSupported: true,
    PINInputSupported: true,
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
