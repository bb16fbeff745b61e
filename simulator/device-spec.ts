import { Type as DeviceType } from '../proto/gen/gsdk/device.js';
import { TemplateFormat } from '../proto/gen/gsdk/finger.js';

/** How a virtual device is described to startSimulator (and, after parsing, in a config file). */
export interface DeviceSpec {
  /** G-SDK device ID (uint32, not 0). */
  id: number;
  /** device.Type; default FACESTATION_F2_FP, a model with card, fingerprint and face. */
  type?: DeviceType;
  /** User capacity; default 500,000. */
  maxUsers?: number;
  /** Per-user limits; defaults are the published ones (8 cards, 10 fingers, 5 faces). 0 = no such sensor. */
  maxCardsPerUser?: number;
  maxFingerprintsPerUser?: number;
  maxFacesPerUser?: number;
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

export type ResolvedDeviceSpec = Required<Omit<DeviceSpec, 'templateFormat'>> & { templateFormat: TemplateFormat };

export function templateFormatFrom(value: TemplateFormat | TemplateFormatName): TemplateFormat {
  return typeof value === 'string' ? TemplateFormat[value] : value;
}

export const DEFAULT_DEVICE_TYPE = DeviceType.FACESTATION_F2_FP;
export const DEFAULT_MAX_USERS = 500_000;
export const DEFAULT_MAX_CARDS_PER_USER = 8;
export const DEFAULT_MAX_FINGERPRINTS_PER_USER = 10;
export const DEFAULT_MAX_FACES_PER_USER = 5;
export const DEFAULT_MAX_EVENT_LOGS = 100_000;
export const DEFAULT_DEVICE_PORT = 51211;

/** A deterministic private address for the n-th device (n from 0): 10.0.0.1, 10.0.0.2, ... */
export function defaultDeviceAddress(position: number): string {
  const n = position + 1;
  return `10.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

export function resolveDeviceSpec(spec: DeviceSpec, position: number): ResolvedDeviceSpec {
  return {
    id: spec.id,
    type: spec.type ?? DEFAULT_DEVICE_TYPE,
    maxUsers: spec.maxUsers ?? DEFAULT_MAX_USERS,
    maxCardsPerUser: spec.maxCardsPerUser ?? DEFAULT_MAX_CARDS_PER_USER,
    maxFingerprintsPerUser: spec.maxFingerprintsPerUser ?? DEFAULT_MAX_FINGERPRINTS_PER_USER,
    maxFacesPerUser: spec.maxFacesPerUser ?? DEFAULT_MAX_FACES_PER_USER,
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
  }
  return undefined;
}
