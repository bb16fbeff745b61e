/** The error of a fenced commit whose fence no longer holds (lease-api.ts), built in one place. */
import { RollcallError } from '../errors.js';
import type { Fence } from '../plugins/lease-api.js';

export function leaseLostError(broken: readonly Fence[]): RollcallError {
  const ids = broken.map((f) => f.deviceId);
  return new RollcallError('ROLLCALL_ERR_LEASE_LOST', `This instance no longer holds the lease of device${ids.length === 1 ? '' : 's'} ${ids.join(', ')}; the commit was not applied`, {
    detail: { deviceIds: ids, owner: broken[0]?.owner, epochs: broken.map((f) => f.epoch) },
  });
}

/** The devices whose lease a ROLLCALL_ERR_LEASE_LOST error names. */
export function lostDeviceIds(error: RollcallError): number[] {
  const ids = (error.detail as { deviceIds?: unknown } | undefined)?.deviceIds;
  return Array.isArray(ids) ? ids.filter((id): id is number => typeof id === 'number') : [];
}
