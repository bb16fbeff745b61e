import { status } from '@grpc/grpc-js';

/**
 * A failure the simulated gateway or device reports to the client as a gRPC status.
 * `code` is a gRPC status code (0..16); the message is what the client reads in `details`
 * or in ErrorResponse.msg of a Multi call.
 */
export class SimError extends Error {
  readonly code: status;

  constructor(code: status, message: string) {
    super(message);
    this.name = 'SimError';
    this.code = code;
  }
}

export function invalidArgument(message: string): SimError {
  return new SimError(status.INVALID_ARGUMENT, message);
}

export function isSimError(error: unknown): error is SimError {
  return error instanceof SimError;
}
