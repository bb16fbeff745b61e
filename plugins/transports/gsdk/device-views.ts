/**
 * What the gateway says about devices, users on them and their events, in the domain
 * terms of the transport contract (daemon/plugins/api.ts). Pure: the transport calls the
 * gateway and hands the answers here.
 */
import type {
  DeviceEvent,
  DeviceProfile,
  DeviceStatusChange,
  DeviceUserHeader,
  GatewayDevice,
  LinkState,
  PendingDevice,
} from '../../../daemon/plugins/api.js';
import type { DeviceHolds } from '../../../daemon/model/device-copy.js';
import { Status as LinkStatus, type DeviceInfo, type PendingDeviceInfo, type StatusChange } from '../../../proto/gen/gsdk/connect.js';
import type { CapabilityInfo, DeviceCapability } from '../../../proto/gen/gsdk/device.js';
import type { EventLog } from '../../../proto/gen/gsdk/event.js';
import type { UserHdr } from '../../../proto/gen/gsdk/user.js';

/** EventLog.userID of events that concern no user (besides the empty string). */
const NO_USER = '4294967295';

export function isConnected(status: number): boolean {
  return status === LinkStatus.TCP_CONNECTED || status === LinkStatus.TLS_CONNECTED;
}

const LINK_STATES = new Map<number, LinkState>([
  [LinkStatus.DISCONNECTED, 'disconnected'],
  [LinkStatus.TCP_CONNECTED, 'tcp-connected'],
  [LinkStatus.TLS_CONNECTED, 'tls-connected'],
  [LinkStatus.TCP_CANNOT_CONNECT, 'tcp-cannot-connect'],
  [LinkStatus.TCP_NOT_ALLOWED, 'tcp-not-allowed'],
  [LinkStatus.TLS_CANNOT_CONNECT, 'tls-cannot-connect'],
  [LinkStatus.TLS_NOT_ALLOWED, 'tls-not-allowed'],
]);

/** connect.Status in words; a value added after V1.8 is 'unknown'. */
export function linkState(status: number): LinkState {
  return LINK_STATES.get(status) ?? 'unknown';
}

export function toPendingDevice(info: PendingDeviceInfo): PendingDevice {
  const device: PendingDevice = { id: info.deviceID };
  if (info.IPAddr) device.address = info.IPAddr;
  if (info.lastTry > 0) device.lastTry = info.lastTry;
  if (info.type > 0) device.type = info.type;
  return device;
}

export function toGatewayDevice(info: DeviceInfo): GatewayDevice {
  const device: GatewayDevice = { id: info.deviceID, connected: isConnected(info.status), state: linkState(info.status) };
  if (info.IPAddr) device.address = info.IPAddr;
  if (info.port > 0) device.port = info.port;
  if (info.type > 0) device.type = info.type;
  return device;
}

export function toDeviceStatusChange(change: StatusChange): DeviceStatusChange {
  return {
    deviceId: change.deviceID,
    connected: isConnected(change.status),
    status: change.status,
    state: linkState(change.status),
    timestamp: change.timestamp,
  };
}

export function toDeviceEvent(log: EventLog): DeviceEvent {
  const event: DeviceEvent = {
    id: log.ID,
    deviceId: log.deviceID,
    timestamp: log.timestamp,
    eventCode: log.eventCode,
    subCode: log.subCode,
    changedOnDevice: log.changedOnDevice,
  };
  if (log.userID !== '' && log.userID !== NO_USER) event.userId = log.userID;
  return event;
}

export function toDeviceUserHeader(hdr: UserHdr): DeviceUserHeader {
  return { id: hdr.ID, cards: hdr.numOfCard, fingers: hdr.numOfFinger, faces: hdr.numOfFace };
}

/**
 * A device's profile from the answers that came back (an answer is undefined when the
 * gateway does not serve that call). DeviceCapability.maxUsers (V1.5+) is preferred to
 * CapabilityInfo.maxNumOfUser; a zero means "not reported". The template format is not
 * in any of these answers (it lives in the fingerprint config), so it stays absent.
 */
export function toDeviceProfile(
  capInfo: CapabilityInfo | undefined,
  capability: DeviceCapability | undefined,
  useAlphanumericID: boolean | undefined,
): DeviceProfile {
  const profile: DeviceProfile = {};
  if (capInfo && capInfo.type > 0) profile.type = capInfo.type;
  const maxUsers = capability?.maxUsers || capInfo?.maxNumOfUser || 0;
  if (maxUsers > 0) profile.maxUsers = maxUsers;
  if (capInfo) profile.alphanumericIdSupported = capInfo.alphanumericIDSupported;
  if (useAlphanumericID !== undefined) profile.alphanumericIdEnabled = useAlphanumericID;
  profile.holds = toDeviceHolds(capInfo, capability);
  return profile;
}

/**
 * What a device holds per user, from its capability answers. CapabilityInfo's flags say
 * whether it has a PIN pad, a card reader, a fingerprint sensor, a face camera; when the
 * gateway answered CapabilityInfo, a false flag is taken as "has none". DeviceCapability
 * gives the per-user maxima (0 = not reported: no cap beyond the User API's) and the face
 * kind: faceExSupported (or a visual-face template version) means visual faces, otherwise IR.
 * A call that was not answered reports nothing: its fields stay absent, and nothing is left
 * off for them (the face kind needs both answers).
 */
export function toDeviceHolds(capInfo: CapabilityInfo | undefined, capability: DeviceCapability | undefined): DeviceHolds {
  const holds: DeviceHolds = {};
  if (capInfo) {
    holds.pin = capInfo.PINSupported;
    holds.cards = capInfo.cardSupported;
    holds.fingerprints = capInfo.fingerSupported;
    if (!capInfo.faceSupported) holds.faces = 'none';
    else if (capability) holds.faces = capability.faceExSupported || capability.visualFaceTemplateVersion > 0 ? 'visual' : 'ir';
  }
  if (capability) {
    if (capability.maxCardsPerUser > 0) holds.maxCards = capability.maxCardsPerUser;
    if (capability.maxFingerprintsPerUser > 0) holds.maxFingerprints = capability.maxFingerprintsPerUser;
    if (capability.maxFacesPerUser > 0) holds.maxFaces = capability.maxFacesPerUser;
  }
  return holds;
}
