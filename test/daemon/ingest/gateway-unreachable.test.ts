/** Which hashPin failures the drop folder waits out (the gateway's trouble) and which fail the row. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RollcallError } from '../../../daemon/errors.js';
import { gatewayUnreachable } from '../../../daemon/ingest/pin-hashing.js';

const callError = (reason: string, codeName: string): RollcallError =>
  new RollcallError('ROLLCALL_ERR_GATEWAY_CALL', `gateway call GetPINHash failed: ${codeName}`, { detail: { method: 'GetPINHash', codeName, reason } });

test('an unreachable gateway, or one that did not answer in time, is waited for', () => {
  assert.equal(gatewayUnreachable(new RollcallError('ROLLCALL_ERR_GATEWAY_UNAVAILABLE', 'not started')), true);
  assert.equal(gatewayUnreachable(callError('unavailable', 'UNAVAILABLE')), true);
  assert.equal(gatewayUnreachable(callError('timeout', 'DEADLINE_EXCEEDED')), true);
});

test('any other failure is not', () => {
  assert.equal(gatewayUnreachable(callError('refused', 'INVALID_ARGUMENT')), false);
  assert.equal(gatewayUnreachable(callError('unknown', 'INTERNAL')), false);
  assert.equal(gatewayUnreachable(new Error('boom')), false);
});
