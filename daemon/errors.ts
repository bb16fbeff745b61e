/**
 * Errors with stable codes (STYLE §7, §17). An operator greps for the code. The table of
 * codes in README.md ("Error codes") is made from this one (`npm run readme`; a test
 * compares them), so a code and its meaning are written here only.
 */
export const ErrorCodes = {
  ROLLCALL_ERR_CONFIG_INVALID: 'The configuration is invalid; the message lists every problem with its path',
  ROLLCALL_ERR_CONFIG_NOT_FOUND: 'The file given with `--config` does not exist',
  ROLLCALL_ERR_PLUGIN_NOT_FOUND: 'A plugin named in the config is not installed or not known',
  ROLLCALL_ERR_PLUGIN_INVALID: 'A plugin package does not export a valid definition',
  ROLLCALL_ERR_PLUGIN_START_TIMEOUT: 'A plugin did not start within `plugins.startTimeoutMs`',
  ROLLCALL_ERR_PLUGIN_FAILED: 'A plugin threw; the log line names its kind and name',
  ROLLCALL_ERR_STORE_CLOSED: 'The store was used while not open',
  ROLLCALL_ERR_STORE_INVALID_ARGUMENT: 'A store call got an invalid argument',
  ROLLCALL_ERR_STORE_CORRUPT: 'A stored record could not be read, or its checksum does not match: the message names the key (never the data); nothing read from it is served or pushed. Run `rollcall store repair` with the daemon stopped',
  ROLLCALL_ERR_STORE_DAMAGED: 'The LevelDB directory is missing a file (CURRENT, a table) or holds a damaged one: the daemon refuses to start (exit 65, not restarted) and deletes nothing. Run `rollcall store repair` with the daemon stopped',
  ROLLCALL_ERR_STORE_UNAVAILABLE: 'The database server of the store (PostgreSQL) cannot be reached, refused the login, or lost the connection; the message names host, port, database and user (never the password). The store reconnects with backoff and /readyz says not ready meanwhile',
  ROLLCALL_ERR_STORE_VERSION: 'The store is newer than this rollcall knows (a PostgreSQL schema a newer rollcall migrated, or a LevelDB store of a newer format: a downgrade): the store refuses to start (exit 65) and changes nothing. Run the newer rollcall, or restore the copy of the state taken before the upgrade',
  ROLLCALL_ERR_LEASE_LOST: 'A commit for a device was refused inside its transaction, or a call to the device before it was sent: this instance no longer holds the device\'s lease (it expired, or another instance took it with a newer epoch), or by its own clock cannot be sure it still does (its renewal is overdue, as after a pause). Nothing of the commit was applied, nothing of the call reached the device, and the instance stops serving the device',
  ROLLCALL_ERR_IMPORT_CLAIMED: 'Another instance sharing the store claimed the same file content in the import ledger first; this instance waits for it and does not import the file twice',
  ROLLCALL_ERR_USER_INVALID: 'A user breaks a device rule; the detail names each field and rule',
  ROLLCALL_ERR_GATEWAY_UNAVAILABLE: 'The device gateway cannot be reached',
  ROLLCALL_ERR_GATEWAY_UNSUPPORTED: 'The address in `gateway.address` answers, but not as a G-SDK device gateway (a master gateway, or another gRPC server): the daemon refuses to start, or stops once an address unreachable at start answers so (exit 78); only the device gateway is supported',
  ROLLCALL_ERR_GATEWAY_CALL: 'A gateway call failed; the detail has the method, gRPC code and device',
  ROLLCALL_ERR_DEVICE: 'A device refused an operation',
  ROLLCALL_ERR_IMPORT_REFUSED: 'A dropped file was refused as a whole, with the reason',
  ROLLCALL_ERR_IMPORT_ROW: 'A row of an imported file reached the merge in a form it cannot apply (a PIN not hashed yet); that row is rejected',
  ROLLCALL_ERR_ARCHIVE_HOSTILE: 'An archive broke a safety rule (path, link, size, ratio)',
  ROLLCALL_ERR_ADMIN_REQUEST: 'An admin request was invalid; the message names the field',
  ROLLCALL_ERR_ADMIN_FORBIDDEN: 'The caller (known by its uid from the kernel) may not use this admin command: changes need the operators\' group',
  ROLLCALL_ERR_ADMIN_SOCKET: 'The admin socket cannot be used: another daemon answers on it, or the path is not a socket',
  ROLLCALL_ERR_SHUTDOWN_TIMEOUT: 'The daemon did not stop within `shutdown.timeoutMs`',
  ROLLCALL_ERR_SHUTDOWN_LINGER: 'The daemon stopped, but a handle still held the process (a leak, logged with what it is); it exited anyway',
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
