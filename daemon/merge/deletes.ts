/**
 * Users deleted at a device (ARCHITECTURE §5, spec/biostar-domain.md §3.3).
 *
 * A delete made at a device never deletes from the database, as in BioStar: a device is a
 * replica, and a local admin clearing a terminal must not erase the site's user. What remains
 * to decide is whether that device gets the user back, which the operator sets with
 * `sync.deviceDeletes`.
 */

/**
 * - `restore` (default): the device is a replica; the next reconcile puts the user back.
 * - `keep-deleted`: the device keeps the user deleted until the user changes on the server,
 *   after which the changed user goes to that device like to any other.
 */
export type DeviceDeleteSetting = 'restore' | 'keep-deleted';

export const DEVICE_DELETE_SETTINGS: readonly DeviceDeleteSetting[] = ['restore', 'keep-deleted'];
export const DEFAULT_DEVICE_DELETE_SETTING: DeviceDeleteSetting = 'restore';

/**
 * Whether a device that deleted a user locally should be given the user again.
 *
 * @param userChangedSinceDelete whether the server's user has changed since the device's delete
 *   was seen (a commit of that user with a later seq than the delete event was handled at).
 */
export function shouldRestoreOnDevice(setting: DeviceDeleteSetting, userChangedSinceDelete: boolean): boolean {
  switch (setting) {
    case 'restore':
      return true;
    case 'keep-deleted':
      return userChangedSinceDelete;
  }
}
