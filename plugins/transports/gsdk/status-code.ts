/**
 * gRPC status codes by name. Metrics label calls with the name (OK, UNAVAILABLE, ...) and
 * errors carry both, so an operator can grep for either.
 */
import { status } from '@grpc/grpc-js';

export const GrpcCode = status;

/** The gRPC name of a status code; codes outside 0..16 keep their number. */
export function codeName(code: number): string {
  const name = (status as unknown as Record<number, string | undefined>)[code];
  return name ?? `CODE_${code}`;
}
