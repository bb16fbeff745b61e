/** The errors of a fenced commit whose fence no longer holds, and of a lost import claim (lease-api.ts), built in one place. */
import { RollcallError } from '../errors.js';
import type { ImportRecord } from '../plugins/api.js';
import type { Fence, ImportClaim } from '../plugins/lease-api.js';

export function leaseLostError(broken: readonly Fence[]): RollcallError {
  const ids = broken.map((f) => f.deviceId);
  return new RollcallError('ROLLCALL_ERR_LEASE_LOST', `This instance no longer holds the lease of device${ids.length === 1 ? '' : 's'} ${ids.join(', ')}; the commit was not applied`, {
    detail: { deviceIds: ids, owner: broken[0]?.owner, epochs: broken.map((f) => f.epoch) },
  });
}

/**
 * A device call refused before it was sent (daemon/cluster/leased-transport.ts): by this
 * process's own clock the lease of these devices may have run out (its renewal is overdue).
 */
export function leaseLapsedError(deviceIds: readonly number[]): RollcallError {
  const ids = [...deviceIds];
  return new RollcallError('ROLLCALL_ERR_LEASE_LOST', `This instance's lease of device${ids.length === 1 ? '' : 's'} ${ids.join(', ')} is not surely held any more (its renewal is overdue); the device call was not sent`, {
    detail: { deviceIds: ids },
  });
}

/** The devices whose lease a ROLLCALL_ERR_LEASE_LOST error names. */
export function lostDeviceIds(error: RollcallError): number[] {
  const ids = (error.detail as { deviceIds?: unknown } | undefined)?.deviceIds;
  return Array.isArray(ids) ? ids.filter((id): id is number => typeof id === 'number') : [];
}

/** Throws ROLLCALL_ERR_IMPORT_CLAIMED unless the ledger's record `current` is the one the claim expects. */
export function checkImportClaim(claim: ImportClaim, current: ImportRecord | undefined): void {
  const expect = claim.expect;
  const same =
    expect === undefined
      ? current === undefined
      : current !== undefined && current.state === expect.state && current.startedAt === expect.startedAt && current.claimedBy === expect.claimedBy;
  if (!same) {
    throw new RollcallError('ROLLCALL_ERR_IMPORT_CLAIMED', `The import ledger's record of this content changed (another instance claimed it first); the commit was not applied`, {
      detail: { hash: claim.hash, state: current?.state, claimedBy: current?.claimedBy },
    });
  }
}
