import { Metadata, status } from '@grpc/grpc-js';
import { Any } from '../proto/gen/google/protobuf/any.js';
import { Status } from '../proto/gen/google/rpc/status.js';
import { MultiErrorResponse, type ErrorResponse } from '../proto/gen/gsdk/err.js';

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
/** The type URL clients built from the V1.5+ protos match (C#, Java, Go samples). */
export const MULTI_ERROR_TYPE_URL = 'type.googleapis.com/gsdk.err.MultiErrorResponse';
/** The type URL the V1.8 Node sample matches (a leftover of the V1.4 package name). */
export const LEGACY_MULTI_ERROR_TYPE_URL = 'type.googleapis.com/err.MultiErrorResponse';

export interface MultiFailure {
  code: status;
  details: string;
  metadata: Metadata;
}

/**
 * The status of a Multi call in which some devices failed (spec/gsdk-wire.md §2.6): the
 * per-device errors travel in the grpc-status-details-bin trailer as a google.rpc.Status
 * whose details hold the same MultiErrorResponse twice, under both type URLs. The top-level
 * code is the failing devices' common code, or UNKNOWN when they disagree.
 */
export function multiFailure(deviceErrors: readonly ErrorResponse[], deviceCount: number): MultiFailure {
  const codes = new Set(deviceErrors.map((e) => e.code));
  const code: status = codes.size === 1 ? (deviceErrors[0]?.code ?? status.UNKNOWN) : status.UNKNOWN;
  const details = `${deviceErrors.length} of ${deviceCount} devices failed`;
  const payload = Buffer.from(MultiErrorResponse.encode({ deviceErrors: [...deviceErrors] }).finish());
  const statusBytes = Status.encode({
    code,
    message: details,
    details: [
      Any.fromPartial({ typeUrl: MULTI_ERROR_TYPE_URL, value: payload }),
      Any.fromPartial({ typeUrl: LEGACY_MULTI_ERROR_TYPE_URL, value: payload }),
    ],
  }).finish();
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(statusBytes));
  return { code, details, metadata };
}
