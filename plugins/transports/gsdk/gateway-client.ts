/**
 * The G-SDK gateway's RPCs as methods named after them (spec/gsdk-wire.md): connect,
 * device, system, user and event services. Each is a thin wrapper over the channel, which
 * makes it a promise with a deadline, an AbortSignal and metrics. What the wrappers add is
 * what every caller of the RPC needs: users paged under the message limit (paging.ts) and
 * Multi calls resolved per device (multi-result.ts). GsdkTransport builds the transport
 * contract on top of this client. About 400 lines because it is one method per RPC used, each
 * a few lines; the logic they share lives in the files named above.
 */
import type { Logger } from 'pino';
import type { RollcallError } from '../../../daemon/errors.js';
import type { User } from '../../../daemon/model/user.js';
import { ConnectService, type AcceptFilter, type DeviceInfo, type PendingDeviceInfo, type StatusChange } from '../../../proto/gen/gsdk/connect.js';
import { CapabilityInfo, DeviceCapability, DeviceService, FactoryInfo } from '../../../proto/gen/gsdk/device.js';
import type { ErrorResponse } from '../../../proto/gen/gsdk/err.js';
import { EventService, type EventLog } from '../../../proto/gen/gsdk/event.js';
import { FingerConfig, FingerService } from '../../../proto/gen/gsdk/finger.js';
import { SystemService } from '../../../proto/gen/gsdk/system.js';
import { UserService, UserStatistic, type UserHdr } from '../../../proto/gen/gsdk/user.js';
import { callCode, callTrailers, type CallLength, type CallOptions, type GatewayChannel, type MethodDefinition } from './channel.js';
import {
  deviceErrorsFromTrailer,
  multiResult,
  needsDeviceCheck,
  STATUS_DETAILS_TRAILER,
  unknownDevicesUnavailable,
  type MultiResult,
} from './multi-result.js';
import { listTooLarge } from './list-limit.js';
import { readInPages, SplitPage } from './paging.js';
import { GrpcCode } from './status-code.js';
import type { Subscription } from './subscription.js';
import { DEFAULT_MAX_RECEIVE_BYTES } from './schema.js';
import { configBytesOf, readUseAlphanumericID, setConfigRequest, withUseAlphanumericID } from './system-config.js';
import type { DeviceEndpoint, EnrollOptions, GetOptions, RealtimeLogFilter, UpdateOptions } from './types.js';
import { fromPartialUserInfo, fromUserInfo, toUserInfo, type PartialUser } from './user-info.js';
import { enrollMultiEncoded, UserEncodings } from './user-encodings.js';

/** The port a device listens on unless configured otherwise. */
const DEVICE_PORT = 51211;

/** The subscriber queue asked of the gateway when the caller does not say. */
const DEFAULT_QUEUE_SIZE = 1024;

/** System.GetConfig and SetConfig with the config as bytes, so that fields rollcall does not know survive. */
const rawSystem = {
  getConfig: {
    path: SystemService.getConfig.path,
    requestSerialize: SystemService.getConfig.requestSerialize,
    responseDeserialize: (value: Buffer): Buffer => value,
  },
  setConfig: {
    path: SystemService.setConfig.path,
    requestSerialize: (value: Buffer): Buffer => value,
    responseDeserialize: SystemService.setConfig.responseDeserialize,
  },
};

function realtimeLogRequest(filter: RealtimeLogFilter): { queueSize: number; deviceIDs: number[]; eventCodes: number[] } {
  return {
    queueSize: filter.queueSize ?? DEFAULT_QUEUE_SIZE,
    deviceIDs: [...(filter.deviceIds ?? [])],
    eventCodes: [...(filter.eventCodes ?? [])],
  };
}

export interface GatewayClientOptions {
  /** The open channel; throws ROLLCALL_ERR_GATEWAY_UNAVAILABLE while there is none. */
  channel: () => GatewayChannel;
  /** The largest message sent, which pages of users read with Get stay under too. */
  maxMessageBytes: () => number;
  /** The largest message received (GetList's whole answer must fit); 72 MiB unless told. */
  maxReceiveBytes?: () => number;
  /** Users' UserInfo bytes, encoded once per user object (EnrollMulti); a cache of its own unless given. */
  encodings?: UserEncodings;
  logger: Logger;
}

export class GatewayClient {
  private readonly channel: () => GatewayChannel;
  private readonly maxMessageBytes: () => number;
  private readonly maxReceiveBytes: () => number;
  private readonly encodings: UserEncodings;
  private readonly logger: Logger;

  constructor(options: GatewayClientOptions) {
    this.channel = options.channel;
    this.maxMessageBytes = options.maxMessageBytes;
    this.maxReceiveBytes = options.maxReceiveBytes ?? (() => DEFAULT_MAX_RECEIVE_BYTES);
    this.encodings = options.encodings ?? new UserEncodings();
    this.logger = options.logger;
  }

  // ---------------------------------------------------------------------------
  // gsdk.connect.Connect

  /** Connects the gateway to a device synchronously; resolves with the device's ID. */
  async connect(device: DeviceEndpoint, options?: CallOptions): Promise<number> {
    const response = await this.channel().unary(
      ConnectService.connect,
      { connectInfo: { IPAddr: device.address, port: device.port ?? DEVICE_PORT, useSSL: device.useSSL ?? false } },
      options,
    );
    return response.deviceID;
  }

  /** Has the gateway keep connections to these devices, reconnecting by itself. */
  async addAsyncConnection(devices: readonly (DeviceEndpoint & { deviceId: number })[], options?: CallOptions): Promise<void> {
    const connectInfos = devices.map((device) => ({
      deviceID: device.deviceId,
      IPAddr: device.address,
      port: device.port ?? DEVICE_PORT,
      useSSL: device.useSSL ?? false,
    }));
    await this.channel().unary(ConnectService.addAsyncConnection, { connectInfos }, options, 'default', {
      deviceIds: connectInfos.map((info) => info.deviceID),
    });
  }

  async deleteAsyncConnection(deviceIds: readonly number[], options?: CallOptions): Promise<void> {
    await this.channel().unary(ConnectService.deleteAsyncConnection, { deviceIDs: [...deviceIds] }, options, 'default', { deviceIds });
  }

  /** Which device-to-server devices the gateway lets in (by ID, address or subnet). */
  async getAcceptFilter(options?: CallOptions): Promise<AcceptFilter> {
    return (await this.channel().unary(ConnectService.getAcceptFilter, {}, options)).filter ?? { allowAll: false, deviceIDs: [], IPAddrs: [], subnetMasks: [] };
  }

  /** Replaces the accept filter whole: callers merge with getAcceptFilter first. */
  async setAcceptFilter(filter: AcceptFilter, options?: CallOptions): Promise<void> {
    await this.channel().unary(ConnectService.setAcceptFilter, { filter }, options);
  }

  /** Device-to-server devices that dialled in and wait for the accept filter to let them in. */
  async getPendingList(options?: CallOptions): Promise<PendingDeviceInfo[]> {
    return (await this.channel().unary(ConnectService.getPendingList, {}, options)).deviceInfos;
  }

  /** Devices the gateway knows, with their connection status. */
  async getDeviceList(options?: CallOptions): Promise<DeviceInfo[]> {
    return (await this.channel().unary(ConnectService.getDeviceList, {}, options)).deviceInfos;
  }

  async disconnect(deviceIds: readonly number[], options?: CallOptions): Promise<void> {
    await this.channel().unary(ConnectService.disconnect, { deviceIDs: [...deviceIds] }, options, 'default', { deviceIds });
  }

  /** Connection status changes of every device as they happen, each read through `map`, until cancelled. */
  subscribeStatusAs<T>(map: (change: StatusChange) => T, filter: { queueSize?: number } = {}, options: Pick<CallOptions, 'signal'> = {}): Subscription<T, StatusChange> {
    return this.channel().serverStream(ConnectService.subscribeStatus, { queueSize: filter.queueSize ?? DEFAULT_QUEUE_SIZE }, map, options);
  }

  // ---------------------------------------------------------------------------
  // gsdk.device.Device and gsdk.system.System

  async getInfo(deviceId: number, options?: CallOptions): Promise<FactoryInfo> {
    const response = await this.channel().unary(DeviceService.getInfo, { deviceID: deviceId }, options, 'default', { deviceId });
    return response.info ?? FactoryInfo.fromPartial({});
  }

  async getCapabilityInfo(deviceId: number, options?: CallOptions): Promise<CapabilityInfo> {
    const response = await this.channel().unary(DeviceService.getCapabilityInfo, { deviceID: deviceId }, options, 'default', { deviceId });
    return response.capInfo ?? CapabilityInfo.fromPartial({});
  }

  async getCapability(deviceId: number, options?: CallOptions): Promise<DeviceCapability> {
    const response = await this.channel().unary(DeviceService.getCapability, { deviceID: deviceId }, options, 'default', { deviceId });
    return response.deviceCapability ?? DeviceCapability.fromPartial({});
  }

  /**
   * The device's fingerprint settings (templateFormat, FingerConfig field 5). A device without
   * a fingerprint sensor fails the call (the simulator: UNIMPLEMENTED).
   */
  async getFingerConfig(deviceId: number, options?: CallOptions): Promise<FingerConfig> {
    const response = await this.channel().unary(FingerService.getConfig, { deviceID: deviceId }, options, 'default', { deviceId });
    return response.config ?? FingerConfig.fromPartial({});
  }

  /** SystemConfig.useAlphanumericID of the device. */
  async getUseAlphanumericID(deviceId: number, options?: CallOptions): Promise<boolean> {
    const response = await this.channel().unary(rawSystem.getConfig, { deviceID: deviceId }, options, 'default', { deviceId });
    return readUseAlphanumericID(configBytesOf(response));
  }

  /**
   * Turns alphanumeric user IDs on or off, keeping every other system setting of the device
   * as it was (read, change one field, write back; see system-config.ts).
   */
  async setUseAlphanumericID(deviceId: number, value: boolean, options?: CallOptions): Promise<void> {
    const channel = this.channel();
    const current = configBytesOf(await channel.unary(rawSystem.getConfig, { deviceID: deviceId }, options, 'default', { deviceId }));
    await channel.unary(rawSystem.setConfig, setConfigRequest(deviceId, withUseAlphanumericID(current, value)), options, 'default', { deviceId });
  }

  // ---------------------------------------------------------------------------
  // gsdk.user.User

  /**
   * Headers of every user on the device: IDs, flags and credential counts, in one message
   * (the RPC has no paging). An answer over the receive limit rejects with an error that names
   * the device and `gateway.maxReceiveBytes` (list-limit.ts).
   */
  async getList(deviceId: number, options?: CallOptions): Promise<UserHdr[]> {
    try {
      return (await this.channel().unary(UserService.getList, { deviceID: deviceId }, options, 'long', { deviceId })).hdrs;
    } catch (error) {
      throw listTooLarge(error, deviceId, this.maxReceiveBytes()) ?? error;
    }
  }

  /**
   * Users read whole, in pages that keep each response under the message limit. As the
   * RPC does, an ID the device does not hold fails the call (NOT_FOUND), unless `missing`
   * is 'skip': then a page that fails NOT_FOUND is split until the missing IDs stand alone
   * and are left out; first, one GetStatistic makes sure it is a user that is missing and
   * not the device.
   */
  async get(deviceId: number, userIds: readonly string[], options: CallOptions & GetOptions = {}): Promise<User[]> {
    const users: User[] = [];
    let deviceChecked = false;
    await readInPages(userIds, this.maxMessageBytes(), async (page) => {
      try {
        const response = await this.channel().unary(UserService.get, { deviceID: deviceId, userIDs: page }, options, 'long', { deviceId });
        for (const info of response.users) users.push(fromUserInfo(info));
      } catch (error) {
        if (options.missing !== 'skip' || callCode(error) !== GrpcCode.NOT_FOUND) throw error;
        if (!deviceChecked) {
          await this.getStatistic(deviceId, options);
          deviceChecked = true;
        }
        if (page.length > 1) throw new SplitPage();
      }
    });
    return users;
  }

  /** Parts of users (InfoMask bits): each result has the ID and only the fields asked for. */
  async getPartial(deviceId: number, userIds: readonly string[], infoMask: number, options?: CallOptions): Promise<PartialUser[]> {
    const users: PartialUser[] = [];
    await readInPages(userIds, this.maxMessageBytes(), async (page) => {
      const response = await this.channel().unary(
        UserService.getPartial,
        { deviceID: deviceId, userIDs: page, infoMask },
        options,
        'long',
        { deviceId },
      );
      for (const info of response.users) users.push(fromPartialUserInfo(info, infoMask));
    });
    return users;
  }

  /** Writes users to one device, replacing existing ones unless `overwrite` is false. */
  async enroll(deviceId: number, users: readonly User[], options: CallOptions & EnrollOptions = {}): Promise<void> {
    if (users.length === 0) return;
    await this.channel().unary(
      UserService.enroll,
      { deviceID: deviceId, users: users.map((user) => toUserInfo(user)), overwrite: options.overwrite ?? true },
      options,
      'default',
      { deviceId },
    );
  }

  async enrollMulti(deviceIds: readonly number[], users: readonly User[], options: CallOptions & EnrollOptions = {}): Promise<MultiResult> {
    if (users.length === 0) return multiResult(deviceIds, []);
    return this.multi(enrollMultiEncoded, this.encodings.enrollMulti(deviceIds, users, options.overwrite ?? true), deviceIds, options, 'long');
  }

  /** Updates users in place; `updateMask` says which parts the device keeps. */
  async update(deviceId: number, users: readonly User[], options: CallOptions & UpdateOptions = {}): Promise<void> {
    if (users.length === 0) return;
    const mask = options.updateMask ?? 0;
    await this.channel().unary(UserService.update, { deviceID: deviceId, users: users.map((user) => toUserInfo(user, mask)) }, options, 'default', {
      deviceId,
    });
  }

  async updateMulti(deviceIds: readonly number[], users: readonly User[], options: CallOptions & UpdateOptions = {}): Promise<MultiResult> {
    if (users.length === 0) return multiResult(deviceIds, []);
    const mask = options.updateMask ?? 0;
    return this.multi(
      UserService.updateMulti,
      { deviceIDs: [...deviceIds], users: users.map((user) => toUserInfo(user, mask)) },
      deviceIds,
      options,
      'long',
    );
  }

  async delete(deviceId: number, userIds: readonly string[], options?: CallOptions): Promise<void> {
    if (userIds.length === 0) return;
    await this.channel().unary(UserService.delete, { deviceID: deviceId, userIDs: [...userIds] }, options, 'default', { deviceId });
  }

  async deleteMulti(deviceIds: readonly number[], userIds: readonly string[], options?: CallOptions): Promise<MultiResult> {
    if (userIds.length === 0) return multiResult(deviceIds, []);
    return this.multi(UserService.deleteMulti, { deviceIDs: [...deviceIds], userIDs: [...userIds] }, deviceIds, options, 'long');
  }

  async deleteAll(deviceId: number, options?: CallOptions): Promise<void> {
    await this.channel().unary(UserService.deleteAll, { deviceID: deviceId }, options, 'long', { deviceId });
  }

  async deleteAllMulti(deviceIds: readonly number[], options?: CallOptions): Promise<MultiResult> {
    return this.multi(UserService.deleteAllMulti, { deviceIDs: [...deviceIds] }, deviceIds, options, 'long');
  }

  /**
   * The 32-byte value a device stores for a PIN, computed by the gateway (the algorithm is
   * not public). The plaintext goes only into the request: never into logs or errors.
   */
  async getPINHash(pin: string, options?: CallOptions): Promise<Buffer> {
    return (await this.channel().unary(UserService.getPinHash, { PIN: pin }, options)).hashVal;
  }

  async getStatistic(deviceId: number, options?: CallOptions): Promise<UserStatistic> {
    const response = await this.channel().unary(UserService.getStatistic, { deviceID: deviceId }, options, 'default', { deviceId });
    return response.userStatistic ?? UserStatistic.fromPartial({});
  }

  // ---------------------------------------------------------------------------
  // gsdk.event.Event

  /** Turns on the realtime events of these devices (EnableMonitoringMulti). */
  async enableMonitoring(deviceIds: readonly number[], options?: CallOptions): Promise<MultiResult> {
    return this.multi(EventService.enableMonitoringMulti, { deviceIDs: [...deviceIds] }, deviceIds, options, 'default');
  }

  /** Turns them off again (DisableMonitoringMulti). */
  async disableMonitoring(deviceIds: readonly number[], options?: CallOptions): Promise<MultiResult> {
    return this.multi(EventService.disableMonitoringMulti, { deviceIDs: [...deviceIds] }, deviceIds, options, 'default');
  }

  /** Events from `startEventId` on (inclusive; 0 = the oldest), at most `max` (0 = all). */
  async getLog(deviceId: number, startEventId: number, max: number, options?: CallOptions): Promise<EventLog[]> {
    const response = await this.channel().unary(
      EventService.getLog,
      { deviceID: deviceId, startEventID: startEventId, maxNumOfLog: max },
      options,
      'long',
      { deviceId },
    );
    return response.events;
  }

  /**
   * Events of monitored devices as they happen, until cancelled. Events are dropped when
   * the gateway's queue fills: after an end or a reconnect, catch up with getLog.
   */
  subscribeRealtimeLog(filter: RealtimeLogFilter = {}, options: Pick<CallOptions, 'signal'> = {}): Subscription<EventLog> {
    return this.subscribeRealtimeLogAs((log: EventLog) => log, filter, options);
  }

  /** subscribeRealtimeLog with each event read through `map`. */
  subscribeRealtimeLogAs<T>(map: (log: EventLog) => T, filter: RealtimeLogFilter = {}, options: Pick<CallOptions, 'signal'> = {}): Subscription<T, EventLog> {
    return this.channel().serverStream(EventService.subscribeRealtimeLog, realtimeLogRequest(filter), map, options);
  }

  // ---------------------------------------------------------------------------

  /**
   * A Multi call resolved per device. A failed call whose trailer carries the per-device
   * errors resolves too, with those devices in `failed`; one without that trailer rejects,
   * since then no device is known to have done the operation.
   */
  private async multi<Req>(
    method: MethodDefinition<Req, { deviceErrors: ErrorResponse[] }>,
    request: Req,
    deviceIds: readonly number[],
    options: CallOptions | undefined,
    length: CallLength,
  ): Promise<MultiResult> {
    if (deviceIds.length === 0) return multiResult([], []);
    let result: MultiResult;
    try {
      const response = await this.channel().unary(method, request, options, length, { deviceIds });
      result = multiResult(deviceIds, response.deviceErrors);
    } catch (error) {
      const trailer = callTrailers(error)?.get(STATUS_DETAILS_TRAILER)[0];
      const deviceErrors = Buffer.isBuffer(trailer) ? deviceErrorsFromTrailer(trailer) : undefined;
      if (!deviceErrors || deviceErrors.every((entry) => entry.code === GrpcCode.OK)) throw error;
      result = multiResult(deviceIds, deviceErrors);
      this.logger.debug({ method: (error as RollcallError).detail?.['method'], ok: result.ok, failed: [...result.failed.keys()] }, 'multi call failed on some devices');
    }
    return needsDeviceCheck(result) ? unknownDevicesUnavailable(result, await this.knownDeviceIds(options)) : result;
  }

  /**
   * The devices the gateway has an entry for, to tell a missing user from a missing device
   * (see unknownDevicesUnavailable); undefined when the list cannot be read.
   */
  private async knownDeviceIds(options: CallOptions | undefined): Promise<Set<number> | undefined> {
    try {
      return new Set((await this.getDeviceList(options)).map((info) => info.deviceID));
    } catch (error) {
      this.logger.warn({ err: error }, 'the device list could not be read to check NOT_FOUND answers');
      return undefined;
    }
  }
}
