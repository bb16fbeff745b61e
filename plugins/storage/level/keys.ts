/**
 * Key encodings of the LevelDB store (the layout is in README.md). Numbers are written as
 * 16 fixed-width hex digits so that key order is numeric order; every safe integer fits.
 */
const width = 16;

export function numberKey(value: number): string {
  return value.toString(16).padStart(width, '0');
}

export function parseNumberKey(key: string): number {
  return Number.parseInt(key, 16);
}

/**
 * Index keys end in the event ID; their prefix is the indexed value followed by '!'.
 * A user ID is written as hex of its UTF-8 bytes so that no ID can contain the separator
 * (an ID "a!b" must not fall inside the range of user "a").
 */
export function userIndexPrefix(userId: string): string {
  return `${Buffer.from(userId, 'utf8').toString('hex')}!`;
}

export function deviceIndexPrefix(deviceId: number): string {
  return `${numberKey(deviceId)}!`;
}

export function timeIndexKey(at: number, eventId: number): string {
  return `${numberKey(at)}!${numberKey(eventId)}`;
}

/** The event ID at the end of any index key. */
export function eventIdOfIndexKey(key: string): number {
  return parseNumberKey(key.slice(-width));
}

/** Sorts after every key an index holds under one prefix (they are hex digits and '!'). */
export const indexRangeEnd = '~';
