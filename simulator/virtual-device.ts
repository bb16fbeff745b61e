import { status } from '@grpc/grpc-js';
import type { Type as DeviceType } from '../proto/gen/gsdk/device.js';
import type { EventLog } from '../proto/gen/gsdk/event.js';
import type { TemplateFormat } from '../proto/gen/gsdk/finger.js';
import type { UserHdr, UserInfo, UserStatistic } from '../proto/gen/gsdk/user.js';
import type { UserContentPool } from './content-pool.js';
import type { FaceKind } from './device-models.js';
import type { ResolvedDeviceSpec } from './device-spec.js';
import { DeviceEventLog, type DeviceEventInput } from './event-log.js';
import { DeviceFaults } from './faults.js';
import { UserReadFaults } from './user-read-faults.js';
import { checkUser, checkUserId, type UserRules } from './rules.js';
import { SimError, invalidArgument } from './sim-error.js';
import { applyUpdateMask, decodeStored, prepareUser, type PreparedUser, type StoredUser } from './user-record.js';

/** Who made a change: a client through the gateway, or a person at the device. */
export type ChangeOrigin = 'gateway' | 'device';

/** User event codes (spec/gsdk-wire.md §4). */
export const UserEventCode = {
  ENROLL_SUCCESS: 0x2000,
  UPDATE_SUCCESS: 0x2200,
  DELETE_SUCCESS: 0x2400,
  DELETE_ALL_SUCCESS: 0x2600,
} as const;

/** Device events that start its log again (spec/gsdk-wire.md §4). */
export const LogResetCode = {
  EVENT_LOG_CLEARED: 0x4200,
  DATABASE_RESET: 0x4501,
  FACTORY_RESET: 0x4502,
} as const;

/** subCode of user events: 1 by server (through the gateway), 2 at the device. */
export const SUB_CODE_BY_SERVER = 1;
export const SUB_CODE_AT_DEVICE = 2;

export interface DeviceCapacity {
  maxUsers: number;
  maxCardsPerUser: number;
  maxFingerprintsPerUser: number;
  maxFacesPerUser: number;
  face: FaceKind;
  pin: boolean;
  /** CapabilityInfo.QRSupported (reported; QR cards are not refused elsewhere). */
  qr: boolean;
}

interface Totals {
  cards: number;
  fingerprints: number;
  faces: number;
  names: number;
  images: number;
}

/** A part of a user that Set{Card,Finger,Face,AccessGroup,JobCode} replaces. */
export type UserPartChange = { userID: string; apply: (user: UserInfo) => UserInfo };

/**
 * One simulated device: its user memory, event log, limits and faults. Every change is
 * atomic per call: all users of the call are checked first, then all are stored, so a
 * refused call leaves the device as it was. Knows nothing of gRPC or of the gateway's
 * connections; events leave through `publish`.
 */
export class VirtualDevice {
  readonly id: number;
  readonly type: DeviceType;
  readonly ipAddr: string;
  readonly port: number;
  readonly connectionMode: ResolvedDeviceSpec['connectionMode'];
  readonly log: DeviceEventLog;
  readonly faults: DeviceFaults;
  readonly readFaults = new UserReadFaults();
  /** The next `count` requests to turn monitoring on fail with `code` (control service: RefuseMonitoring). */
  readonly monitoringRefusals = { count: 0, code: status.UNAVAILABLE as number };
  readonly capacity: DeviceCapacity;
  templateFormat: TemplateFormat;
  alphanumericIDSupported: boolean;
  useAlphanumericID: boolean;
  /** Whether the device is reachable on the network (the control service drops it). */
  online = true;

  private readonly users = new Map<string, StoredUser>();
  private readonly totals: Totals = { cards: 0, fingerprints: 0, faces: 0, names: 0, images: 0 };
  private readonly pool: UserContentPool;
  private readonly clock: () => number;
  private readonly publish: (event: EventLog) => void;

  constructor(spec: ResolvedDeviceSpec, pool: UserContentPool, clock: () => number, publish: (event: EventLog) => void) {
    this.id = spec.id;
    this.type = spec.type;
    this.ipAddr = spec.ipAddr;
    this.port = spec.port;
    this.connectionMode = spec.connectionMode;
    this.log = new DeviceEventLog(spec.id, spec.maxEventLogs);
    this.faults = new DeviceFaults(spec.id);
    this.capacity = {
      maxUsers: spec.maxUsers,
      maxCardsPerUser: spec.maxCardsPerUser,
      maxFingerprintsPerUser: spec.maxFingerprintsPerUser,
      maxFacesPerUser: spec.maxFacesPerUser,
      face: spec.face,
      pin: spec.pin,
      qr: spec.qr,
    };
    this.templateFormat = spec.templateFormat;
    this.alphanumericIDSupported = spec.alphanumericIDSupported;
    this.useAlphanumericID = spec.alphanumericID;
    this.pool = pool;
    this.clock = clock;
    this.publish = publish;
  }

  get userCount(): number {
    return this.users.size;
  }

  has(userId: string): boolean {
    return this.users.has(userId);
  }

  stored(userId: string): StoredUser | undefined {
    return this.users.get(userId);
  }

  /** Every stored user, in enrollment order. */
  storedUsers(): IterableIterator<StoredUser> {
    return this.users.values();
  }

  headers(): UserHdr[] {
    const hdrs: UserHdr[] = [];
    for (const user of this.users.values()) {
      hdrs.push({
        ID: user.id,
        userFlag: user.userFlag,
        numOfCard: user.cards,
        numOfFinger: user.fingers,
        numOfFace: user.faces,
        authGroupID: user.authGroupID,
        updateMask: 0,
      });
    }
    return hdrs;
  }

  /** The stored users for these IDs, in request order; NOT_FOUND if any is missing. */
  read(userIds: readonly string[]): StoredUser[] {
    this.readFaults.check(this.id, userIds);
    return userIds.map((id) => this.require(id));
  }

  statistic(): UserStatistic {
    return {
      numOfUsers: this.users.size,
      numOfCards: this.totals.cards,
      numOfFingerprints: this.totals.fingerprints,
      numOfFaces: this.totals.faces,
      numOfNames: this.totals.names,
      numOfImages: this.totals.images,
      numOfPhrases: 0,
    };
  }

  rules(): UserRules {
    return {
      maxCardsPerUser: this.capacity.maxCardsPerUser,
      maxFingerprintsPerUser: this.capacity.maxFingerprintsPerUser,
      maxFacesPerUser: this.capacity.maxFacesPerUser,
      face: this.capacity.face,
      pin: this.capacity.pin,
      templateFormat: this.templateFormat,
      useAlphanumericID: this.useAlphanumericID,
    };
  }

  /** Enroll: ALREADY_EXISTS when overwrite is false and an ID is taken; RESOURCE_EXHAUSTED when full. */
  enroll(users: readonly PreparedUser[], overwrite: boolean, origin: ChangeOrigin): void {
    rejectDuplicates(users.map((u) => u.info.hdr?.ID ?? ''));
    let added = 0;
    for (const user of users) {
      this.check(user.info);
      const id = user.info.hdr?.ID ?? '';
      if (this.users.has(id)) {
        if (!overwrite) throw new SimError(status.ALREADY_EXISTS, `device ${this.id}: user ${id} already exists`);
      } else {
        added += 1;
      }
    }
    this.requireRoom(added);
    for (const user of users) {
      this.store(user);
      this.record(UserEventCode.ENROLL_SUCCESS, user.info.hdr?.ID ?? '', origin);
    }
  }

  /** Update with each user's hdr.updateMask; NOT_FOUND for a user the device does not hold. */
  update(users: readonly UserInfo[], origin: ChangeOrigin): void {
    rejectDuplicates(users.map((u) => u.hdr?.ID ?? ''));
    const prepared = users.map((incoming) => {
      const id = incoming.hdr?.ID ?? '';
      const current = decodeStored(this.require(id));
      const merged = prepareUser(applyUpdateMask(current, incoming, incoming.hdr?.updateMask ?? 0));
      this.check(merged.info);
      return merged;
    });
    for (const user of prepared) {
      this.store(user);
      this.record(UserEventCode.UPDATE_SUCCESS, user.info.hdr?.ID ?? '', origin);
    }
  }

  /** Replaces one part of existing users (SetCard, SetFinger, ...). */
  updateParts(changes: readonly UserPartChange[], origin: ChangeOrigin): void {
    rejectDuplicates(changes.map((c) => c.userID));
    const prepared = changes.map((change) => {
      const current = decodeStored(this.require(change.userID));
      const next = prepareUser(change.apply(current));
      this.check(next.info);
      return next;
    });
    for (const user of prepared) {
      this.store(user);
      this.record(UserEventCode.UPDATE_SUCCESS, user.info.hdr?.ID ?? '', origin);
    }
  }

  /**
   * Delete. Through the gateway an ID the device does not hold is skipped (deleting is
   * idempotent, so a retried batch converges); at the device a person can only pick a user
   * that exists, so a missing ID is NOT_FOUND.
   */
  remove(userIds: readonly string[], origin: ChangeOrigin): void {
    if (origin === 'device') userIds.forEach((id) => this.require(id));
    for (const id of new Set(userIds)) {
      const user = this.users.get(id);
      if (!user) continue;
      this.drop(user);
      this.record(UserEventCode.DELETE_SUCCESS, id, origin);
    }
  }

  removeAll(origin: ChangeOrigin): void {
    for (const user of this.users.values()) this.pool.release(user);
    this.users.clear();
    Object.assign(this.totals, { cards: 0, fingerprints: 0, faces: 0, names: 0, images: 0 });
    this.record(UserEventCode.DELETE_ALL_SUCCESS, '', origin);
  }

  /** SystemConfig.useAlphanumericID. */
  setUseAlphanumericID(use: boolean): void {
    if (use && !this.alphanumericIDSupported) {
      throw new SimError(status.FAILED_PRECONDITION, `device ${this.id} does not support alphanumeric user IDs`);
    }
    if (!use && this.useAlphanumericID) {
      for (const id of this.users.keys()) {
        if (checkUserId(id, false)) {
          throw new SimError(status.FAILED_PRECONDITION, `device ${this.id} holds non-numeric user IDs`);
        }
      }
    }
    this.useAlphanumericID = use;
  }

  /**
   * The event log cleared or reset at the device: IDs start at 1 again, the first event
   * being `eventCode` (0: none, as a device swapped for another under the same ID). A
   * database or factory reset also deletes every user (no per-user events).
   */
  resetLog(eventCode: number): EventLog | undefined {
    if (eventCode === LogResetCode.DATABASE_RESET || eventCode === LogResetCode.FACTORY_RESET) {
      for (const user of this.users.values()) this.pool.release(user);
      this.users.clear();
      Object.assign(this.totals, { cards: 0, fingerprints: 0, faces: 0, names: 0, images: 0 });
    }
    this.log.clear();
    if (eventCode === 0) return undefined;
    return this.recordEvent({ eventCode, subCode: 0, userID: '', entityID: 0, changedOnDevice: false });
  }

  /** Throws when a refusal of EnableMonitoring is pending (one is used up). */
  checkMonitoringAllowed(): void {
    if (this.monitoringRefusals.count <= 0) return;
    this.monitoringRefusals.count -= 1;
    throw new SimError(this.monitoringRefusals.code, `device ${this.id}: monitoring refused (injected)`);
  }

  /** Logs an event that happened at the device (not a user change made here). */
  recordEvent(input: DeviceEventInput): EventLog {
    const event = this.log.append(input, this.clock());
    this.publish(event);
    return event;
  }

  /** Releases the shared records this device holds. */
  dispose(): void {
    for (const user of this.users.values()) this.pool.release(user);
    this.users.clear();
  }

  private require(userId: string): StoredUser {
    const user = this.users.get(userId);
    if (!user) throw new SimError(status.NOT_FOUND, `device ${this.id}: user ${userId} not found`);
    return user;
  }

  private check(user: UserInfo): void {
    const broken = checkUser(user, this.rules());
    if (broken) throw invalidArgument(`device ${this.id}: user ${user.hdr?.ID ?? ''}: ${broken.message} [${broken.rule}]`);
  }

  private requireRoom(added: number): void {
    if (this.users.size + added > this.capacity.maxUsers) {
      throw new SimError(
        status.RESOURCE_EXHAUSTED,
        `device ${this.id} is full: ${this.users.size} users, ${added} more asked, capacity ${this.capacity.maxUsers}`,
      );
    }
  }

  private store(user: PreparedUser): void {
    const record = this.pool.acquire(user);
    const previous = this.users.get(record.id);
    if (previous) this.drop(previous);
    this.users.set(record.id, record);
    this.count(record, 1);
  }

  private drop(user: StoredUser): void {
    this.users.delete(user.id);
    this.count(user, -1);
    this.pool.release(user);
  }

  private count(user: StoredUser, sign: 1 | -1): void {
    this.totals.cards += sign * user.cards;
    this.totals.fingerprints += sign * user.fingers;
    this.totals.faces += sign * user.faces;
    this.totals.names += sign * (user.hasName ? 1 : 0);
    this.totals.images += sign * (user.hasPhoto ? 1 : 0);
  }

  private record(eventCode: number, userID: string, origin: ChangeOrigin): void {
    this.recordEvent({
      eventCode,
      subCode: origin === 'device' ? SUB_CODE_AT_DEVICE : SUB_CODE_BY_SERVER,
      userID,
      entityID: 0,
      changedOnDevice: origin === 'device',
    });
  }
}

function rejectDuplicates(ids: readonly string[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw invalidArgument(`user ${id} appears twice in one request`);
    seen.add(id);
  }
}
