/**
 * User.GetList answers with every user header of a device in one message (the RPC has no
 * paging), so the channel's receive limit (`gateway.maxReceiveBytes`) bounds the largest
 * device rollcall can check. This sizes that list against the limit and turns grpc-js's own
 * "larger than max" refusal into an error that names the device and the key to raise:
 * a device that cannot be listed is never reported in sync, so this must never be silent.
 */
import { RollcallError } from '../../../daemon/errors.js';
import { callCode } from './channel.js';
import { GrpcCode } from './status-code.js';

/** The config key that sets the limit. */
export const RECEIVE_LIMIT_KEY = 'gateway.maxReceiveBytes';

/**
 * The most one UserHdr takes in a GetList answer: a 32-byte ID and every number at its
 * widest (userFlag, authGroupID, updateMask as 5-byte varints, three small counts), with its
 * tag and length. Numeric IDs take about 12-20 bytes.
 */
export const MAX_HEADER_BYTES = 60;

/** The largest GetList answer a device of `maxUsers` users could send. */
export function largestListBytes(maxUsers: number): number {
  return maxUsers * MAX_HEADER_BYTES;
}

/** grpc-js refuses a message over the channel's receive limit with this (and RESOURCE_EXHAUSTED). */
const OVER_RECEIVE_LIMIT = /larger than max \((\d+) vs\.? (\d+)\)/;

/**
 * The error to throw for a GetList that failed because its answer was over the receive
 * limit, or undefined when `error` is another failure (the gateway's own RESOURCE_EXHAUSTED
 * included: that one is passed on as it is).
 */
export function listTooLarge(error: unknown, deviceId: number, limit: number): RollcallError | undefined {
  if (callCode(error) !== GrpcCode.RESOURCE_EXHAUSTED || !(error instanceof RollcallError)) return undefined;
  const match = OVER_RECEIVE_LIMIT.exec(error.message);
  if (!match) return undefined;
  const received = Number(match[1]);
  return new RollcallError(
    'ROLLCALL_ERR_GATEWAY_CALL',
    `gateway call GetList on device ${deviceId} failed: its user list is ${received} bytes, more than ${RECEIVE_LIMIT_KEY} (${limit} bytes) lets rollcall receive; raise ${RECEIVE_LIMIT_KEY} (a restart applies it) to check this device`,
    {
      cause: error,
      detail: {
        ...error.detail,
        deviceId,
        key: RECEIVE_LIMIT_KEY,
        limit,
        received,
        // Not the device's fault and not a full device: only the config can fix it.
        reason: 'unknown',
      },
    },
  );
}

/** A warning for a device whose user list could outgrow the limit, or undefined when it cannot. */
export function listLimitWarning(deviceId: number, maxUsers: number | undefined, limit: number): string | undefined {
  if (maxUsers === undefined || maxUsers <= 0 || largestListBytes(maxUsers) <= limit) return undefined;
  return `device ${deviceId} holds up to ${maxUsers} users; its user list (GetList) may reach ${largestListBytes(maxUsers)} bytes, more than ${RECEIVE_LIMIT_KEY} (${limit}): a check of this device may fail once it is that full; raise ${RECEIVE_LIMIT_KEY}`;
}
