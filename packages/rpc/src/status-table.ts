import type { ErrorCode } from "@df/interface/errors";

/**
 * The gRPC status number of each DfError code (numbers fixed by the gRPC spec), with no
 * import of grpc-js, so that @df/rpc/lite can map statuses without loading it. DfError's
 * closed set is gRPC's minus OK and UNKNOWN, so each code maps to its namesake.
 */
export const GRPC_STATUS: Readonly<Record<ErrorCode, number>> = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

const byNumber: ReadonlyMap<number, ErrorCode> = new Map((Object.entries(GRPC_STATUS) as [ErrorCode, number][]).map(([code, n]) => [n, code]));

/** OK has no DfError counterpart; callers only ask about failures, so it maps to INTERNAL, as UNKNOWN does. */
export function errorCodeOfStatus(status: number): ErrorCode {
  return byNumber.get(status) ?? "INTERNAL";
}
