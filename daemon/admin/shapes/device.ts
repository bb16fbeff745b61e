/**
 * A device as the admin API shows it: the sync engine's DeviceStatus → the wire's Device →
 * the `devices --json` object. The one list of its fields.
 */
import { kept, messageShape, nested, optional, text, time, type JsonOf } from './field.js';

const deviceCheck = messageShape({
  at: time('atMs'),
  method: kept<string>(),
  inSync: kept<boolean>(),
  differences: kept<number>(),
});

const heldRemoval = messageShape({
  at: time('atMs'),
  removals: kept<number>(),
  holding: kept<number>(),
  upToSeq: kept<number>(),
});

const eventBaseline = messageShape({
  eventId: kept<number>(),
  at: time('atMs'),
  reason: kept<string>(),
});

const deviceFields = {
  id: kept<number>(),
  name: text,
  location: text,
  source: kept<string>(),
  connected: kept<boolean>(),
  inSync: kept<boolean>(),
  cursor: kept<number>(),
  pending: kept<number>(),
  quarantined: kept<boolean>(),
  failures: kept<number>(),
  lastError: text,
  userCount: optional<number>(),
  lastCheck: nested(deviceCheck),
  heldRemoval: nested(heldRemoval),
  connection: text,
  connectionMode: text,
  lastEventId: kept<number>(),
  eventBaseline: nested(eventBaseline),
  heldBy: text,
};

export const deviceShape = messageShape(deviceFields);
export type DeviceJson = JsonOf<typeof deviceFields>;

/** A device-to-server device waiting for the gateway's accept filter (ListDevices, Status). */
export const pendingDeviceShape = messageShape({
  id: kept<number>(),
  address: text,
  lastTry: { wireKey: 'lastTryMs' as const, toWire: (value: number | undefined) => value ?? 0, toJson: (value: number) => (value === 0 ? null : new Date(value).toISOString()) },
});
export type PendingDeviceJson = ReturnType<typeof pendingDeviceShape.toJson>;

/** The gateway's pending list (unix seconds) as the shape takes it. */
export function pendingDevicesOf(list: readonly { id: number; address?: string; lastTry?: number }[]): { id: number; address?: string; lastTry?: number }[] {
  return list.map((p) => ({ id: p.id, address: p.address, lastTry: p.lastTry === undefined ? undefined : p.lastTry * 1000 }));
}
