import { Metadata, status, type ServerWritableStream } from '@grpc/grpc-js';
import {
  ConnectionMode,
  Status as LinkStatus,
  type AcceptFilter,
  type AsyncConnectInfo,
  type ConnectInfo,
  type DeviceInfo,
  type PendingDeviceInfo,
  type StatusChange,
} from '../proto/gen/gsdk/connect.js';
import type { EventLog } from '../proto/gen/gsdk/event.js';
import { BoundedStream } from './bounded-stream.js';
import { UserContentPool } from './content-pool.js';
import { DEFAULT_DEVICE_PORT, resolveDeviceSpec, type DeviceSpec } from './device-spec.js';
import { SimError, invalidArgument } from './sim-error.js';
import { VirtualDevice } from './virtual-device.js';

/** The gateway's side of a device connection. */
interface Link {
  mode: ConnectionMode;
  /** True for asynchronous connections (the gateway keeps reconnecting). */
  autoReconnect: boolean;
  useSSL: boolean;
  /** The address the gateway dials (or the device dialled from). */
  ipAddr: string;
  port: number;
  /** EnableMonitoring state; lost when the connection drops, as the V1.8 samples expect. */
  monitoring: boolean;
}

interface RealtimeSubscription {
  stream: BoundedStream<EventLog>;
  deviceIds: ReadonlySet<number> | undefined;
  eventCodes: ReadonlySet<number> | undefined;
}

export interface StreamStats {
  delivered: number;
  dropped: number;
}

export interface GatewayStats {
  realtime: StreamStats;
  status: StreamStats;
  /** Distinct user records held in the shared content pool. */
  sharedUserRecords: number;
}

export interface GatewayOptions {
  /** Queue length for a subscription that asks for queueSize 0. */
  realtimeQueueDefault: number;
  /** Unix seconds, for event and status timestamps. */
  clock: () => number;
}

/**
 * The simulated device gateway: the virtual devices, the gateway's connections to them,
 * monitoring, the accept filter, and the two server streams. The gRPC services are thin
 * shells over this class; the control service drives the same methods a test calls.
 */
export class SimulatedGateway {
  readonly pool = new UserContentPool();
  readonly clock: () => number;
  readonly realtimeQueueDefault: number;
  private readonly devices = new Map<number, VirtualDevice>();
  private readonly links = new Map<number, Link>();
  /** Device-to-server devices the gateway dropped; they stay out until they reconnect. */
  private readonly refused = new Set<number>();
  private readonly lastTry = new Map<number, number>();
  private filter: AcceptFilter = { allowAll: false, deviceIDs: [], IPAddrs: [], subnetMasks: [] };
  private readonly realtime = new Set<RealtimeSubscription>();
  private readonly statusStreams = new Set<BoundedStream<StatusChange>>();
  private readonly counts = { realtime: { delivered: 0, dropped: 0 }, status: { delivered: 0, dropped: 0 } };
  private nextPosition = 0;

  constructor(options: GatewayOptions) {
    this.realtimeQueueDefault = options.realtimeQueueDefault;
    this.clock = options.clock;
  }

  // ---- devices

  device(id: number): VirtualDevice | undefined {
    return this.devices.get(id);
  }

  deviceIds(): number[] {
    return [...this.devices.keys()];
  }

  allDevices(): IterableIterator<VirtualDevice> {
    return this.devices.values();
  }

  /** Adds a virtual device. A server-to-device one is connected at once; a device-to-server one dials in. */
  addDevice(spec: DeviceSpec): VirtualDevice {
    if (this.devices.has(spec.id)) throw new SimError(status.ALREADY_EXISTS, `device ${spec.id} already exists`);
    const resolved = resolveDeviceSpec(spec, this.nextPosition);
    this.nextPosition += 1;
    const device = new VirtualDevice(resolved, this.pool, this.clock, (event) => this.deliver(event));
    this.devices.set(device.id, device);
    if (resolved.connectionMode === 'server-to-device') {
      this.changeLinks([device.id], () => {
        this.links.set(device.id, {
          mode: ConnectionMode.SERVER_TO_DEVICE,
          autoReconnect: true,
          useSSL: false,
          ipAddr: device.ipAddr,
          port: device.port,
          monitoring: false,
        });
      });
    } else {
      this.admitWaiting();
    }
    return device;
  }

  removeDevice(id: number): void {
    const device = this.requireDevice(id);
    this.changeLinks([id], () => {
      this.devices.delete(id);
      this.links.delete(id);
    });
    this.refused.delete(id);
    this.lastTry.delete(id);
    device.dispose();
  }

  requireDevice(id: number): VirtualDevice {
    const device = this.devices.get(id);
    if (!device) throw new SimError(status.NOT_FOUND, `device ${id} does not exist`);
    return device;
  }

  // ---- the gateway's connections

  linkStatus(id: number): LinkStatus {
    const link = this.links.get(id);
    if (!link) return LinkStatus.DISCONNECTED;
    const device = this.devices.get(id);
    if (!device || !addressMatches(link, device)) return LinkStatus.TCP_CANNOT_CONNECT;
    if (!device.online) return LinkStatus.DISCONNECTED;
    return link.useSSL ? LinkStatus.TLS_CONNECTED : LinkStatus.TCP_CONNECTED;
  }

  isConnected(id: number): boolean {
    const state = this.linkStatus(id);
    return state === LinkStatus.TCP_CONNECTED || state === LinkStatus.TLS_CONNECTED;
  }

  /**
   * The device a gsdk call addresses: NOT_FOUND when the gateway has no connection entry for
   * it, UNAVAILABLE when the entry exists but the device cannot be reached.
   */
  reach(id: number): VirtualDevice {
    const link = this.links.get(id);
    if (!link) throw new SimError(status.NOT_FOUND, `device ${id} is not connected to the gateway`);
    const device = this.devices.get(id);
    if (!device || !this.isConnected(id)) throw new SimError(status.UNAVAILABLE, `device ${id} is disconnected`);
    return device;
  }

  /** Connect (synchronous): finds the device at IPAddr:port. */
  connect(info: ConnectInfo): number {
    const port = info.port === 0 ? DEFAULT_DEVICE_PORT : info.port;
    const device = [...this.devices.values()].find((d) => d.ipAddr === info.IPAddr && d.port === port);
    if (!device || !device.online) {
      throw new SimError(status.UNAVAILABLE, `cannot connect to ${info.IPAddr}:${port}`);
    }
    this.changeLinks([device.id], () => {
      this.links.set(device.id, {
        mode: ConnectionMode.SERVER_TO_DEVICE,
        autoReconnect: false,
        useSSL: info.useSSL,
        ipAddr: device.ipAddr,
        port,
        monitoring: this.links.get(device.id)?.monitoring ?? false,
      });
    });
    return device.id;
  }

  addAsyncConnections(infos: readonly AsyncConnectInfo[]): void {
    for (const info of infos) {
      if (info.deviceID === 0) throw invalidArgument('an asynchronous connection needs a device ID');
    }
    this.changeLinks(
      infos.map((i) => i.deviceID),
      () => {
        for (const info of infos) {
          this.links.set(info.deviceID, {
            mode: ConnectionMode.SERVER_TO_DEVICE,
            autoReconnect: true,
            useSSL: info.useSSL,
            ipAddr: info.IPAddr,
            port: info.port === 0 ? DEFAULT_DEVICE_PORT : info.port,
            monitoring: false,
          });
        }
      },
    );
  }

  deleteAsyncConnections(ids: readonly number[]): void {
    this.changeLinks(ids, () => {
      for (const id of ids) {
        if (this.links.get(id)?.autoReconnect) this.links.delete(id);
      }
    });
  }

  /** Disconnect: the gateway drops its entries for these devices. NOT_FOUND if one has none. */
  disconnect(ids: readonly number[]): void {
    for (const id of ids) {
      if (!this.links.has(id)) throw new SimError(status.NOT_FOUND, `device ${id} is not connected to the gateway`);
    }
    this.changeLinks(ids, () => {
      for (const id of ids) this.dropLink(id);
    });
  }

  disconnectAll(): void {
    const ids = [...this.links.keys()];
    this.changeLinks(ids, () => {
      for (const id of ids) this.dropLink(id);
    });
  }

  deviceList(): DeviceInfo[] {
    return [...this.links.entries()].map(([id, link]) => ({
      deviceID: id,
      connectionMode: link.mode,
      IPAddr: link.ipAddr,
      port: link.port,
      status: this.linkStatus(id),
      autoReconnect: link.autoReconnect,
      useSSL: link.useSSL,
      type: this.devices.get(id)?.type ?? 0,
    }));
  }

  pendingList(): PendingDeviceInfo[] {
    return this.waiting().map((device) => ({
      deviceID: device.id,
      IPAddr: device.ipAddr,
      lastTry: this.lastTry.get(device.id) ?? this.clock(),
      type: device.type,
    }));
  }

  get acceptFilter(): AcceptFilter {
    return structuredClone(this.filter);
  }

  setAcceptFilter(filter: AcceptFilter): void {
    this.filter = structuredClone(filter);
    this.admitWaiting();
  }

  // ---- the network (control service)

  takeOffline(id: number): void {
    const device = this.requireDevice(id);
    this.changeLinks([id], () => {
      device.online = false;
    });
    this.refused.delete(id);
  }

  bringOnline(id: number): void {
    const device = this.requireDevice(id);
    this.changeLinks([id], () => {
      device.online = true;
    });
    this.admitWaiting();
  }

  // ---- monitoring and streams

  setMonitoring(id: number, on: boolean): void {
    const link = this.links.get(id);
    if (link) link.monitoring = on;
  }

  isMonitoring(id: number): boolean {
    return this.links.get(id)?.monitoring ?? false;
  }

  subscribeRealtime(
    call: ServerWritableStream<unknown, EventLog>,
    queueSize: number,
    deviceIds: readonly number[],
    eventCodes: readonly number[],
  ): void {
    const subscription: RealtimeSubscription = {
      stream: new BoundedStream(call, queueSize > 0 ? queueSize : this.realtimeQueueDefault),
      deviceIds: deviceIds.length > 0 ? new Set(deviceIds) : undefined,
      eventCodes: eventCodes.length > 0 ? new Set(eventCodes) : undefined,
    };
    this.realtime.add(subscription);
    const forget = (): void => {
      this.realtime.delete(subscription);
    };
    call.on('cancelled', forget);
    call.on('close', forget);
    // Headers now tell the client the subscription is live: events from here on reach it.
    call.sendMetadata(new Metadata());
  }

  subscribeStatus(call: ServerWritableStream<unknown, StatusChange>, queueSize: number): void {
    const stream = new BoundedStream(call, queueSize > 0 ? queueSize : this.realtimeQueueDefault);
    this.statusStreams.add(stream);
    const forget = (): void => {
      this.statusStreams.delete(stream);
    };
    call.on('cancelled', forget);
    call.on('close', forget);
    call.sendMetadata(new Metadata());
  }

  stats(): GatewayStats {
    return {
      realtime: { ...this.counts.realtime },
      status: { ...this.counts.status },
      sharedUserRecords: this.pool.size,
    };
  }

  /** Ends every stream with OK and releases every device. */
  close(): void {
    for (const subscription of this.realtime) subscription.stream.end();
    for (const stream of this.statusStreams) stream.end();
    this.realtime.clear();
    this.statusStreams.clear();
    for (const device of this.devices.values()) device.dispose();
    this.devices.clear();
    this.links.clear();
  }

  // ---- internals

  private deliver(event: EventLog): void {
    if (this.realtime.size === 0 || !this.isMonitoring(event.deviceID) || !this.isConnected(event.deviceID)) return;
    for (const { stream, deviceIds, eventCodes } of this.realtime) {
      if (deviceIds && !deviceIds.has(event.deviceID)) continue;
      if (eventCodes && !eventCodes.has(event.eventCode)) continue;
      if (stream.offer(event)) this.counts.realtime.delivered += 1;
      else if (!stream.isClosed) this.counts.realtime.dropped += 1;
    }
  }

  private dropLink(id: number): void {
    const link = this.links.get(id);
    if (!link) return;
    this.links.delete(id);
    if (link.mode === ConnectionMode.DEVICE_TO_SERVER) this.refused.add(id);
  }

  /** Runs a change and announces every status it changed on the status streams. */
  private changeLinks(ids: readonly number[], change: () => void): void {
    const before = new Map(ids.map((id) => [id, this.linkStatus(id)]));
    change();
    const timestamp = this.clock();
    for (const [id, previous] of before) {
      const now = this.linkStatus(id);
      if (now === previous) continue;
      const link = this.links.get(id);
      if (link && !this.isConnected(id)) link.monitoring = false;
      this.announce({ deviceID: id, status: now, timestamp });
    }
  }

  private announce(change: StatusChange): void {
    for (const stream of this.statusStreams) {
      if (stream.offer(change)) this.counts.status.delivered += 1;
      else if (!stream.isClosed) this.counts.status.dropped += 1;
    }
  }

  private waiting(): VirtualDevice[] {
    return [...this.devices.values()].filter(
      (d) => d.connectionMode === 'device-to-server' && d.online && !this.links.has(d.id) && !this.refused.has(d.id),
    );
  }

  /** Device-to-server devices dial in; those the accept filter allows become connections. */
  private admitWaiting(): void {
    const now = this.clock();
    for (const device of this.waiting()) {
      this.lastTry.set(device.id, now);
      if (!allows(this.filter, device)) continue;
      this.changeLinks([device.id], () => {
        this.links.set(device.id, {
          mode: ConnectionMode.DEVICE_TO_SERVER,
          autoReconnect: false,
          useSSL: false,
          ipAddr: device.ipAddr,
          port: device.port,
          monitoring: false,
        });
      });
    }
  }
}

function addressMatches(link: Link, device: VirtualDevice): boolean {
  return link.ipAddr === '' || (link.ipAddr === device.ipAddr && link.port === device.port);
}

export function allows(filter: AcceptFilter, device: { id: number; ipAddr: string }): boolean {
  if (filter.allowAll) return true;
  if (filter.deviceIDs.includes(device.id)) return true;
  return filter.IPAddrs.some((address, i) => ipMatches(device.ipAddr, address, filter.subnetMasks[i] ?? '255.255.255.255'));
}

function ipMatches(ip: string, network: string, mask: string): boolean {
  const a = ipv4(ip);
  const b = ipv4(network);
  const m = ipv4(mask);
  if (a === undefined || b === undefined || m === undefined) return ip === network;
  return ((a & m) >>> 0) === ((b & m) >>> 0);
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    const n = Number(part);
    if (!/^\d{1,3}$/.test(part) || n > 255) return undefined;
    value = (value << 8) | n;
  }
  return value >>> 0;
}
