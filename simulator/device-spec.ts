import { Type as DeviceType } from '../proto/gen/gsdk/device.js';
import { TemplateFormat } from '../proto/gen/gsdk/finger.js';
import {
  API_MAX_CARDS_PER_USER,
  API_MAX_FACES_PER_USER,
  API_MAX_FINGERPRINTS_PER_USER,
  deviceModel,
  type FaceKind,
} from './device-models.js';
import { invalidArgument } from './sim-error.js';

/** How a virtual device is described to startSimulator (and, after parsing, in a config file). */
export interface DeviceSpec {
  /** G-SDK device ID (uint32, not 0). */
  id: number;
  /** device.Type; default FACESTATION_F2_FP, a model with card, fingerprint and face. */
  type?: DeviceType;
  /** User capacity; default the model's (simulator/device-models.ts). */
  maxUsers?: number;
  /**
   * Per-user limits; default the model's (a model without the reader has 0). A value above 0
   * gives a model the reader it lacks; 0 takes it away.
   */
  maxCardsPerUser?: number;
  maxFingerprintsPerUser?: number;
  maxFacesPerUser?: number;
  /** Face camera: none, IR (FaceStation 2 templates) or visual (FaceEx); default the model's. */
  face?: FaceKind;
  /** PIN entry; default the model's. */
  pin?: boolean;
  /** finger.TemplateFormat the device is configured for, as the enum or its name; default SUPREMA. */
  templateFormat?: TemplateFormat | TemplateFormatName;
  /** SystemConfig.useAlphanumericID at start; default false. */
  alphanumericID?: boolean;
  /** CapabilityInfo.alphanumericIDSupported; default true. */
  alphanumericIDSupported?: boolean;
  /** Address the device is reachable at; default 10.x.y.z from its position in the fleet. */
  ipAddr?: string;
  /** Default 51211, the device's own listening port. */
  port?: number;
  /** Events held before the oldest are overwritten; default 100,000. */
  maxEventLogs?: number;
  /**
   * 'server-to-device' (default): the gateway holds the connection from the start.
   * 'device-to-server': the device dials in and waits in GetPendingList until the accept
   * filter admits it.
   */
  connectionMode?: 'server-to-device' | 'device-to-server';
}

export type TemplateFormatName = 'SUPREMA' | 'ISO' | 'ANSI';

export type ResolvedDeviceSpec = Required<Omit<DeviceSpec, 'templateFormat'>> & { templateFormat: TemplateFormat; qr: boolean };

export function templateFormatFrom(value: TemplateFormat | TemplateFormatName): TemplateFormat {
  return typeof value === 'string' ? TemplateFormat[value] : value;
}

export const DEFAULT_DEVICE_TYPE = DeviceType.FACESTATION_F2_FP;
/** Capacity of a model whose 1:1 figure is unpublished (device-models.ts). */
export const DEFAULT_MAX_USERS = 500_000;
/** The User API caps (D-USER): the largest per-user values a spec may give. */
export const DEFAULT_MAX_CARDS_PER_USER = API_MAX_CARDS_PER_USER;
export const DEFAULT_MAX_FINGERPRINTS_PER_USER = API_MAX_FINGERPRINTS_PER_USER;
export const DEFAULT_MAX_FACES_PER_USER = API_MAX_FACES_PER_USER;
export const DEFAULT_MAX_EVENT_LOGS = 100_000;
export const DEFAULT_DEVICE_PORT = 51211;

/** A deterministic private address for the n-th device (n from 0): 10.0.0.1, 10.0.0.2, ... */
export function defaultDeviceAddress(position: number): string {
  const n = position + 1;
  return `10.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/**
 * The face camera and faces per user a spec gives: an explicit `face` or `maxFacesPerUser`
 * wins over the model; `face: none` means 0 faces, a camera given to a model without one
 * holds the User API's 5. Undefined when the two explicit keys contradict each other.
 */
function resolveFaces(spec: DeviceSpec, type: DeviceType): { face: FaceKind; maxFacesPerUser: number } | undefined {
  const model = deviceModel(type);
  const face = spec.face ?? model.face;
  if (face === 'none') {
    if ((spec.maxFacesPerUser ?? 0) > 0) return undefined;
    return { face, maxFacesPerUser: 0 };
  }
  const fallback = model.face === 'none' ? API_MAX_FACES_PER_USER : model.maxFacesPerUser;
  const maxFacesPerUser = spec.maxFacesPerUser ?? fallback;
  return { face: maxFacesPerUser === 0 ? 'none' : face, maxFacesPerUser };
}

export function resolveDeviceSpec(spec: DeviceSpec, position: number): ResolvedDeviceSpec {
  const type = spec.type ?? DEFAULT_DEVICE_TYPE;
  const model = deviceModel(type);
  const faces = resolveFaces(spec, type);
  if (!faces) throw invalidArgument(`device ${spec.id}: maxFacesPerUser above 0 needs face: ir or visual`);
  return {
    id: spec.id,
    type,
    maxUsers: spec.maxUsers ?? model.maxUsers,
    maxCardsPerUser: spec.maxCardsPerUser ?? model.maxCardsPerUser,
    maxFingerprintsPerUser: spec.maxFingerprintsPerUser ?? model.maxFingerprintsPerUser,
    maxFacesPerUser: faces.maxFacesPerUser,
    face: faces.face,
    pin: spec.pin ?? model.pin,
    qr: model.qr,
    templateFormat: templateFormatFrom(spec.templateFormat ?? TemplateFormat.SUPREMA),
    alphanumericID: spec.alphanumericID ?? false,
    alphanumericIDSupported: spec.alphanumericIDSupported ?? true,
    ipAddr: spec.ipAddr ?? defaultDeviceAddress(position),
    port: spec.port ?? DEFAULT_DEVICE_PORT,
    maxEventLogs: spec.maxEventLogs ?? DEFAULT_MAX_EVENT_LOGS,
    connectionMode: spec.connectionMode ?? 'server-to-device',
  };
}

/** Rejects a fleet the simulator cannot serve; returns the reason or undefined. */
export function checkFleet(specs: readonly DeviceSpec[]): string | undefined {
  const seen = new Set<number>();
  for (const spec of specs) {
    if (!Number.isInteger(spec.id) || spec.id <= 0 || spec.id > 0xffffffff) {
      return `device ID ${spec.id} is not a uint32 above 0`;
    }
    if (seen.has(spec.id)) return `device ID ${spec.id} appears twice`;
    seen.add(spec.id);
    if (spec.alphanumericID === true && spec.alphanumericIDSupported === false) {
      return `device ${spec.id}: alphanumericID needs alphanumericIDSupported`;
    }
    if (!resolveFaces(spec, spec.type ?? DEFAULT_DEVICE_TYPE)) {
      return `device ${spec.id}: maxFacesPerUser above 0 needs face: ir or visual (its model has no face camera)`;
    }
  }
  return undefined;
}
