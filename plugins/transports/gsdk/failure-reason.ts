/**
 * What a device's per-device gRPC code (from a Multi call's trailer) means to the engine
 * (the contract's FailureReason). Only this transport knows wire numbers; the table of codes,
 * where each comes from and what rollcall does with each is in README.md ("Device failures").
 * The G-SDK docs do not say which code a gateway uses for which case (spec/gsdk-wire.md §2.6),
 * so most rows are guesses that the simulator follows; the README marks them.
 */
import { status } from '@grpc/grpc-js';
import type { FailureReason } from '../../../daemon/plugins/api.js';

/** Every code with a reason of its own; any other code is `unknown`. */
const REASONS: ReadonlyMap<number, FailureReason> = new Map([
  // The device will not take this content: a rule, a template format, an ID it refuses.
  [status.INVALID_ARGUMENT, 'refused'],
  [status.ALREADY_EXISTS, 'refused'],
  [status.FAILED_PRECONDITION, 'refused'],
  [status.OUT_OF_RANGE, 'refused'],
  // A user the call names is not on the device; or the gateway has no entry for the device,
  // which the transport tells apart with the gateway's device list (unknownDevicesUnavailable).
  [status.NOT_FOUND, 'absent'],
  [status.RESOURCE_EXHAUSTED, 'full'],
  // The device or the gateway will not serve the call now, for a reason that is about the
  // link, the gateway or the call, never about one user: back off.
  [status.UNAVAILABLE, 'unavailable'],
  [status.CANCELLED, 'unavailable'],
  [status.ABORTED, 'unavailable'],
  [status.PERMISSION_DENIED, 'unavailable'],
  [status.UNAUTHENTICATED, 'unavailable'],
  [status.UNIMPLEMENTED, 'unavailable'],
  // Ran out of time (the gateway's command timeout, or this client's deadline): smaller batches.
  [status.DEADLINE_EXCEEDED, 'timeout'],
  // UNKNOWN, INTERNAL, DATA_LOSS and codes outside 0..16 are `unknown`: they say nothing
  // about the device, and a device that chokes on one user's content answers that way, so
  // the engine splits the batch to find the user.
]);

/** The codes that are `unknown` by name (any code without an entry above is too). */
export const SPLIT_CODES: readonly number[] = [status.UNKNOWN, status.INTERNAL, status.DATA_LOSS];

export function failureReason(code: number): FailureReason {
  return REASONS.get(code) ?? 'unknown';
}
