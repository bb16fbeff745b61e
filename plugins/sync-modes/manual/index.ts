import { defineSyncMode, everyDevice } from '../common.js';

/** BioStar's "Not Used": changes wait in the feed until an operator runs `rollcall sync`. */
export default defineSyncMode({
  name: 'manual',
  description: 'Changes wait for an operator\'s sync (BioStar "Not Used"); device-side changes are not merged.',
  targets: everyDevice,
  acceptsDeviceChanges: false,
  autoPush: false,
});
