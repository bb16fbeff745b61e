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
import { shouldRestoreOnDevice, type DeviceDeleteSetting } from '../merge/deletes.js';

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

/**
 * What placement works out from a user alone (its projection hash, and whether it breaks a
 * rule of devices with given rules), kept for one batch: a batch planned for 100 devices
 * hashes and validates each user once instead of 100 times.
 */
export class PlacementFacts {
  readonly #hashes = new Map<User, string>();
  readonly #issues = new Map<string, Map<User, string>>();

  hash(user: User): string {
    let hash = this.#hashes.get(user);
    if (hash === undefined) {
      hash = deviceProjectionHash(user);
      this.#hashes.set(user, hash);
    }
    return hash;
  }

  readonly #rulesKeys = new WeakMap<DeviceRules, string>();

  /** The broken rules of `user` on a device with `rules`, formatted; '' when none. */
  issues(user: User, rules: DeviceRules): string {
    let key = this.#rulesKeys.get(rules);
    if (key === undefined) {
      key = `${rules.alphanumericIds}:${rules.limits ? JSON.stringify(rules.limits) : ''}`;
      this.#rulesKeys.set(rules, key);
    }
    let byUser = this.#issues.get(key);
    if (!byUser) this.#issues.set(key, (byUser = new Map()));
    let text = byUser.get(user);
    if (text === undefined) {
      const issues = validateUser(user, rules.limits, { alphanumericIds: rules.alphanumericIds });
      text = issues.length > 0 ? formatIssues(issues) : '';
      byUser.set(user, text);
    }
    return text;
  }
}

export function placement(
  user: User,
  device: DeviceRecord,
  mode: Pick<SyncModeInstance, 'targets'>,
  rules: DeviceRules,
  deviceDeletes: DeviceDeleteSetting,
  facts: PlacementFacts = new PlacementFacts(),
): Placement {
  if (!mode.targets(user, device)) return { place: false, why: 'not-targeted' };
  const hash = facts.hash(user);
  const refused = device.rejectedUsers?.[user.id];
  if (refused && refused.hash === hash) return { place: false, why: 'refused', reason: refused.reason, hash };
  const deletedAs = device.deletedAtDevice?.[user.id];
  if (deletedAs !== undefined && !shouldRestoreOnDevice(deviceDeletes, deletedAs !== hash)) {
    return { place: false, why: 'deleted-at-device', reason: 'deleted at the device; kept deleted until the user changes', hash };
  }
  const issues = facts.issues(user, rules);
  if (issues !== '') return { place: false, why: 'rule', reason: issues, hash };
  return { place: true, hash };
}
