/**
 * Whether a device should hold a user: the one question the feed planner and reconcile
 * both ask, answered in one place so that they always agree on a device's expected state.
 */
import type { User } from '../model/user.js';
import type { DeviceRecord } from '../model/device.js';
import type { DeviceLimits } from '../model/limits.js';
import type { SyncModeInstance } from '../plugins/api.js';
import { deviceProjectionHash } from '../model/projection.js';
import { deviceCopy, type CopySite, type DeviceHolds, type LeftOff } from '../model/device-copy.js';
import { formatIssues, validateUser } from '../model/validate.js';
import { shouldRestoreOnDevice, type DeviceDeleteSetting } from '../merge/deletes.js';

export interface DeviceRules {
  alphanumericIds: boolean;
  limits?: Partial<DeviceLimits>;
  /** What the device holds per user (device-copy.ts); absent: everything. */
  holds?: DeviceHolds;
  /** Facts of the site that bear on copies (the gateway's PIN hash scheme). */
  site?: CopySite;
  /** holdsShapeId of holds and site: devices of one shape get the same copy of every user. */
  shape?: string;
}

/** The user as a device with these rules gets it: its copy, what was left off, and the copy's projection hash. */
export interface PlacedCopy {
  copy: User;
  leftOff: LeftOff[];
  readonly hash: string;
}

export type Placement =
  /** The device should hold this user as it is now: `copy` (what it can hold of it), whose hash is `hash`. */
  | ({ place: true } & PlacedCopy)
  /** The device should not hold this user (the sync mode does not target it there). */
  | { place: false; why: 'not-targeted' }
  /**
   * The device cannot or must not be given this version: it breaks a device rule, the
   * device refused this very version before, or the user was deleted at the device and
   * `keep-deleted` holds it off. The device is left as it is for this user.
   */
  | { place: false; why: 'rule' | 'refused' | 'deleted-at-device'; reason: string; hash: string };

/**
 * What placement works out from a user and a device shape (the device's copy of the user,
 * its projection hash, and whether it breaks a rule of devices with given rules), kept for
 * one batch: a batch planned for 100 devices of three shapes copies and hashes each user three
 * times, not 100, and devices of one shape are handed the same copy objects, so their plans
 * can share a call.
 */
export class PlacementFacts {
  readonly #copies = new Map<string, Map<User, Placed>>();
  readonly #issues = new Map<string, Map<User, string>>();

  /** The copy of `user` for devices with `rules`. */
  copy(user: User, rules: DeviceRules): Placed {
    const shape = rules.holds ? (rules.shape ?? JSON.stringify([rules.holds, rules.site])) : '';
    let byUser = this.#copies.get(shape);
    if (!byUser) this.#copies.set(shape, (byUser = new Map()));
    let placed = byUser.get(user);
    if (placed === undefined) {
      placed = copyFor(user, rules);
      byUser.set(user, placed);
    }
    return placed;
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
      text = ruleIssues(user, rules);
      byUser.set(user, text);
    }
    return text;
  }
}

/** The broken rules of `user` on a device with `rules`, formatted; '' when none. */
function ruleIssues(user: User, rules: DeviceRules): string {
  const issues = validateUser(user, rules.limits, { alphanumericIds: rules.alphanumericIds });
  return issues.length > 0 ? formatIssues(issues) : '';
}

export function placement(
  user: User,
  device: DeviceRecord,
  mode: Pick<SyncModeInstance, 'targets'>,
  rules: DeviceRules,
  deviceDeletes: DeviceDeleteSetting,
  facts?: PlacementFacts,
): Placement {
  if (!mode.targets(user, device)) return { place: false, why: 'not-targeted' };
  // Without facts (a check's scan of every user): nothing to share, so nothing kept.
  const placed = facts ? facts.copy(user, rules) : copyFor(user, rules);
  // The hash is worked out only when asked (Placed): to compare with a refused or deleted
  // version here, or by a check. A feed batch of users no device refused or deleted needs none.
  const refused = device.rejectedUsers?.[user.id];
  if (refused && refused.hash === placed.hash) return { place: false, why: 'refused', reason: refused.reason, hash: placed.hash };
  const deletedAs = device.deletedAtDevice?.[user.id];
  if (deletedAs !== undefined && !shouldRestoreOnDevice(deviceDeletes, deletedAs !== placed.hash)) {
    return { place: false, why: 'deleted-at-device', reason: 'deleted at the device; kept deleted until the user changes', hash: placed.hash };
  }
  const issues = facts ? facts.issues(placed.copy, rules) : ruleIssues(placed.copy, rules);
  if (issues !== '') return { place: false, why: 'rule', reason: issues, hash: placed.hash };
  return placed;
}

/**
 * The copy of `user` a device with `rules` gets (device-copy.ts) and its projection hash: the
 * one function the feed, checks, repairs and device events use, so they agree on what a device
 * should hold.
 */
export function copyFor(user: User, rules: Pick<DeviceRules, 'holds' | 'site'>): Placed {
  const { copy, leftOff } = rules.holds ? deviceCopy(user, rules.holds, rules.site) : { copy: user, leftOff: [] };
  return new Placed(copy, leftOff);
}

/**
 * A copy as placement hands it out: one object per user and device shape (PlacementFacts), the
 * same for every device of the shape that should hold the user, so a batch planned for many
 * devices allocates nothing per device. Its hash is the sha256 of the copy's projection, worked
 * out on first use only: the feed needs it only for users a device refused or deleted.
 */
export class Placed implements PlacedCopy {
  readonly place = true;
  readonly copy: User;
  readonly leftOff: LeftOff[];
  #hash: string | undefined;

  constructor(copy: User, leftOff: LeftOff[]) {
    this.copy = copy;
    this.leftOff = leftOff;
  }

  get hash(): string {
    return (this.#hash ??= deviceProjectionHash(this.copy));
  }
}
