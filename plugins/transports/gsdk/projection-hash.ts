// The device projection hash lives with the model: the sync engine compares with it too.
export { deviceProjectionHash } from '../../../daemon/model/projection.js';
