/**
 * What the four sync modes share: none takes config, and each is a fixed answer to
 * three questions (ARCHITECTURE §3). They match BioStar 2's Automatic User
 * Synchronization settings (spec/biostar-domain.md §3.1).
 */
import { z } from 'zod';
import type { PluginDefinition, SyncModeInstance } from '../../daemon/plugins/api.js';
import type { User } from '../../daemon/model/user.js';
import type { UserSummary } from '../../daemon/model/user-summary.js';
import type { DeviceRecord } from '../../daemon/model/device.js';

export const emptySchema = z.strictObject({});

export interface SyncModeRules {
  name: string;
  description: string;
  /** Reads the user's ID and access groups only, so that checks can target from user summaries. */
  targets(user: { readonly id: string; readonly accessGroups: readonly number[] }, device: DeviceRecord): boolean;
  /** Devices with the same key are targeted identically. */
  placementKey(device: DeviceRecord): string;
  acceptsDeviceChanges: boolean;
  autoPush: boolean;
}

class SyncMode implements SyncModeInstance {
  readonly #rules: SyncModeRules;
  readonly acceptsDeviceChanges: boolean;
  readonly autoPush: boolean;

  constructor(rules: SyncModeRules) {
    this.#rules = rules;
    this.acceptsDeviceChanges = rules.acceptsDeviceChanges;
    this.autoPush = rules.autoPush;
  }

  targets(user: User, device: DeviceRecord): boolean {
    return this.#rules.targets(user, device);
  }

  targetsSummary(user: UserSummary, device: DeviceRecord): boolean {
    return this.#rules.targets(user, device);
  }

  placementKey(device: DeviceRecord): string {
    return this.#rules.placementKey(device);
  }
}

export function defineSyncMode(rules: SyncModeRules): PluginDefinition<z.infer<typeof emptySchema>, SyncModeInstance> {
  return {
    kind: 'sync-mode',
    name: rules.name,
    description: rules.description,
    configSchema: emptySchema,
    create: () => new SyncMode(rules),
  };
}

/** Every device holds every user. */
export function everyDevice(): boolean {
  return true;
}

/** Every device is targeted alike. */
export function sameForEveryDevice(): string {
  return 'every-device';
}
