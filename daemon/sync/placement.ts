/**
 * Whether a device should hold a user: the one question the feed planner and reconcile
 * both ask, answered in one place so that they always agree on a device's expected state.
 */
import type { User } from '../model/user.js';
import type { DeviceRecord } from '../model/device.js';
import type { DeviceLimits } from '../model/limits.js';
import type { SyncModeInstance } from '../plugins/api.js';
import { deviceProjectionHash } from '../model/projection.js';
import { formatIssues, validateUser } from '../model/validate.js';

export interface DeviceRules {
  alphanumericIds: boolean;
  limits?: Partial<DeviceLimits>;
}

export type Placement =
  /** The device should hold this user as it is now. */
  | { place: true; hash: string }
  /** The device should not hold this user (the sync mode does not target it there). */
  | { place: false; why: 'not-targeted' }
  /**
   * The device cannot or must not be given this version: it breaks a device rule, the
   * device refused this very version before, or the user was deleted at the device and
   * `keep-deleted` holds it off. The device is left as it is for this user.
   */
  | { place: false; why: 'rule' | 'refused' | 'deleted-at-device'; reason: string; hash: string };

export function placement(
  user: User,
  device: DeviceRecord,
  mode: Pick<SyncModeInstance, 'targets'>,
  rules: DeviceRules,
  deviceDeletes: 'restore' | 'keep-deleted',
): Placement {
  if (!mode.targets(user, device)) return { place: false, why: 'not-targeted' };
  const hash = deviceProjectionHash(user);
  const refused = device.rejectedUsers?.[user.id];
  if (refused && refused.hash === hash) return { place: false, why: 'refused', reason: refused.reason, hash };
  if (deviceDeletes === 'keep-deleted' && device.deletedAtDevice?.[user.id] === hash) {
    return { place: false, why: 'deleted-at-device', reason: 'deleted at the device; kept deleted until the user changes', hash };
  }
  const issues = validateUser(user, rules.limits, { alphanumericIds: rules.alphanumericIds });
  if (issues.length > 0) return { place: false, why: 'rule', reason: formatIssues(issues), hash };
  return { place: true, hash };
}
