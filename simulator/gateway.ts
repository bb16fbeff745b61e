import { status } from '@grpc/grpc-js';
import {
  ConnectionMode,
  Status as LinkStatus,
  type AcceptFilter,
  type AsyncConnectInfo,
  type ConnectInfo,
  type DeviceInfo,
  type PendingDeviceInfo,
} from '../proto/gen/gsdk/connect.js';
import type { EventLog } from '../proto/gen/gsdk/event.js';
import { allows } from './accept-filter.js';
import { UserContentPool } from './content-pool.js';
import { DEFAULT_DEVICE_PORT, resolveDeviceSpec, type DeviceSpec } from './device-spec.js';
import { GatewayStreams, type StreamStats } from './gateway-streams.js';
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
 * monitoring, the accept filter (accept-filter.ts), and the two server streams
 * (gateway-streams.ts). The gRPC services are thin shells over this class; the control
 * service drives the same methods a test calls.
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
  /** SubscribeRealtimeLog and SubscribeStatus subscribers; the gateway feeds them. */
  readonly streams: GatewayStreams;
  private nextPosition = 0;

  constructor(options: GatewayOptions) {
    this.realtimeQueueDefault = options.realtimeQueueDefault;
    this.clock = options.clock;
    this.streams = new GatewayStreams(options.realtimeQueueDefault);
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

  stats(): GatewayStats {
    return { ...this.streams.stats(), sharedUserRecords: this.pool.size };
  }

  /** Ends every stream with OK and releases every device. */
  close(): void {
    this.streams.close();
    for (const device of this.devices.values()) device.dispose();
    this.devices.clear();
    this.links.clear();
  }

  // ---- internals

  private deliver(event: EventLog): void {
    if (!this.streams.hasRealtimeSubscribers || !this.isMonitoring(event.deviceID) || !this.isConnected(event.deviceID)) return;
    this.streams.deliver(event);
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
      this.streams.announce({ deviceID: id, status: now, timestamp });
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
