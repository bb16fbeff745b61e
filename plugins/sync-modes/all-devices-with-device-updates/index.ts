import { defineSyncMode, everyDevice, sameForEveryDevice } from '../common.js';

/**
 * BioStar 2.7.1's "All Devices (including user update from device)": as all-devices, and
 * users enrolled or edited at a device are merged into the database and sent on.
 */
export default defineSyncMode({
  name: 'all-devices-with-device-updates',
  description: 'Every change goes to every device, and enrollments and edits made at a device are merged and fanned out.',
  targets: everyDevice,
  placementKey: sameForEveryDevice,
  acceptsDeviceChanges: true,
  autoPush: true,
});
