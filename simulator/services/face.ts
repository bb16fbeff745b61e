import { status } from '@grpc/grpc-js';
import type { FaceConfig, FaceServer } from '../../proto/gen/gsdk/face.js';
import { SimError } from '../sim-error.js';
import type { VirtualDevice } from '../virtual-device.js';
import type { CallScope } from './calls.js';

/** Seconds a face enrollment waits, the published default. */
const DEFAULT_ENROLL_TIMEOUT = 60;

/**
 * The face settings of a device with a face camera. A device without one answers
 * UNIMPLEMENTED, as Finger.GetConfig does without a sensor (device-models.md §3).
 */
export function faceConfig(device: VirtualDevice): FaceConfig {
  if (device.capacity.face === 'none' || device.capacity.maxFacesPerUser === 0) {
    throw new SimError(status.UNIMPLEMENTED, `device ${device.id} has no face camera`);
  }
  return {
    enrollTimeout: DEFAULT_ENROLL_TIMEOUT,
    quickEnrollment: false,
    checkDuplicate: false,
    wideSearch: false,
    // Images are kept: the template-only mode (device-models.md §4.3) is not simulated.
    unableToSaveImageOfVisualFace: false,
  };
}

/** gsdk.face.Face: GetConfig only. */
export function faceService(scope: CallScope): FaceServer {
  return {
    getConfig: scope.unary(async (req, call) => scope.onDevice(req.deviceID, call, (d) => ({ config: faceConfig(d) }))),
  };
}
