import { defineSyncMode } from '../common.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';

/**
 * BioStar's "Specific Devices (only devices belonging to the access group)": a user goes
 * only to devices that serve one of the user's access groups, and is removed from the
 * others. A device that serves no access group holds nobody.
 */
export function servesUser(user: { readonly accessGroups: readonly number[] }, device: DeviceRecord): boolean {
  const served = device.accessGroups;
  if (!served || served.length === 0) return false;
  return user.accessGroups.some((group) => served.includes(group));
}

export default defineSyncMode({
  name: 'access-group-devices',
  description: 'A user goes only to devices serving one of the user\'s access groups, and is removed from the others.',
  targets: servesUser,
  placementKey: (device) => [...new Set(device.accessGroups ?? [])].sort((a, b) => a - b).join(','),
  acceptsDeviceChanges: false,
  autoPush: true,
});
