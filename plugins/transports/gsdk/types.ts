/**
 * The public vocabulary of the gsdk transport, beside GsdkTransport itself. Wire messages
 * that callers read as they are (device lists, capabilities, events) are re-exported from
 * the generated code under their G-SDK names, so that no caller imports proto/gen.
 */
export type { CallOptions } from './channel.js';
export type { DeviceFailure, MultiResult } from './multi-result.js';
export type { PartialUser } from './user-info.js';
export type { Subscription } from './subscription.js';
export type { UserHdr, UserStatistic } from '../../../proto/gen/gsdk/user.js';
export { InfoMask, UpdateMask, UserFlag } from '../../../proto/gen/gsdk/user.js';
export type { DeviceInfo, StatusChange } from '../../../proto/gen/gsdk/connect.js';
export { Status as ConnectionStatus, ConnectionMode } from '../../../proto/gen/gsdk/connect.js';
export type { EventLog } from '../../../proto/gen/gsdk/event.js';
export type { CapabilityInfo, DeviceCapability, FactoryInfo } from '../../../proto/gen/gsdk/device.js';
export { Type as DeviceType } from '../../../proto/gen/gsdk/device.js';

/** A device the gateway should connect to (Connect, AddAsyncConnection). */
export interface DeviceEndpoint {
  /** Required for AddAsyncConnection; Connect learns it from the device. */
  deviceId?: number;
  /** IP address of the device. */
  address: string;
  /** The device's port; 51211 by default. */
  port?: number;
  useSSL?: boolean;
}

export interface EnrollOptions {
  /** Replace a user the device already has (default). False makes an existing ID an error. */
  overwrite?: boolean;
}

export interface GetOptions {
  /** What an ID the device does not hold does: fail the call (NOT_FOUND, as the RPC does; default) or be left out. */
  missing?: 'reject' | 'skip';
}

export interface UpdateOptions {
  /** UpdateMask bits: a set bit keeps that part of the stored user. 0 (default) replaces it whole. */
  updateMask?: number;
}

export interface RealtimeLogFilter {
  /** Only these devices; empty or absent: every monitored device. */
  deviceIds?: number[];
  /** Only these event codes; empty or absent: every code. */
  eventCodes?: number[];
  /** The gateway's queue for this subscriber; when it fills, events are dropped (GetLog catches up). */
  queueSize?: number;
}
