import { defineSyncMode, everyDevice, sameForEveryDevice } from '../common.js';

/** BioStar's "Not Used": changes wait in the feed until an operator runs `rollcall sync`. */
export default defineSyncMode({
  name: 'manual',
  description: 'Changes wait for an operator\'s sync (BioStar "Not Used"); device-side changes are not merged.',
  targets: everyDevice,
  placementKey: sameForEveryDevice,
  acceptsDeviceChanges: false,
  autoPush: false,
});
