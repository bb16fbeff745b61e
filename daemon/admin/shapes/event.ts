/**
 * An event of the event log: the store's StoredEvent → the wire's Event → the `events --json`
 * object. The one list of its fields.
 */
import { kept, messageShape, optional, time, type Field, type JsonOf } from './field.js';

/** Any JSON value: JSON text on the wire ('' when absent). Text that is not JSON is shown as it is. */
const detail: Field<unknown, string, unknown> & { readonly wireKey: 'detailJson' } = {
  wireKey: 'detailJson',
  toWire: (value) => (value === undefined ? '' : JSON.stringify(value)),
  toJson: (value) => {
    if (value === '') return null;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  },
};

const eventFields = {
  id: kept<number>(),
  at: time('atMs'),
  kind: kept<string>(),
  message: kept<string>(),
  userId: optional<string>(),
  deviceId: optional<number>(),
  detail,
};

export const eventShape = messageShape(eventFields);
export type EventJson = JsonOf<typeof eventFields>;
