import { z } from 'zod';
import { Type as DeviceType } from '../proto/gen/gsdk/device.js';
import {
  DEFAULT_DEVICE_PORT,
  DEFAULT_MAX_CARDS_PER_USER,
  DEFAULT_MAX_EVENT_LOGS,
  DEFAULT_MAX_FACES_PER_USER,
  DEFAULT_MAX_FINGERPRINTS_PER_USER,
  DEFAULT_MAX_USERS,
  type DeviceSpec,
} from './device-spec.js';

/**
 * Config of the simulator, for `rollcall sim --config FILE` (YAML or JSON) and the
 * embedded mode. Either `devices` lists every device, or `count` + `firstId` make a fleet of
 * identical devices; `defaults` applies to both.
 */

const deviceTypeNames = Object.keys(DeviceType).filter(
  (key) => Number.isNaN(Number(key)) && key !== 'UNRECOGNIZED' && key !== 'NO_DEVICE',
) as [string, ...string[]];

const deviceFields = {
  type: z
    .union([z.number().int().min(1).max(255), z.enum(deviceTypeNames)])
    .optional()
    .describe('device.Type, as a number (e.g. 35) or a name (e.g. BIOSTATION_3). Default FACESTATION_F2_FP.'),
  maxUsers: z.number().int().min(0).optional().describe(`User capacity. Default the model's (${DEFAULT_MAX_USERS} where unpublished).`),
  maxCardsPerUser: z
    .number()
    .int()
    .min(0)
    .max(DEFAULT_MAX_CARDS_PER_USER)
    .optional()
    .describe(`Cards per user; 0 = no card reader. Default the model's (${DEFAULT_MAX_CARDS_PER_USER} with a reader).`),
  maxFingerprintsPerUser: z
    .number()
    .int()
    .min(0)
    .max(DEFAULT_MAX_FINGERPRINTS_PER_USER)
    .optional()
    .describe(`Fingers per user; 0 = no fingerprint sensor. Default the model's (${DEFAULT_MAX_FINGERPRINTS_PER_USER} with a sensor, 0 without).`),
  maxFacesPerUser: z
    .number()
    .int()
    .min(0)
    .max(DEFAULT_MAX_FACES_PER_USER)
    .optional()
    .describe(`Faces per user; 0 = no face camera. Default the model's (2 visual, ${DEFAULT_MAX_FACES_PER_USER} IR, 0 without a camera).`),
  face: z
    .enum(['none', 'ir', 'visual'])
    .optional()
    .describe('Face camera: none, ir (FaceStation 2 / FaceLite templates) or visual (FaceEx, flag 0x100). Default the model\'s.'),
  pin: z.boolean().optional().describe("PIN entry (CapabilityInfo.PINSupported). Default the model's."),
  templateFormat: z
    .enum(['SUPREMA', 'ISO', 'ANSI'])
    .optional()
    .describe('Fingerprint template format the device is set to. Default SUPREMA.'),
  alphanumericID: z.boolean().optional().describe('SystemConfig.useAlphanumericID at start. Default false.'),
  alphanumericIDSupported: z
    .boolean()
    .optional()
    .describe('Whether the device can use alphanumeric IDs (CapabilityInfo). Default true.'),
  port: z.number().int().min(1).max(65535).optional().describe(`The device's own port. Default ${DEFAULT_DEVICE_PORT}.`),
  maxEventLogs: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(`Events kept before the oldest are overwritten. Default ${DEFAULT_MAX_EVENT_LOGS}.`),
  connectionMode: z
    .enum(['server-to-device', 'device-to-server'])
    .optional()
    .describe('server-to-device: connected at start. device-to-server: waits in GetPendingList until the accept filter admits it.'),
};

export const deviceSchema = z
  .strictObject({
    id: z.number().int().min(1).max(0xffff_ffff).describe('G-SDK device ID.'),
    ipAddr: z.ipv4().optional().describe('Address of the device. Default 10.x.y.z from its position.'),
    ...deviceFields,
  })
  .superRefine((device, ctx) => {
    if (device.face === 'none' && (device.maxFacesPerUser ?? 0) > 0) {
      ctx.addIssue({ code: 'custom', message: 'maxFacesPerUser above 0 needs face: ir or visual', path: ['maxFacesPerUser'] });
    }
  })
  .describe('One virtual device.');

export const configSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Address the simulator listens on.'),
    port: z.number().int().min(0).max(65535).default(4000).describe('Port it listens on (a real gateway uses 4000); 0 picks a free one.'),
    devices: z.array(deviceSchema).optional().describe('Every virtual device. Alternative to count.'),
    count: z.number().int().min(1).max(100_000).optional().describe('Number of identical virtual devices. Alternative to devices.'),
    firstId: z
      .number()
      .int()
      .min(1)
      .max(0xffff_ffff)
      .default(1001)
      .describe('Device ID of the first of `count` devices; the others follow.'),
    defaults: z.strictObject(deviceFields).optional().describe('Settings for every device; a listed device overrides them.'),
    realtimeQueueSize: z
      .number()
      .int()
      .min(1)
      .default(1024)
      .describe('Queue of a SubscribeRealtimeLog/SubscribeStatus stream that asks for queueSize 0.'),
  })
  .superRefine((config, ctx) => {
    if ((config.devices === undefined) === (config.count === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give either devices or count', path: [] });
    }
    if (config.count !== undefined && config.firstId + config.count - 1 > 0xffff_ffff) {
      ctx.addIssue({ code: 'custom', message: 'firstId + count runs past the largest device ID', path: ['count'] });
    }
    const seen = new Set<number>();
    config.devices?.forEach((device, i) => {
      if (seen.has(device.id)) ctx.addIssue({ code: 'custom', message: `device ID ${device.id} appears twice`, path: ['devices', i, 'id'] });
      seen.add(device.id);
    });
  })
  .describe('The G-SDK gateway simulator.');

export type SimulatorConfig = z.output<typeof configSchema>;
export type SimulatorConfigInput = z.input<typeof configSchema>;

type DeviceFields = z.output<z.ZodObject<typeof deviceFields>>;

function specOf(id: number, fields: DeviceFields, ipAddr: string | undefined): DeviceSpec {
  const { type, ...rest } = fields;
  const spec: DeviceSpec = { id, ...rest };
  if (type !== undefined) spec.type = typeof type === 'number' ? type : DeviceType[type as keyof typeof DeviceType];
  if (ipAddr !== undefined) spec.ipAddr = ipAddr;
  return spec;
}

/** The device list a parsed config describes. */
export function devicesFromConfig(config: SimulatorConfig): DeviceSpec[] {
  const defaults = config.defaults ?? {};
  if (config.devices) {
    return config.devices.map(({ id, ipAddr, ...fields }) => specOf(id, { ...defaults, ...stripUndefined(fields) }, ipAddr));
  }
  const count = config.count ?? 0;
  return Array.from({ length: count }, (_, i) => specOf(config.firstId + i, defaults, undefined));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
