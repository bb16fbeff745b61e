/**
 * The gsdk transport: rollcall's device side, a thin adapter over the G-SDK device
 * gateway's gRPC API (spec/gsdk-wire.md). Two layers of one class: the transport contract
 * of daemon/plugins/api.ts in domain terms (what the sync engine calls), built on thin
 * methods named after the RPCs. The channel underneath makes every call a promise with a
 * deadline, an AbortSignal and metrics. Retrying is the caller's choice (backoff.ts), and
 * so is reconnecting a stream.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { RollcallError } from '../../../daemon/errors.js';
import type { User } from '../../../daemon/model/user.js';
import type {
  DeviceEvent,
  DeviceProfile,
  DeviceStatusChange,
  DeviceUserHeader,
  GatewayDevice,
  HealthReport,
  PluginContext,
  TransportInstance,
} from '../../../daemon/plugins/api.js';
import { ConnectService, type DeviceInfo, type StatusChange } from '../../../proto/gen/gsdk/connect.js';
import {
  CapabilityInfo,
  DeviceCapability,
  DeviceService,
  FactoryInfo,
} from '../../../proto/gen/gsdk/device.js';
import type { ErrorResponse } from '../../../proto/gen/gsdk/err.js';
import { EventService, type EventLog } from '../../../proto/gen/gsdk/event.js';
import { SystemService } from '../../../proto/gen/gsdk/system.js';
import { UserService, UserStatistic, type UserHdr } from '../../../proto/gen/gsdk/user.js';
import {
  callCode,
  callTrailers,
  gatewayInstruments,
  GatewayChannel,
  type CallLength,
  type CallOptions,
  type MethodDefinition,
} from './channel.js';
import { channelCredentials, channelOptions } from './credentials.js';
import { toDeviceEvent, toDeviceProfile, toDeviceStatusChange, toDeviceUserHeader, toGatewayDevice } from './device-views.js';
import {
  deviceErrorsFromTrailer,
  multiResult,
  needsDeviceCheck,
  STATUS_DETAILS_TRAILER,
  unknownDevicesUnavailable,
  type MultiResult,
} from './multi-result.js';
import type { GatewayConfig } from './schema.js';
import { GrpcCode } from './status-code.js';
import type { Subscription } from './subscription.js';
import { configBytesOf, readUseAlphanumericID, setConfigRequest, withUseAlphanumericID } from './system-config.js';
import type { DeviceEndpoint, EnrollOptions, RealtimeLogFilter, UpdateOptions } from './types.js';
import { encodedSize, fromPartialUserInfo, fromUserInfo, toUserInfo, type PartialUser } from './user-info.js';

/** The port a device listens on unless configured otherwise. */
const DEVICE_PORT = 51211;

/**
 * A generous size of one user read back with Get: a 16 KB photo, ten fingers of two 384-byte
 * templates and a ~90 KB face set. Pages of users are sized from it, so a response stays
 * under the message limit; a page that still overflows is split in two.
 */
const HEAVY_USER_BYTES = 128 * 1024;
const MAX_USERS_PER_PAGE = 1000;

/** The subscriber queue asked of the gateway when the caller does not say. */
const DEFAULT_QUEUE_SIZE = 1024;

/** How the transport reaches the embedded simulator; the module is loaded only in that mode. */
interface EmbeddedGateway {
  address: string;
  stop(): Promise<void>;
}

/** Thrown by a page reader to have its page split in two. */
class SplitPage extends Error {}

function realtimeLogRequest(filter: RealtimeLogFilter): { queueSize: number; deviceIDs: number[]; eventCodes: number[] } {
  return {
    queueSize: filter.queueSize ?? DEFAULT_QUEUE_SIZE,
    deviceIDs: [...(filter.deviceIds ?? [])],
    eventCodes: [...(filter.eventCodes ?? [])],
  };
}

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

export class GsdkTransport implements TransportInstance {
  private readonly logger: Logger;
  private readonly ctx: PluginContext;
  private config: GatewayConfig;
  private channel: GatewayChannel | undefined;
  private embedded: EmbeddedGateway | undefined;

  constructor(ctx: PluginContext, config: GatewayConfig) {
    this.ctx = ctx;
    this.logger = ctx.logger;
    this.config = config;
  }

  // ---------------------------------------------------------------------------
  // lifecycle

  /**
   * Opens the channel (starting the embedded simulator first when address is 'embedded').
   * It does not wait for the gateway: `ready()` does, and `health()` tells.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.channel) throw new RollcallError('ROLLCALL_ERR_PLUGIN_FAILED', 'the gsdk transport is already started');
    signal.throwIfAborted();
    let address = this.config.address;
    if (address === 'embedded') {
      this.embedded = await this.startEmbedded();
      address = this.embedded.address;
      if (signal.aborted) {
        await this.stop();
        signal.throwIfAborted();
      }
    }
    let credentials: grpc.ChannelCredentials;
    try {
      credentials = await channelCredentials(this.config.tls);
    } catch (error) {
      await this.stop();
      throw error;
    }
    const client = new grpc.Client(address, credentials, channelOptions(this.config));
    this.channel = new GatewayChannel(client, { address, tls: this.config.tls !== undefined }, this.config.deadlines, gatewayInstruments(this.ctx.metrics));
    // Connect now rather than on the first call, so that readiness settles early.
    this.channel.state(true);
    this.logger.info({ address, tls: this.config.tls !== undefined, embedded: this.embedded !== undefined }, 'gateway channel opened');
  }

  /** Cancels running calls and streams, closes the channel, then the embedded simulator. */
  async stop(): Promise<void> {
    const channel = this.channel;
    const embedded = this.embedded;
    this.channel = undefined;
    this.embedded = undefined;
    channel?.close();
    if (embedded) await embedded.stop();
  }

  /**
   * Ok when the channel is READY, or IDLE (no call for a while) after a last call that did
   * not fail with UNAVAILABLE. A READY channel with a failing device is still ok: the gateway
   * answers UNAVAILABLE for a disconnected device, which is that device's trouble, not the
   * gateway's.
   */
  health(): HealthReport {
    const channel = this.channel;
    if (!channel) return { ok: false, detail: 'not started' };
    const state = channel.state();
    const stateName = grpc.connectivityState[state];
    if (state === grpc.connectivityState.READY) return { ok: true, detail: `gateway ${channel.address} READY` };
    if (state === grpc.connectivityState.IDLE && channel.lastCallCode !== GrpcCode.UNAVAILABLE) {
      return { ok: true, detail: `gateway ${channel.address} IDLE` };
    }
    const last = channel.lastCallCode === GrpcCode.UNAVAILABLE ? ', last call UNAVAILABLE' : '';
    return { ok: false, detail: `gateway ${channel.address} ${stateName}${last}` };
  }

  /** Deadlines change on reload; the other keys need a restart. */
  reload(config: unknown): void {
    this.config = config as GatewayConfig;
    this.channel?.setDeadlines(this.config.deadlines);
  }

  /** Resolves once the gateway is connected; rejects with ROLLCALL_ERR_GATEWAY_UNAVAILABLE. */
  async ready(options: CallOptions = {}): Promise<void> {
    await this.live().ready(options.deadlineMs ?? this.config.deadlines.defaultMs, options.signal);
  }

  /** The address the channel dials (the embedded simulator's loopback port in that mode). */
  get address(): string | undefined {
    return this.channel?.address;
  }

  /** The largest message sent or received; Enroll batches must stay under it. */
  get maxMessageBytes(): number {
    return this.config.maxMessageBytes;
  }

  // ---------------------------------------------------------------------------
  // The transport contract (daemon/plugins/api.ts), in domain terms

  async listDevices(options?: CallOptions): Promise<GatewayDevice[]> {
    return (await this.getDeviceList(options)).map(toGatewayDevice);
  }

  async connectDevices(devices: { id: number; address: string; port: number; useSSL?: boolean }[], options?: CallOptions): Promise<void> {
    await this.addAsyncConnection(
      devices.map((device) => ({ deviceId: device.id, address: device.address, port: device.port, useSSL: device.useSSL ?? false })),
      options,
    );
  }

  /** Connection status changes of every device, until cancelled. */
  subscribeStatus(filter: { queueSize?: number } = {}, options: Pick<CallOptions, 'signal'> = {}): Subscription<DeviceStatusChange, StatusChange> {
    return this.live().serverStream(
      ConnectService.subscribeStatus,
      { queueSize: filter.queueSize ?? DEFAULT_QUEUE_SIZE },
      toDeviceStatusChange,
      options,
    );
  }

  /**
   * What the device says about itself: model and capacity (GetCapabilityInfo, GetCapability)
   * and whether alphanumeric IDs are on (System.GetConfig). A call an older gateway does not
   * serve (UNIMPLEMENTED) leaves its fields absent; any other failure rejects.
   */
  async deviceProfile(deviceId: number, options?: CallOptions): Promise<DeviceProfile> {
    const unlessUnimplemented = async <T>(read: Promise<T>): Promise<T | undefined> => {
      try {
        return await read;
      } catch (error) {
        if (callCode(error) === GrpcCode.UNIMPLEMENTED) return undefined;
        throw error;
      }
    };
    const [capInfo, capability, useAlphanumericID] = await Promise.all([
      unlessUnimplemented(this.getCapabilityInfo(deviceId, options)),
      unlessUnimplemented(this.getCapability(deviceId, options)),
      unlessUnimplemented(this.getUseAlphanumericID(deviceId, options)),
    ]);
    return toDeviceProfile(capInfo, capability, useAlphanumericID);
  }

  async listUsers(deviceId: number, options?: CallOptions): Promise<DeviceUserHeader[]> {
    return (await this.getList(deviceId, options)).map(toDeviceUserHeader);
  }

  /** Users read whole; IDs the device does not hold are absent from the result. */
  async getUsers(deviceId: number, ids: readonly string[], options?: CallOptions): Promise<User[]> {
    return this.readUsers(deviceId, ids, options, 'skip');
  }

  /** Enroll with overwrite on every device in one call. */
  async enrollUsers(deviceIds: readonly number[], users: readonly User[], options?: CallOptions): Promise<MultiResult> {
    return this.enrollMulti(deviceIds, users, { ...options, overwrite: true });
  }

  async deleteUsers(deviceIds: readonly number[], ids: readonly string[], options?: CallOptions): Promise<MultiResult> {
    return this.deleteMulti(deviceIds, ids, options);
  }

  /** Events of monitored devices as they happen, until cancelled (see subscribeRealtimeLog). */
  subscribeEvents(filter: RealtimeLogFilter = {}, options: Pick<CallOptions, 'signal'> = {}): Subscription<DeviceEvent, EventLog> {
    return this.live().serverStream(EventService.subscribeRealtimeLog, realtimeLogRequest(filter), toDeviceEvent, options);
  }

  async readEvents(deviceId: number, fromId: number, max: number, options?: CallOptions): Promise<DeviceEvent[]> {
    return (await this.getLog(deviceId, fromId, max, options)).map(toDeviceEvent);
  }

  /** getPINHash as base64, the form User.pinHash takes. */
  async hashPin(pin: string, options?: CallOptions): Promise<string> {
    return (await this.getPINHash(pin, options)).toString('base64');
  }

  encodedSize(user: User): number {
    return encodedSize(user);
  }

  // ---------------------------------------------------------------------------
  // gsdk.connect.Connect

  /** Connects the gateway to a device synchronously; resolves with the device's ID. */
  async connect(device: DeviceEndpoint, options?: CallOptions): Promise<number> {
    const response = await this.live().unary(
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
    await this.live().unary(ConnectService.addAsyncConnection, { connectInfos }, options, 'default', {
      deviceIds: connectInfos.map((info) => info.deviceID),
    });
  }

  async deleteAsyncConnection(deviceIds: readonly number[], options?: CallOptions): Promise<void> {
    await this.live().unary(ConnectService.deleteAsyncConnection, { deviceIDs: [...deviceIds] }, options, 'default', { deviceIds });
  }

  /** Devices the gateway knows, with their connection status. */
  async getDeviceList(options?: CallOptions): Promise<DeviceInfo[]> {
    return (await this.live().unary(ConnectService.getDeviceList, {}, options)).deviceInfos;
  }

  async disconnect(deviceIds: readonly number[], options?: CallOptions): Promise<void> {
    await this.live().unary(ConnectService.disconnect, { deviceIDs: [...deviceIds] }, options, 'default', { deviceIds });
  }

  // ---------------------------------------------------------------------------
  // gsdk.device.Device and gsdk.system.System

  async getInfo(deviceId: number, options?: CallOptions): Promise<FactoryInfo> {
    const response = await this.live().unary(DeviceService.getInfo, { deviceID: deviceId }, options, 'default', { deviceId });
    return response.info ?? FactoryInfo.fromPartial({});
  }

  async getCapabilityInfo(deviceId: number, options?: CallOptions): Promise<CapabilityInfo> {
    const response = await this.live().unary(DeviceService.getCapabilityInfo, { deviceID: deviceId }, options, 'default', { deviceId });
    return response.capInfo ?? CapabilityInfo.fromPartial({});
  }

  async getCapability(deviceId: number, options?: CallOptions): Promise<DeviceCapability> {
    const response = await this.live().unary(DeviceService.getCapability, { deviceID: deviceId }, options, 'default', { deviceId });
    return response.deviceCapability ?? DeviceCapability.fromPartial({});
  }

  /** SystemConfig.useAlphanumericID of the device. */
  async getUseAlphanumericID(deviceId: number, options?: CallOptions): Promise<boolean> {
    const response = await this.live().unary(rawSystem.getConfig, { deviceID: deviceId }, options, 'default', { deviceId });
    return readUseAlphanumericID(configBytesOf(response));
  }

  /**
   * Turns alphanumeric user IDs on or off, keeping every other system setting of the device
   * as it was (read, change one field, write back; see system-config.ts).
   */
  async setUseAlphanumericID(deviceId: number, value: boolean, options?: CallOptions): Promise<void> {
    const channel = this.live();
    const current = configBytesOf(await channel.unary(rawSystem.getConfig, { deviceID: deviceId }, options, 'default', { deviceId }));
    await channel.unary(rawSystem.setConfig, setConfigRequest(deviceId, withUseAlphanumericID(current, value)), options, 'default', { deviceId });
  }

  // ---------------------------------------------------------------------------
  // gsdk.user.User

  /** Headers of every user on the device: IDs, flags and credential counts. */
  async getList(deviceId: number, options?: CallOptions): Promise<UserHdr[]> {
    return (await this.live().unary(UserService.getList, { deviceID: deviceId }, options, 'long', { deviceId })).hdrs;
  }

  /**
   * Users read whole, in pages that keep each response under the message limit. As the
   * RPC does, an ID the device does not hold fails the call (NOT_FOUND); getUsers skips it.
   */
  async get(deviceId: number, userIds: readonly string[], options?: CallOptions): Promise<User[]> {
    return this.readUsers(deviceId, userIds, options, 'reject');
  }

  /** Parts of users (InfoMask bits): each result has the ID and only the fields asked for. */
  async getPartial(deviceId: number, userIds: readonly string[], infoMask: number, options?: CallOptions): Promise<PartialUser[]> {
    const users: PartialUser[] = [];
    await this.paged(userIds, async (page) => {
      const response = await this.live().unary(
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
    await this.live().unary(
      UserService.enroll,
      { deviceID: deviceId, users: users.map((user) => toUserInfo(user)), overwrite: options.overwrite ?? true },
      options,
      'default',
      { deviceId },
    );
  }

  async enrollMulti(deviceIds: readonly number[], users: readonly User[], options: CallOptions & EnrollOptions = {}): Promise<MultiResult> {
    if (users.length === 0) return multiResult(deviceIds, []);
    return this.multi(
      UserService.enrollMulti,
      { deviceIDs: [...deviceIds], users: users.map((user) => toUserInfo(user)), overwrite: options.overwrite ?? true },
      deviceIds,
      options,
      'long',
    );
  }

  /** Updates users in place; `updateMask` says which parts the device keeps. */
  async update(deviceId: number, users: readonly User[], options: CallOptions & UpdateOptions = {}): Promise<void> {
    if (users.length === 0) return;
    const mask = options.updateMask ?? 0;
    await this.live().unary(UserService.update, { deviceID: deviceId, users: users.map((user) => toUserInfo(user, mask)) }, options, 'default', {
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
    await this.live().unary(UserService.delete, { deviceID: deviceId, userIDs: [...userIds] }, options, 'default', { deviceId });
  }

  async deleteMulti(deviceIds: readonly number[], userIds: readonly string[], options?: CallOptions): Promise<MultiResult> {
    if (userIds.length === 0) return multiResult(deviceIds, []);
    return this.multi(UserService.deleteMulti, { deviceIDs: [...deviceIds], userIDs: [...userIds] }, deviceIds, options, 'long');
  }

  async deleteAll(deviceId: number, options?: CallOptions): Promise<void> {
    await this.live().unary(UserService.deleteAll, { deviceID: deviceId }, options, 'long', { deviceId });
  }

  async deleteAllMulti(deviceIds: readonly number[], options?: CallOptions): Promise<MultiResult> {
    return this.multi(UserService.deleteAllMulti, { deviceIDs: [...deviceIds] }, deviceIds, options, 'long');
  }

  /**
   * The 32-byte value a device stores for a PIN, computed by the gateway (the algorithm is
   * not public). The plaintext goes only into the request: never into logs or errors.
   */
  async getPINHash(pin: string, options?: CallOptions): Promise<Buffer> {
    return (await this.live().unary(UserService.getPinHash, { PIN: pin }, options)).hashVal;
  }

  async getStatistic(deviceId: number, options?: CallOptions): Promise<UserStatistic> {
    const response = await this.live().unary(UserService.getStatistic, { deviceID: deviceId }, options, 'default', { deviceId });
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
    const response = await this.live().unary(
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
    return this.live().serverStream(EventService.subscribeRealtimeLog, realtimeLogRequest(filter), (log: EventLog) => log, options);
  }

  // ---------------------------------------------------------------------------

  private live(): GatewayChannel {
    if (!this.channel) throw new RollcallError('ROLLCALL_ERR_GATEWAY_UNAVAILABLE', 'the gsdk transport is not started');
    return this.channel;
  }

  private async startEmbedded(): Promise<EmbeddedGateway> {
    const { startSimulator, configSchema: simulatorConfig, devicesFromConfig } = await import('../../../simulator/index.js');
    const port = this.config.embedded.port;
    const devices = devicesFromConfig(simulatorConfig.parse({ devices: this.config.embedded.devices, host: '127.0.0.1', port }));
    const simulator = await startSimulator({ devices, host: '127.0.0.1', port });
    this.logger.info({ address: simulator.address, devices: simulator.deviceIds }, 'embedded gateway simulator started');
    return simulator;
  }

  /**
   * Get, page by page. With `missing` = 'skip', a page that fails NOT_FOUND is split until
   * the missing IDs stand alone and are left out; first, one GetStatistic makes sure it is
   * a user that is missing and not the device.
   */
  private async readUsers(
    deviceId: number,
    userIds: readonly string[],
    options: CallOptions | undefined,
    missing: 'skip' | 'reject',
  ): Promise<User[]> {
    const users: User[] = [];
    let deviceChecked = false;
    await this.paged(userIds, async (page) => {
      try {
        const response = await this.live().unary(UserService.get, { deviceID: deviceId, userIDs: page }, options, 'long', { deviceId });
        for (const info of response.users) users.push(fromUserInfo(info));
      } catch (error) {
        if (missing === 'reject' || callCode(error) !== GrpcCode.NOT_FOUND) throw error;
        if (!deviceChecked) {
          await this.getStatistic(deviceId, options);
          deviceChecked = true;
        }
        if (page.length > 1) throw new SplitPage();
      }
    });
    return users;
  }

  /**
   * Calls `read` page by page. Pages start at a size that keeps a response of heavy users
   * under the message limit; a page the gateway or the channel still finds too large
   * (RESOURCE_EXHAUSTED), or that `read` asks to split, is split in two and read again.
   */
  private async paged(userIds: readonly string[], read: (page: string[]) => Promise<void>): Promise<void> {
    const size = Math.max(1, Math.min(MAX_USERS_PER_PAGE, Math.floor(this.config.maxMessageBytes / HEAVY_USER_BYTES)));
    const pages: string[][] = [];
    for (let i = 0; i < userIds.length; i += size) pages.push(userIds.slice(i, i + size));
    for (let page = pages.shift(); page !== undefined; page = pages.shift()) {
      try {
        await read(page);
      } catch (error) {
        const split = error instanceof SplitPage || callCode(error) === GrpcCode.RESOURCE_EXHAUSTED;
        if (!split || page.length === 1) throw error;
        const half = Math.ceil(page.length / 2);
        pages.unshift(page.slice(0, half), page.slice(half));
      }
    }
  }

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
      const response = await this.live().unary(method, request, options, length, { deviceIds });
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
