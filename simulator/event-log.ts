import type { EventLog } from '../proto/gen/gsdk/event.js';
import { Key } from '../proto/gen/gsdk/tna.js';

/** The parts of an event a simulated device records. */
export interface DeviceEventInput {
  eventCode: number;
  subCode: number;
  userID: string;
  entityID: number;
  changedOnDevice: boolean;
}

const INITIAL_SLOTS = 1024;

/**
 * A device's event log: IDs start at 1 and only increase. Like a real device it keeps the
 * newest `capacity` events and overwrites the oldest. Stored column-wise in typed arrays,
 * since a benchmark run writes millions of events.
 */
export class DeviceEventLog {
  readonly deviceId: number;
  readonly capacity: number;
  private nextId = 1;
  private timestamps: Uint32Array;
  private codes: Uint16Array;
  private subCodes: Uint8Array;
  private flags: Uint8Array;
  private entities: Uint32Array;
  private userIds: string[];

  constructor(deviceId: number, capacity: number) {
    this.deviceId = deviceId;
    this.capacity = capacity;
    const slots = Math.min(capacity, INITIAL_SLOTS);
    this.timestamps = new Uint32Array(slots);
    this.codes = new Uint16Array(slots);
    this.subCodes = new Uint8Array(slots);
    this.flags = new Uint8Array(slots);
    this.entities = new Uint32Array(slots);
    this.userIds = new Array<string>(slots).fill('');
  }

  /** ID of the newest event; 0 when nothing was logged. */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** ID of the oldest event still held; 0 when nothing was logged. */
  get firstId(): number {
    if (this.nextId === 1) return 0;
    return Math.max(1, this.nextId - this.capacity);
  }

  get size(): number {
    return this.nextId === 1 ? 0 : this.lastId - this.firstId + 1;
  }

  /** Empties the log, as a device's log clear or reset does: the next event is ID 1 again. */
  clear(): void {
    this.nextId = 1;
  }

  append(input: DeviceEventInput, timestamp: number): EventLog {
    const id = this.nextId;
    if (this.size === this.timestamps.length && this.timestamps.length < this.capacity) this.grow();
    const slot = (id - 1) % this.timestamps.length;
    this.timestamps[slot] = timestamp;
    this.codes[slot] = input.eventCode;
    this.subCodes[slot] = input.subCode;
    this.flags[slot] = input.changedOnDevice ? 1 : 0;
    this.entities[slot] = input.entityID;
    this.userIds[slot] = input.userID;
    this.nextId = id + 1;
    return this.at(id);
  }

  /** GetLog: from startId (inclusive; 0 or older than the oldest held = from the oldest), at most max (0 = all). */
  read(startId: number, max: number): EventLog[] {
    if (this.nextId === 1) return [];
    const from = Math.max(startId, this.firstId);
    const to = max > 0 ? Math.min(this.lastId, from + max - 1) : this.lastId;
    const events: EventLog[] = [];
    for (let id = from; id <= to; id += 1) events.push(this.at(id));
    return events;
  }

  private at(id: number): EventLog {
    const slot = (id - 1) % this.timestamps.length;
    return {
      ID: id,
      timestamp: this.timestamps[slot] ?? 0,
      deviceID: this.deviceId,
      userID: this.userIds[slot] ?? '',
      entityID: this.entities[slot] ?? 0,
      eventCode: this.codes[slot] ?? 0,
      subCode: this.subCodes[slot] ?? 0,
      TNAKey: Key.UNSPECIFIED,
      hasImage: false,
      changedOnDevice: this.flags[slot] === 1,
      temperature: 0,
      cardData: Buffer.alloc(0),
      inputInfo: undefined,
      alarmZoneInfo: undefined,
      interlockZoneInfo: undefined,
    };
  }

  // Slots are contiguous from 0 until the log first fills, so growing copies a prefix.
  private grow(): void {
    const slots = Math.min(this.capacity, this.timestamps.length * 2);
    const timestamps = new Uint32Array(slots);
    timestamps.set(this.timestamps);
    const codes = new Uint16Array(slots);
    codes.set(this.codes);
    const subCodes = new Uint8Array(slots);
    subCodes.set(this.subCodes);
    const flags = new Uint8Array(slots);
    flags.set(this.flags);
    const entities = new Uint32Array(slots);
    entities.set(this.entities);
    const userIds = this.userIds.concat(new Array<string>(slots - this.userIds.length).fill(''));
    this.timestamps = timestamps;
    this.codes = codes;
    this.subCodes = subCodes;
    this.flags = flags;
    this.entities = entities;
    this.userIds = userIds;
  }
}
