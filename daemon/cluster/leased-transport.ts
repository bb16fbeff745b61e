/**
 * The transport as the sync engine calls it: a call about devices goes out only while this
 * instance holds their leases (ClusterMember.holds, on this process's monotonic clock and
 * ending before the store's expiry). It is checked when the call starts and again right before
 * each of its requests is sent (CallOptions.admit: every page of a paged read, every message
 * of a split write), after every await of the work that led to it. A process that was paused
 * (SIGSTOP, a frozen VM) wakes with its clock moved on, so the call it was about to make, or
 * the next page of one under way, is refused (ROLLCALL_ERR_LEASE_LOST) before it reaches a
 * device that another instance may be serving by now. Calls about no device in particular
 * (the gateway's device list, PIN hashes, connection requests) pass through.
 */
import type { CallOptions, TransportInstance } from '../plugins/api.js';
import { leaseLapsedError } from '../store/lease-errors.js';

export interface LeaseHolder {
  holds(deviceId: number): boolean;
}

/** The calls about devices: where their device ID (or IDs) and their options are among the arguments. */
const DEVICE_CALLS = {
  deviceProfile: { devices: 0, options: 1 },
  listUsers: { devices: 0, options: 1 },
  userCount: { devices: 0, options: 1 },
  getUsers: { devices: 0, options: 2 },
  enrollUsers: { devices: 0, options: 2 },
  deleteUsers: { devices: 0, options: 2 },
  enableMonitoring: { devices: 0, options: 1 },
  readEvents: { devices: 0, options: 3 },
} as const satisfies Partial<Record<keyof TransportInstance, { devices: number; options: number }>>;

type DeviceCall = keyof typeof DEVICE_CALLS;

function isDeviceCall(key: PropertyKey): key is DeviceCall {
  return typeof key === 'string' && Object.hasOwn(DEVICE_CALLS, key);
}

/** Throws ROLLCALL_ERR_LEASE_LOST unless every one of `deviceIds` is held. */
export function admitDevices(leases: LeaseHolder, deviceIds: readonly number[]): void {
  const lapsed = deviceIds.filter((id) => !leases.holds(id));
  if (lapsed.length > 0) throw leaseLapsedError(lapsed);
}

export function leasedTransport(transport: TransportInstance, leases: LeaseHolder): TransportInstance {
  // One wrapper per method, made on first use: the engine sizes every user of a batch through
  // encodedSize, and a new bound function per call was garbage by the thousand.
  const wrappers = new Map<PropertyKey, { method: unknown; wrapper: unknown }>();
  const wrap = (target: TransportInstance, key: PropertyKey, method: (...args: unknown[]) => unknown): unknown => {
    if (!isDeviceCall(key)) return method.bind(target);
    const where = DEVICE_CALLS[key];
    return (...args: unknown[]): unknown => {
      const first = args[where.devices];
      const deviceIds = typeof first === 'number' ? [first] : [...(first as readonly number[])];
      try {
        admitDevices(leases, deviceIds);
      } catch (error) {
        return Promise.reject(error);
      }
      const given = args[where.options] as CallOptions | undefined;
      const admit = (): void => {
        given?.admit?.();
        admitDevices(leases, deviceIds);
      };
      const call = [...args];
      call[where.options] = { ...given, admit };
      return method.apply(target, call);
    };
  };
  return new Proxy(transport, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const known = wrappers.get(key);
      if (known?.method === value) return known.wrapper;
      const wrapper = wrap(target, key, value as (...args: unknown[]) => unknown);
      wrappers.set(key, { method: value, wrapper });
      return wrapper;
    },
  });
}
