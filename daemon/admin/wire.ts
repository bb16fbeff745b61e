/**
 * Names shared by the admin server and its clients beyond the .proto file: trailer and
 * metadata keys (documented in daemon/admin/README.md).
 */

/** Trailer with the stable ROLLCALL_ERR_* code of a refused or failed call. */
export const ERROR_CODE_TRAILER = 'rollcall-error-code';
/** Binary trailer: UTF-8 JSON array of { field, rule, message, userId?, index? }. */
export const ISSUES_TRAILER = 'rollcall-issues-bin';
/** Metadata a client may set to the operator's name; recorded with changes, never trusted for access. */
export const OPERATOR_METADATA = 'rollcall-operator';
