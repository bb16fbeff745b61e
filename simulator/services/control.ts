import { once } from 'node:events';
import { status } from '@grpc/grpc-js';
import type { ControlServer, DeviceSpec as DeviceSpecMessage } from '../../proto/gen/rollcall/sim/v1/sim.js';
import type { UserInfo } from '../../proto/gen/gsdk/user.js';
import { DeviceControl } from '../device-control.js';
import type { DeviceSpec } from '../device-spec.js';
import { SimError, invalidArgument } from '../sim-error.js';
import type { CallScope } from './calls.js';

const DUMP_PAGE_DEFAULT = 1000;

function deviceSpecOf(message: DeviceSpecMessage | undefined): DeviceSpec {
  if (!message || message.deviceID === 0) throw invalidArgument('a device needs a deviceID above 0');
  const mode = message.connectionMode;
  if (mode !== undefined && mode !== 'server-to-device' && mode !== 'device-to-server') {
    throw invalidArgument(`connectionMode must be server-to-device or device-to-server, not ${mode}`);
  }
  const face = message.face;
  if (face !== undefined && face !== 'none' && face !== 'ir' && face !== 'visual') {
    throw invalidArgument(`face must be none, ir or visual, not ${face}`);
  }
  return {
    id: message.deviceID,
    face,
    pin: message.pin,
    type: message.type,
    maxUsers: message.maxUsers,
    templateFormat: message.templateFormat,
    alphanumericID: message.useAlphanumericID,
    alphanumericIDSupported: message.alphanumericIDSupported,
    ipAddr: message.IPAddr,
    port: message.port,
    maxCardsPerUser: message.maxCardsPerUser,
    maxFingerprintsPerUser: message.maxFingerprintsPerUser,
    maxFacesPerUser: message.maxFacesPerUser,
    maxEventLogs: message.maxEventLogs,
    connectionMode: mode,
  };
}

/** rollcall.sim.v1.Control: acts at a device, manages the fleet, injects faults. */
export function controlService(scope: CallScope): ControlServer {
  const { gateway } = scope;
  const control = (deviceId: number): DeviceControl => {
    gateway.requireDevice(deviceId);
    return new DeviceControl(gateway, deviceId);
  };
  const userOf = (user: UserInfo | undefined): UserInfo => {
    if (!user) throw invalidArgument('a user is required');
    return user;
  };

  return {
    listDevices: scope.unary(() => ({
      devices: gateway.deviceIds().map((id) => new DeviceControl(gateway, id).state()),
    })),
    addDevice: scope.unary((req) => {
      const spec = deviceSpecOf(req.device);
      if (spec.alphanumericID === true && spec.alphanumericIDSupported === false) {
        throw invalidArgument('useAlphanumericID needs alphanumericIDSupported');
      }
      const device = gateway.addDevice(spec);
      return { device: new DeviceControl(gateway, device.id).state() };
    }),
    removeDevice: scope.unary((req) => {
      gateway.removeDevice(req.deviceID);
      return {};
    }),
    enrollAtDevice: scope.unary((req) => {
      control(req.deviceID).enrollAtDevice(userOf(req.user));
      return {};
    }),
    updateAtDevice: scope.unary((req) => {
      control(req.deviceID).updateAtDevice(userOf(req.user));
      return {};
    }),
    deleteAtDevice: scope.unary((req) => {
      control(req.deviceID).deleteAtDevice(req.userIDs);
      return {};
    }),
    readCallers: scope.unary((req) => {
      const ids = req.deviceIDs.length > 0 ? req.deviceIDs : scope.callers.deviceIds();
      return { devices: ids.map((deviceID) => ({ deviceID, ...scope.callers.of(deviceID) })) };
    }),
    readUsers: scope.unary((req) => {
      const device = control(req.deviceID);
      return {
        users: req.userIDs.map((id) => {
          const user = device.user(id);
          if (!user) throw new SimError(status.NOT_FOUND, `device ${req.deviceID}: user ${id} not found`);
          return user;
        }),
      };
    }),
    recordEvent: scope.unary((req) => {
      if (req.eventCode > 0xffff || req.subCode > 0xff) throw invalidArgument('eventCode is 16 bits and subCode 8 bits');
      return { event: control(req.deviceID).recordEvent(req) };
    }),
    resetEventLog: scope.unary((req) => ({ event: control(req.deviceID).resetEventLog(req.eventCode ?? 0x4200) })),
    setUserReadFault: scope.unary((req) => {
      control(req.deviceID).setUserReadFault(req.userIDs, req.code);
      return {};
    }),
    refuseMonitoring: scope.unary((req) => {
      control(req.deviceID).refuseMonitoring(req.count, req.code);
      return {};
    }),
    dumpUsers: (call) => {
      const size = call.request.pageSize > 0 ? call.request.pageSize : DUMP_PAGE_DEFAULT;
      const stream = async (): Promise<void> => {
        for (const users of control(call.request.deviceID).userPages(size)) {
          if (call.cancelled) return;
          // Respect the client's pace: a 500k-user dump is never built whole in memory.
          if (!call.write({ users })) await once(call, 'drain');
        }
        call.end();
      };
      stream().catch((error: unknown) => {
        const failure = error instanceof SimError ? error : new SimError(status.INTERNAL, String(error));
        call.emit('error', { code: failure.code, details: failure.message });
      });
    },
    disconnectDevice: scope.unary((req) => {
      control(req.deviceID).disconnect();
      return {};
    }),
    reconnectDevice: scope.unary((req) => {
      control(req.deviceID).reconnect();
      return {};
    }),
    setFault: scope.unary((req) => {
      const { deviceID, ...change } = req;
      return { fault: control(deviceID).setFault(change) };
    }),
    clearFaults: scope.unary((req) => {
      control(req.deviceID).clearFaults();
      return {};
    }),
    setCapacity: scope.unary((req) => {
      const { deviceID, ...change } = req;
      return { device: control(deviceID).setCapacity(change) };
    }),
  };
}
