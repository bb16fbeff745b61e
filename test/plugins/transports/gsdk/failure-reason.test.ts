import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FailureReason } from '../../../../daemon/plugins/api.js';
import { failureReason } from '../../../../plugins/transports/gsdk/failure-reason.js';
import { codeName } from '../../../../plugins/transports/gsdk/status-code.js';

/** Every gRPC code, and a few a gateway should never send, with the reason the engine gets (README "Device failures"). */
const TABLE: Array<[number, FailureReason]> = [
  [0, 'unknown'], // OK is not a failure; multiResult never asks
  [1, 'unavailable'], // CANCELLED (the client gave up; never about a user)
  [2, 'unknown'], // UNKNOWN: split the batch to find the user
  [3, 'refused'], // INVALID_ARGUMENT: a device rule, a template format
  [4, 'timeout'], // DEADLINE_EXCEEDED: smaller batches
  [5, 'absent'], // NOT_FOUND: a user not on the device
  [6, 'refused'], // ALREADY_EXISTS
  [7, 'unavailable'], // PERMISSION_DENIED
  [8, 'full'], // RESOURCE_EXHAUSTED
  [9, 'refused'], // FAILED_PRECONDITION
  [10, 'unavailable'], // ABORTED
  [11, 'refused'], // OUT_OF_RANGE
  [12, 'unavailable'], // UNIMPLEMENTED
  [13, 'unknown'], // INTERNAL: split
  [14, 'unavailable'], // UNAVAILABLE
  [15, 'unknown'], // DATA_LOSS: split
  [16, 'unavailable'], // UNAUTHENTICATED
  [17, 'unknown'],
  [99, 'unknown'],
  [-1, 'unknown'],
];

for (const [code, reason] of TABLE) {
  test(`${codeName(code)} (${code}) is ${reason}`, () => {
    assert.equal(failureReason(code), reason);
  });
}
