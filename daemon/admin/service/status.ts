/**
 * The daemon at a glance: Status, ListDevices, SetLogLevel.
 */
import type { DeviceStatus } from '../../sync/engine.js';
import type { ClusterInfo, ListDevicesResponse, SetLogLevelRequest, SetLogLevelResponse, StatusResponse } from '../../../proto/gen/rollcall/admin/v1/admin.js';
import type { ClusterView } from '../../cluster/member.js';
import * as check from '../requests.js';
import { deviceShape, pendingDeviceShape, pendingDevicesOf } from '../shapes/device.js';
import { pluginShape } from '../shapes/plugin.js';
import { callerDetail, type Caller, type RequestContext } from './context.js';

/** This instance and the others on the store, each with the devices it holds (unexpired leases). */
function clusterInfo(view: ClusterView): ClusterInfo {
  const held = new Map<string, number[]>();
  for (const lease of view.leases) {
    if (!lease.live || lease.owner === undefined) continue;
    held.set(lease.owner, [...(held.get(lease.owner) ?? []), lease.deviceId]);
  }
  const instances = view.instances.map((i) => ({ id: i.id, host: i.host, live: i.live, startedAtMs: i.startedAt, seenAtMs: i.seenAt, devices: held.get(i.id) ?? [], self: i.id === view.instanceId }));
  return { instanceId: view.instanceId, shared: view.shared, share: view.target, instances };
}

export class StatusService {
  readonly #c: RequestContext;

  constructor(context: RequestContext) {
    this.#c = context;
  }

  async status(): Promise<StatusResponse> {
    const backend = this.#c.backend;
    const info = backend.daemonInfo();
    const store = backend.store;
    let storeInfo = { open: false, users: 0, seq: 0, foreignPinHashes: 0, pinHashScheme: '' };
    if (store) {
      try {
        // Users whose PIN hash another gateway made (daemon/pin-hash-audit.ts).
        const pins = (await backend.pinHashes?.count()) ?? { scheme: undefined, count: 0 };
        storeInfo = { open: true, users: await store.countUsers(), seq: store.currentSeq(), foreignPinHashes: pins.count, pinHashScheme: pins.scheme ?? '' };
      } catch (error) {
        this.#c.logger.debug({ err: error }, 'status: the store could not be read');
      }
    }
    const engine = backend.engine;
    let devices: DeviceStatus[] = [];
    try {
      devices = engine?.status() ?? [];
    } catch (error) {
      // The engine reads the store's seq; with the store closed, status still answers.
      this.#c.logger.debug({ err: error }, 'status: the sync engine could not report');
    }
    const pending = await engine?.pendingDevices?.();
    return {
      cluster: engine?.cluster ? clusterInfo(engine.cluster()) : undefined,
      pendingDevices: pendingDevicesOf(pending ?? []).map(pendingDeviceShape.toWire),
      pendingKnown: pending !== undefined,
      daemon: {
        state: info.state,
        version: info.version,
        pid: info.pid,
        startedAtMs: info.startedAt,
        configFile: info.configFile ?? '',
        logLevel: backend.logLevel(),
      },
      store: storeInfo,
      sync: {
        running: engine !== undefined,
        mode: engine?.config.mode ?? '',
        devices: devices.length,
        connected: devices.filter((d) => d.connected).length,
        inSync: devices.filter((d) => d.inSync).length,
        pending: devices.reduce((sum, d) => sum + d.pending, 0),
        heldRemovals: devices.filter((d) => d.heldRemoval).length,
        quarantined: devices.filter((d) => d.quarantined).length,
      },
      plugins: info.plugins.map(pluginShape.toWire),
      ready: info.ready,
    };
  }

  async listDevices(): Promise<ListDevicesResponse> {
    const engine = this.#c.engine();
    const devices = engine.status().map(deviceShape.toWire);
    const pending = await engine.pendingDevices?.();
    return { devices, pending: pendingDevicesOf(pending ?? []).map(pendingDeviceShape.toWire), pendingKnown: pending !== undefined };
  }

  setLogLevel(request: SetLogLevelRequest, caller: Caller = {}): SetLogLevelResponse {
    const level = check.logLevel(request.level);
    const previous = this.#c.backend.logLevel();
    this.#c.backend.setLogLevel(level);
    this.#c.logger.info({ level, previous, ...callerDetail(caller) }, `log level set to ${level} (was ${previous}) until the next reload`);
    return { level, previous };
  }
}
