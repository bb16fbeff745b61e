/**
 * Placing a user on a device from the user's summary alone (daemon/model/user-summary.ts),
 * for the expected sets of checks: a check of a large device reads the summaries instead of
 * every whole record. It answers as placement.ts does for the whole record, or says that the
 * record must be read: a record that breaks a rule besides its ID's (not `sound`), a device
 * with limits of its own, or a sync mode that cannot target from a summary.
 *
 * The device copy's counts and what it leaves off are worked out by device-copy.ts itself, on
 * a skeleton of the summary, once per distinct credential make-up: the same rules as for the
 * whole record, at the cost of a map look-up per user. The copy's projection hash is left
 * for later (ExpectedUser.hash absent; ExpectedSets.hashes reads the users that need one).
 */
import type { DeviceRecord } from '../model/device.js';
import { deviceCopy, type LeftOff } from '../model/device-copy.js';
import { skeletonOf, type UserSummary } from '../model/user-summary.js';
import type { SyncModeInstance } from '../plugins/api.js';
import type { DeviceRules } from './placement.js';
import type { ExpectedUser } from './reconcile-diff.js';

export type SummaryPlacement =
  | { place: true; expected: ExpectedUser }
  | { place: false; why: 'not-targeted' | 'rule' }
  /** The summary cannot tell: the whole record must be placed. */
  | { place: 'read' };

export class SummaryPlacer {
  readonly #mode: Pick<SyncModeInstance, 'targetsSummary'>;
  readonly #record: DeviceRecord;
  readonly #rules: DeviceRules;
  /** The expected entry by credential make-up (counts, kinds, PIN and its scheme). */
  readonly #copies = new Map<string, ExpectedUser>();

  constructor(mode: Pick<SyncModeInstance, 'targetsSummary'>, record: DeviceRecord, rules: DeviceRules) {
    this.#mode = mode;
    this.#record = record;
    this.#rules = rules;
  }

  /** Whether summaries can place users for this mode and device at all. */
  static usable(mode: Pick<SyncModeInstance, 'targetsSummary'>, rules: DeviceRules): boolean {
    return mode.targetsSummary !== undefined && (rules.limits === undefined || Object.values(rules.limits).every((v) => v === undefined));
  }

  place(summary: UserSummary): SummaryPlacement {
    if (!this.#mode.targetsSummary!(summary, this.#record)) return { place: false, why: 'not-targeted' };
    if (!summary.sound) return { place: 'read' };
    if (!(this.#rules.alphanumericIds ? summary.alphanumericId : summary.numericId)) return { place: false, why: 'rule' };
    const key = `${summary.cards}.${summary.fingers}.${summary.faces}.${summary.visualFaces}.${summary.pin ? 1 : 0}.${summary.pinHashScheme ?? ''}`;
    let expected = this.#copies.get(key);
    if (!expected) this.#copies.set(key, (expected = this.#expectedOf(summary)));
    return { place: true, expected };
  }

  #expectedOf(summary: UserSummary): ExpectedUser {
    const { holds, site } = this.#rules;
    const skeleton = skeletonOf(summary);
    const { copy, leftOff } = holds ? deviceCopy(skeleton, holds, site) : { copy: skeleton, leftOff: [] as LeftOff[] };
    const expected: ExpectedUser = { cards: copy.cards.length, fingers: copy.fingers.length, faces: copy.faces.length };
    if (leftOff.length > 0) expected.leftOff = leftOff;
    return expected;
  }
}
