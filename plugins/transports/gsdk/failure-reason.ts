/**
 * What a device's per-device gRPC code (from a Multi call's trailer) means to the engine
 * (the contract's FailureReason). Only this transport knows wire numbers; the table of codes
 * and what rollcall does with each is in README.md ("Device failures").
 */
import { status } from '@grpc/grpc-js';
import type { FailureReason } from '../../../daemon/plugins/api.js';

const REASONS: ReadonlyMap<number, FailureReason> = new Map([
  // The device will not take this content: a rule, a template format, an ID it refuses.
  [status.INVALID_ARGUMENT, 'refused'],
  [status.ALREADY_EXISTS, 'refused'],
  [status.FAILED_PRECONDITION, 'refused'],
  [status.OUT_OF_RANGE, 'refused'],
  [status.NOT_FOUND, 'absent'],
  [status.RESOURCE_EXHAUSTED, 'full'],
  [status.UNAVAILABLE, 'unavailable'],
  [status.DEADLINE_EXCEEDED, 'unavailable'],
]);

export function failureReason(code: number): FailureReason {
  return REASONS.get(code) ?? 'unknown';
}
