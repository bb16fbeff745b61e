/**
 * Per-device outcomes of the gateway's Multi calls (spec/gsdk-wire.md §2.6).
 *
 * When any target device fails, the gateway fails the whole call and the response body,
 * with its `deviceErrors`, never arrives. The per-device errors travel instead in the
 * `grpc-status-details-bin` trailer: a serialized google.rpc.Status whose details hold an
 * Any packing err.MultiErrorResponse. V1.5+ gateways name the type gsdk.err.*; the V1.8
 * Node sample still unpacks the V1.4 name err.*, so both are accepted. The top-level code
 * of a failed Multi call is undocumented and is not relied on.
 */
import { Status } from '../../../proto/gen/google/rpc/status.js';
import { MultiErrorResponse, type ErrorResponse } from '../../../proto/gen/gsdk/err.js';
import type { DeviceFailure, MultiOutcome } from '../../../daemon/plugins/api.js';
import { codeName } from './status-code.js';
import { failureReason } from './failure-reason.js';

export const STATUS_DETAILS_TRAILER = 'grpc-status-details-bin';

const MULTI_ERROR_TYPES = ['/gsdk.err.MultiErrorResponse', '/err.MultiErrorResponse'];

export type { DeviceFailure };

/**
 * `ok`: requested devices that did the operation, in request order, without duplicates;
 * `failed`: the devices that failed, by device ID (the contract's MultiOutcome).
 */
export type MultiResult = MultiOutcome;

/**
 * The per-device errors packed in a status-details trailer, or undefined when the trailer
 * does not decode or holds no MultiErrorResponse.
 */
export function deviceErrorsFromTrailer(trailer: Uint8Array): ErrorResponse[] | undefined {
  let decoded: Status;
  try {
    decoded = Status.decode(trailer);
  } catch {
    return undefined;
  }
  for (const detail of decoded.details) {
    if (!MULTI_ERROR_TYPES.some((suffix) => detail.typeUrl.endsWith(suffix))) continue;
    try {
      return MultiErrorResponse.decode(detail.value).deviceErrors;
    } catch {
      // A second Any with the other type name may still decode.
    }
  }
  return undefined;
}

/**
 * Splits the requested devices into those that succeeded and those that failed. An entry
 * with code OK is a success; a failure reported for a device that was not requested is
 * kept, so that nothing the gateway said is dropped.
 */
export function multiResult(deviceIds: readonly number[], deviceErrors: readonly ErrorResponse[]): MultiResult {
  const failed = new Map<number, DeviceFailure>();
  for (const error of deviceErrors) {
    if (error.code === 0 || failed.has(error.deviceID)) continue;
    failed.set(error.deviceID, { reason: failureReason(error.code), code: error.code, codeName: codeName(error.code), message: error.msg });
  }
  const ok = [...new Set(deviceIds)].filter((id) => !failed.has(id));
  return { ok, failed };
}

/**
 * A per-device NOT_FOUND says a user is not on the device, or that the gateway has no entry
 * for the device (as the simulator answers; the docs say neither, spec/gsdk-wire.md §2.6).
 * Only the first is `absent`, which lets the engine count a delete as done. `known` is the
 * gateway's device list: a device missing from it cannot be reached, so its `absent` becomes
 * `unavailable`. Without the list (it could not be read, so the gateway is in trouble) it
 * is `unavailable` too: a try later, never a user split (`unknown` would split the batch).
 */
export function unknownDevicesUnavailable(result: MultiResult, known: ReadonlySet<number> | undefined): MultiResult {
  const failed = new Map<number, DeviceFailure>();
  for (const [deviceId, failure] of result.failed) {
    if (failure.reason !== 'absent' || known?.has(deviceId)) failed.set(deviceId, failure);
    else failed.set(deviceId, { ...failure, reason: 'unavailable' });
  }
  return { ok: result.ok, failed };
}

/** Whether any failure is `absent`, which only the gateway's device list can confirm. */
export function needsDeviceCheck(result: MultiResult): boolean {
  return [...result.failed.values()].some((failure) => failure.reason === 'absent');
}
