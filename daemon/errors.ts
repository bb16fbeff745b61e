/**
 * Errors with stable codes (STYLE §7). An operator greps for the code; the table of
 * codes is in README.md ("Error codes"). Add a code here and to that table together.
 */
export const ErrorCodes = {
  ROLLCALL_ERR_CONFIG_INVALID: 'The configuration is invalid',
  ROLLCALL_ERR_CONFIG_NOT_FOUND: 'No configuration file was found',
  ROLLCALL_ERR_PLUGIN_NOT_FOUND: 'A plugin named in the configuration is not installed',
  ROLLCALL_ERR_PLUGIN_INVALID: 'A plugin module does not export a valid definition',
  ROLLCALL_ERR_PLUGIN_START_TIMEOUT: 'A plugin did not start within its time limit',
  ROLLCALL_ERR_PLUGIN_FAILED: 'A plugin threw',
  ROLLCALL_ERR_STORE_CLOSED: 'The store is not open',
  ROLLCALL_ERR_STORE_INVALID_ARGUMENT: 'A store call got an invalid argument',
  ROLLCALL_ERR_STORE_CORRUPT: 'A stored record could not be read',
  ROLLCALL_ERR_USER_INVALID: 'A user breaks a device rule',
  ROLLCALL_ERR_GATEWAY_UNAVAILABLE: 'The device gateway cannot be reached',
  ROLLCALL_ERR_GATEWAY_CALL: 'A device gateway call failed',
  ROLLCALL_ERR_DEVICE: 'A device refused an operation',
  ROLLCALL_ERR_IMPORT_REFUSED: 'A dropped file was refused as a whole',
  ROLLCALL_ERR_IMPORT_ROW: 'A row of an imported file was rejected',
  ROLLCALL_ERR_ARCHIVE_HOSTILE: 'An archive broke a safety rule',
  ROLLCALL_ERR_ADMIN_REQUEST: 'An admin request was invalid',
  ROLLCALL_ERR_ADMIN_SOCKET: 'The admin socket cannot be used (another daemon answers on it, or the path is not a socket)',
  ROLLCALL_ERR_SHUTDOWN_TIMEOUT: 'The daemon did not stop within its deadline',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class RollcallError extends Error {
  readonly code: ErrorCode;
  /** Machine-readable context (paths, device IDs). Never secrets. */
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; detail?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RollcallError';
    this.code = code;
    this.detail = options?.detail;
  }
}

export function isRollcallError(error: unknown, code?: ErrorCode): error is RollcallError {
  return error instanceof RollcallError && (code === undefined || error.code === code);
}
