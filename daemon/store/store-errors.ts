/** The two errors every store call can raise, built in one place so codes stay stable. */
import { RollcallError } from '../errors.js';

export function storeClosedError(status: string, cause?: unknown): RollcallError {
  return new RollcallError('ROLLCALL_ERR_STORE_CLOSED', `The store is not open (it is ${status})`, {
    cause,
    detail: { status },
  });
}

export function invalidArgumentError(message: string, detail?: Record<string, unknown>): RollcallError {
  return new RollcallError('ROLLCALL_ERR_STORE_INVALID_ARGUMENT', message, detail ? { detail } : undefined);
}

export function corruptRecordError(message: string, cause?: unknown, detail?: Record<string, unknown>): RollcallError {
  return new RollcallError('ROLLCALL_ERR_STORE_CORRUPT', message, { cause, detail });
}
