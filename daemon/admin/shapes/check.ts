/**
 * The result of checking one device (sync --full, verify): the sync engine's CheckResult →
 * the wire's CheckResult → the object in `checks` of --json. The one list of its fields.
 */
import { kept, messageShape, text, type JsonOf } from './field.js';
import { leftOffList } from './left-off.js';

const checkFields = {
  deviceId: kept<number>(),
  method: kept<string>(),
  inSync: kept<boolean>(),
  differences: kept<number>(),
  enrolled: kept<number>(),
  removed: kept<number>(),
  held: kept<number>(),
  leftAlone: kept<number>(),
  /** Why the check could not be done; absent when it was. */
  error: text,
  /** What the device's copies leave off, by kind and reason. */
  leftOff: leftOffList,
};

export const checkShape = messageShape(checkFields);
export type CheckJson = JsonOf<typeof checkFields>;
