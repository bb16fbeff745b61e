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
};

export const deviceShape = messageShape(deviceFields);
export type DeviceJson = JsonOf<typeof deviceFields>;
