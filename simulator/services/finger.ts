import { status } from '@grpc/grpc-js';
import type { FingerConfig, FingerServer } from '../../proto/gen/gsdk/finger.js';
import { SimError } from '../sim-error.js';
import type { VirtualDevice } from '../virtual-device.js';
import type { CallScope } from './calls.js';

/** Seconds a scan waits, the V1.8 default (finger.Enum DEFAULT_SCAN_TIMEOUT). */
const DEFAULT_SCAN_TIMEOUT = 10;

/**
 * The fingerprint settings of a device with a sensor. A device without one answers
 * UNIMPLEMENTED: clients treat an error from Finger.GetConfig as "no fingerprint"
 * (device-models.md §3); no public source gives the code a real gateway returns.
 */
export function fingerConfig(device: VirtualDevice): FingerConfig {
  if (device.capacity.maxFingerprintsPerUser === 0) {
    throw new SimError(status.UNIMPLEMENTED, `device ${device.id} has no fingerprint sensor`);
  }
  return {
    templateFormat: device.templateFormat,
    scanTimeout: DEFAULT_SCAN_TIMEOUT,
    advancedEnrollment: false,
    showImage: false,
    checkDuplicate: false,
  };
}

/** gsdk.finger.Finger: GetConfig only. */
export function fingerService(scope: CallScope): FingerServer {
  return {
    getConfig: scope.unary(async (req, call) => scope.onDevice(req.deviceID, call, (d) => ({ config: fingerConfig(d) }))),
  };
}
