import { defineSyncMode, everyDevice, sameForEveryDevice } from '../common.js';

/** BioStar's "All Devices": every change goes to every device; device-side edits are ignored. */
export default defineSyncMode({
  name: 'all-devices',
  description: 'Every change goes to every device (BioStar "All Devices"); device-side changes are not merged.',
  targets: everyDevice,
  placementKey: sameForEveryDevice,
  acceptsDeviceChanges: false,
  autoPush: true,
});
