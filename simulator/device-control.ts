import type { EventLog } from '../proto/gen/gsdk/event.js';
import type { TemplateFormat } from '../proto/gen/gsdk/finger.js';
import type { UserInfo } from '../proto/gen/gsdk/user.js';
import type { DeviceState } from '../proto/gen/rollcall/sim/v1/sim.js';
import type { FaultPlan } from './faults.js';
import type { SimulatedGateway } from './gateway.js';
import { decodeStored, prepareUser } from './user-record.js';
import { LogResetCode, type VirtualDevice } from './virtual-device.js';
import { invalidArgument } from './sim-error.js';

export interface CapacityChange {
  maxUsers?: number | undefined;
  maxCardsPerUser?: number | undefined;
  maxFingerprintsPerUser?: number | undefined;
  maxFacesPerUser?: number | undefined;
  templateFormat?: TemplateFormat | undefined;
  alphanumericIDSupported?: boolean | undefined;
  useAlphanumericID?: boolean | undefined;
}

/**
 * One virtual device as a person standing at it, or a test, sees it: what it holds, what
 * it logged, and what can be done to it. The control service and in-process tests both use
 * this class. Changes made here bypass faults and the gateway connection (the device works
 * while its network is down) and are logged with subCode 2 and changedOnDevice=true.
 */
export class DeviceControl {
  readonly id: number;
  private readonly gateway: SimulatedGateway;

  constructor(gateway: SimulatedGateway, id: number) {
    this.gateway = gateway;
    this.id = id;
  }

  private get device(): VirtualDevice {
    return this.gateway.requireDevice(this.id);
  }

  get userCount(): number {
    return this.device.userCount;
  }

  /** Every user the device holds, decoded, in enrollment order. */
  users(): UserInfo[] {
    return [...this.device.storedUsers()].map(decodeStored);
  }

  /** The same users in pages of `size`, decoded one page at a time. */
  *userPages(size: number): Generator<UserInfo[]> {
    let page: UserInfo[] = [];
    for (const stored of this.device.storedUsers()) {
      page.push(decodeStored(stored));
      if (page.length === size) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  user(userId: string): UserInfo | undefined {
    const stored = this.device.stored(userId);
    return stored ? decodeStored(stored) : undefined;
  }

  /** The device's event log from startId (inclusive, 0 = oldest), at most max events (0 = all). */
  events(startId = 0, max = 0): EventLog[] {
    return this.device.log.read(startId, max);
  }

  /** A new user, enrolled at the device: ALREADY_EXISTS if the ID is taken. */
  enrollAtDevice(user: UserInfo): void {
    this.device.enroll([prepareUser(user)], false, 'device');
  }

  /** Edits an existing user at the device (hdr.updateMask applies; 0 replaces it whole). */
  updateAtDevice(user: UserInfo): void {
    this.device.update([user], 'device');
  }

  deleteAtDevice(userIds: readonly string[]): void {
    this.device.remove(userIds, 'device');
  }

  /** An event that happened at the device (e.g. 0x1000 verify success); delivered like any other. */
  recordEvent(input: { eventCode: number; subCode?: number; userID?: string; entityID?: number }): EventLog {
    return this.device.recordEvent({
      eventCode: input.eventCode,
      subCode: input.subCode ?? 0,
      userID: input.userID ?? '',
      entityID: input.entityID ?? 0,
      changedOnDevice: false,
    });
  }

  /**
   * The event log cleared or reset at the device (IDs start at 1 again), first logging
   * `eventCode`: 0x4200 EVENT_LOG_CLEARED (the default), 0x4501 DATABASE_RESET or 0x4502
   * FACTORY_RESET (both also delete every user), or 0 for nothing. Returns that event.
   */
  resetEventLog(eventCode: number = LogResetCode.EVENT_LOG_CLEARED): EventLog | undefined {
    if (eventCode !== 0 && !Object.values(LogResetCode).includes(eventCode as (typeof LogResetCode)[keyof typeof LogResetCode])) {
      throw invalidArgument(`eventCode must be 0x4200, 0x4501, 0x4502 or 0, not 0x${eventCode.toString(16)}`);
    }
    return this.device.resetLog(eventCode);
  }

  /** Reads of these users fail with `code` (a gRPC status code; 0 lifts it) until ClearFaults. */
  setUserReadFault(userIds: readonly string[], code: number): void {
    if (code < 0 || code > 16) throw invalidArgument(`code must be a gRPC status code (0..16), not ${code}`);
    this.device.readFaults.set(userIds, code);
  }

  /** The next `count` requests to turn its monitoring on fail with `code` (a gRPC status code, not 0). */
  refuseMonitoring(count: number, code: number): void {
    if (code <= 0 || code > 16) throw invalidArgument(`code must be a gRPC error code (1..16), not ${code}`);
    this.device.monitoringRefusals.count = count;
    this.device.monitoringRefusals.code = code;
  }

  /** The device drops off the network: DISCONNECTED on SubscribeStatus, UNAVAILABLE to calls. */
  disconnect(): void {
    this.gateway.takeOffline(this.id);
  }

  reconnect(): void {
    this.gateway.bringOnline(this.id);
  }

  setFault(change: Partial<FaultPlan>): FaultPlan {
    return this.device.faults.set(change);
  }

  clearFaults(): void {
    this.device.faults.clear();
    this.device.readFaults.clear();
    this.device.monitoringRefusals.count = 0;
  }

  /** Overrides limits and settings; users already stored are not checked again. */
  setCapacity(change: CapacityChange): DeviceState {
    const device = this.device;
    const { capacity } = device;
    if (change.maxUsers !== undefined) capacity.maxUsers = change.maxUsers;
    if (change.maxCardsPerUser !== undefined) capacity.maxCardsPerUser = change.maxCardsPerUser;
    if (change.maxFingerprintsPerUser !== undefined) capacity.maxFingerprintsPerUser = change.maxFingerprintsPerUser;
    if (change.maxFacesPerUser !== undefined) capacity.maxFacesPerUser = change.maxFacesPerUser;
    if (change.templateFormat !== undefined) device.templateFormat = change.templateFormat;
    if (change.alphanumericIDSupported !== undefined) {
      device.alphanumericIDSupported = change.alphanumericIDSupported;
      if (!change.alphanumericIDSupported) device.useAlphanumericID = false;
    }
    if (change.useAlphanumericID !== undefined) {
      device.useAlphanumericID = change.useAlphanumericID && device.alphanumericIDSupported;
    }
    return this.state();
  }

  state(): DeviceState {
    const device = this.device;
    return {
      deviceID: device.id,
      type: device.type,
      connected: this.gateway.isConnected(device.id),
      maxUsers: device.capacity.maxUsers,
      templateFormat: device.templateFormat,
      alphanumericIDSupported: device.alphanumericIDSupported,
      useAlphanumericID: device.useAlphanumericID,
      numOfUsers: device.userCount,
      monitoring: this.gateway.isMonitoring(device.id),
      lastEventID: device.log.lastId,
      IPAddr: device.ipAddr,
      port: device.port,
      fault: { ...device.faults.plan },
      maxCardsPerUser: device.capacity.maxCardsPerUser,
      maxFingerprintsPerUser: device.capacity.maxFingerprintsPerUser,
      maxFacesPerUser: device.capacity.maxFacesPerUser,
      maxEventLogs: device.log.capacity,
      connectionMode: device.connectionMode,
      face: device.capacity.face,
      pin: device.capacity.pin,
    };
  }
}
