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
  [status.UNAVAILABLE, 'unavailable'],
  [status.DEADLINE_EXCEEDED, 'unavailable'],
]);

export function failureReason(code: number): FailureReason {
  return REASONS.get(code) ?? 'unknown';
}
