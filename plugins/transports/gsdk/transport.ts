/**
 * The gsdk transport: rollcall's device side, a thin adapter over the G-SDK device
 * gateway's gRPC API (spec/gsdk-wire.md). This file is the transport contract of
 * daemon/plugins/api.ts in domain terms (what the sync engine calls) and the channel's
 * lifecycle; the RPCs themselves are methods of `gateway` (gateway-client.ts). The channel
 * underneath makes every call a promise with a deadline, an AbortSignal and metrics.
 * Retrying is the caller's choice (backoff.ts), and so is reconnecting a stream.
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
  PendingDevice,
  PluginContext,
  TransportInstance,
} from '../../../daemon/plugins/api.js';
import type { StatusChange } from '../../../proto/gen/gsdk/connect.js';
import type { EventLog } from '../../../proto/gen/gsdk/event.js';
import { callCode, gatewayInstruments, GatewayChannel, type CallOptions } from './channel.js';
import { channelCredentials, channelOptions } from './credentials.js';
import { listLimitWarning } from './list-limit.js';
import { toDeviceEvent, toDeviceProfile, toDeviceStatusChange, toDeviceUserHeader, toGatewayDevice, toPendingDevice } from './device-views.js';
import { refuseUnlessDeviceGateway } from './gateway-kind.js';
import { GatewayClient } from './gateway-client.js';
import type { MultiResult } from './multi-result.js';
import type { GatewayConfig } from './schema.js';
import { GrpcCode } from './status-code.js';
import type { Subscription } from './subscription.js';
import type { RealtimeLogFilter } from './types.js';
import { UserEncodings } from './user-encodings.js';
import { PIN_HASH_PROBE, pinHashSchemeId, withFittingPinHash } from '../../../daemon/model/pin-provenance.js';

/** How the transport reaches the embedded simulator; the module is loaded only in that mode. */
interface EmbeddedGateway {
  address: string;
  stop(): Promise<void>;
}

export class GsdkTransport implements TransportInstance {
  private readonly logger: Logger;
  private readonly ctx: PluginContext;
  private config: GatewayConfig;
  private channel: GatewayChannel | undefined;
  private embedded: EmbeddedGateway | undefined;
  /** The gateway's PIN hash scheme, learnt once per connection (cleared when the channel leaves READY). */
  private scheme: { id: string } | { pending: Promise<string> } | undefined;
  /** The gateway's RPCs, one method each, over this transport's channel (rejecting while it is not started). */
  readonly gateway: GatewayClient;
  /** Each user sized or sent, encoded once: a batch is sized, then sent to every group of its devices. */
  private readonly encodings = new UserEncodings();

  constructor(ctx: PluginContext, config: GatewayConfig) {
    this.ctx = ctx;
    this.logger = ctx.logger;
    this.config = config;
    this.gateway = new GatewayClient({
      channel: () => this.live(), maxMessageBytes: () => this.config.maxMessageBytes,
      maxReceiveBytes: () => this.config.maxReceiveBytes,
      encodings: this.encodings,
      logger: ctx.logger,
    });
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
    this.forgetSchemeOnReconnect(client);
    this.channel = new GatewayChannel(client, { address, tls: this.config.tls !== undefined }, this.config.deadlines, gatewayInstruments(this.ctx.metrics), this.ctx.instanceId);
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
    this.scheme = undefined;
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

  /**
   * Devices the gateway knows. A gateway that does not serve gsdk.connect.Connect (a master
   * gateway) rejects with ROLLCALL_ERR_GATEWAY_UNSUPPORTED (gateway-kind.ts).
   */
  async listDevices(options?: CallOptions): Promise<GatewayDevice[]> {
    try {
      return (await this.gateway.getDeviceList(options)).map(toGatewayDevice);
    } catch (error) {
      throw await refuseUnlessDeviceGateway(error, this.live(), options);
    }
  }

  /** Adds these IDs to the accept filter, keeping every entry there; a filter that allows all is left alone. */
  async acceptDevices(deviceIds: readonly number[], options?: CallOptions): Promise<number[]> {
    const filter = await this.gateway.getAcceptFilter(options);
    if (filter.allowAll) return [];
    const added = [...new Set(deviceIds)].filter((id) => !filter.deviceIDs.includes(id));
    if (added.length === 0) return [];
    await this.gateway.setAcceptFilter({ ...filter, deviceIDs: [...filter.deviceIDs, ...added] }, options);
    return added;
  }

  async unacceptDevices(deviceIds: readonly number[], options?: CallOptions): Promise<void> {
    const filter = await this.gateway.getAcceptFilter(options);
    const kept = filter.deviceIDs.filter((id) => !deviceIds.includes(id));
    if (kept.length === filter.deviceIDs.length) return;
    await this.gateway.setAcceptFilter({ ...filter, deviceIDs: kept }, options);
  }

  async forgetDevices(deviceIds: readonly number[], options?: CallOptions): Promise<void> {
    if (deviceIds.length > 0) await this.gateway.deleteAsyncConnection(deviceIds, options);
  }

  async pendingDevices(options?: CallOptions): Promise<PendingDevice[]> {
    return (await this.gateway.getPendingList(options)).map(toPendingDevice);
  }

  async connectDevices(devices: { id: number; address: string; port: number; useSSL?: boolean }[], options?: CallOptions): Promise<void> {
    await this.gateway.addAsyncConnection(
      devices.map((device) => ({ deviceId: device.id, address: device.address, port: device.port, useSSL: device.useSSL ?? false })),
      options,
    );
  }

  /** Connection status changes of every device, until cancelled. */
  subscribeStatus(filter: { queueSize?: number } = {}, options: Pick<CallOptions, 'signal'> = {}): Subscription<DeviceStatusChange, StatusChange> {
    return this.gateway.subscribeStatusAs(toDeviceStatusChange, filter, options);
  }

  /**
   * What the device says about itself: model and capacity (GetCapabilityInfo, GetCapability),
   * whether alphanumeric IDs are on (System.GetConfig) and, with a fingerprint sensor, its
   * template format (Finger.GetConfig). A call an older gateway does not
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
      unlessUnimplemented(this.gateway.getCapabilityInfo(deviceId, options)),
      unlessUnimplemented(this.gateway.getCapability(deviceId, options)),
      unlessUnimplemented(this.gateway.getUseAlphanumericID(deviceId, options)),
    ]);
    const profile = toDeviceProfile(capInfo, capability, useAlphanumericID);
    // The template format only where there is a sensor (a device without one fails the call).
    if (capInfo?.fingerSupported !== false) {
      const finger = await unlessUnimplemented(this.gateway.getFingerConfig(deviceId, options));
      if (finger) profile.templateFormat = finger.templateFormat;
    }
    const warning = listLimitWarning(deviceId, profile.maxUsers, this.config.maxReceiveBytes);
    if (warning) this.logger.warn({ device: deviceId, maxUsers: profile.maxUsers, maxReceiveBytes: this.config.maxReceiveBytes }, warning);
    return profile;
  }

  /** User.GetStatistic's numOfUsers: one small answer, whatever the device holds. */
  async userCount(deviceId: number, options?: CallOptions): Promise<number> {
    return (await this.gateway.getStatistic(deviceId, options)).numOfUsers;
  }

  async listUsers(deviceId: number, options?: CallOptions): Promise<DeviceUserHeader[]> {
    return (await this.gateway.getList(deviceId, options)).map(toDeviceUserHeader);
  }

  /**
   * Users read whole; IDs the device does not hold are absent from the result. A PIN hash
   * read from a device is of this gateway's scheme (daemon/model/pin-provenance.ts).
   */
  async getUsers(deviceId: number, ids: readonly string[], options?: CallOptions): Promise<User[]> {
    const users = await this.gateway.get(deviceId, ids, { ...options, missing: 'skip' });
    if (!users.some((user) => user.pinHash !== undefined)) return users;
    const scheme = await this.pinHashScheme(options);
    for (const user of users) if (user.pinHash !== undefined) user.pinHashScheme = scheme;
    return users;
  }

  /**
   * Enroll with overwrite on every device in one call. PIN-PROVENANCE GUARD (issue 13 item 8):
   * a PIN hash made by a gateway of another scheme is left off, since this gateway's devices
   * would never match it; the user goes without a PIN until the plaintext is offered again.
   */
  async enrollUsers(deviceIds: readonly number[], users: readonly User[], options?: CallOptions): Promise<MultiResult> {
    const scheme = users.some((user) => user.pinHash !== undefined && user.pinHashScheme !== undefined) ? await this.pinHashScheme(options) : undefined;
    const sent = scheme === undefined ? users : users.map((user) => withFittingPinHash(user, scheme));
    return this.gateway.enrollMulti(deviceIds, sent, { ...options, overwrite: true });
  }

  async deleteUsers(deviceIds: readonly number[], ids: readonly string[], options?: CallOptions): Promise<MultiResult> {
    return this.gateway.deleteMulti(deviceIds, ids, options);
  }

  /** Turns on the realtime events of these devices (EnableMonitoringMulti). */
  async enableMonitoring(deviceIds: readonly number[], options?: CallOptions): Promise<MultiResult> {
    return this.gateway.enableMonitoring(deviceIds, options);
  }

  /** Events of monitored devices as they happen, until cancelled (see gateway.subscribeRealtimeLog). */
  subscribeEvents(filter: RealtimeLogFilter = {}, options: Pick<CallOptions, 'signal'> = {}): Subscription<DeviceEvent, EventLog> {
    return this.gateway.subscribeRealtimeLogAs(toDeviceEvent, filter, options);
  }

  async readEvents(deviceId: number, fromId: number, max: number, options?: CallOptions): Promise<DeviceEvent[]> {
    return (await this.gateway.getLog(deviceId, fromId, max, options)).map(toDeviceEvent);
  }

  /** getPINHash as base64, the form User.pinHash takes. */
  async hashPin(pin: string, options?: CallOptions): Promise<string> {
    return (await this.gateway.getPINHash(pin, options)).toString('base64');
  }

  /** The gateway's PIN hash scheme id: its hash of a fixed probe PIN, reduced (pin-provenance.ts). Cached per connection. */
  async pinHashScheme(options?: CallOptions): Promise<string> {
    const known = this.scheme;
    if (known !== undefined) return 'id' in known ? known.id : known.pending;
    const pending = this.gateway.getPINHash(PIN_HASH_PROBE, options).then((probe) => pinHashSchemeId(probe));
    const entry = { pending };
    this.scheme = entry;
    try {
      const id = await pending;
      if (this.scheme === entry) this.scheme = { id };
      return id;
    } catch (error) {
      if (this.scheme === entry) this.scheme = undefined;
      throw error;
    }
  }

  /** The scheme id learnt on this connection, if any (no call). */
  get knownPinHashScheme(): string | undefined {
    const known = this.scheme;
    return known !== undefined && 'id' in known ? known.id : undefined;
  }

  encodedSize(user: User): number {
    return this.encodings.size(user);
  }

  // ---------------------------------------------------------------------------

  /**
   * A gateway that reconnects may be another gateway (a switch), so the scheme is asked again:
   * the cache is cleared whenever the channel leaves READY. Watching ends when the channel closes.
   */
  private forgetSchemeOnReconnect(client: grpc.Client): void {
    const channel = client.getChannel();
    const watch = (from: grpc.connectivityState): void => {
      channel.watchConnectivityState(from, Infinity, (error) => {
        if (error) return;
        const now = channel.getConnectivityState(false);
        if (now === grpc.connectivityState.SHUTDOWN) return;
        if (now !== grpc.connectivityState.READY) this.scheme = undefined;
        watch(now);
      });
    };
    watch(channel.getConnectivityState(false));
  }

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
}
