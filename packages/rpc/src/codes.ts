import { status as GrpcStatus } from "@grpc/grpc-js";
import { type ErrorCode } from "@df/interface/errors";

/**
 * DfError codes and gRPC status codes, both ways, in one place. DfError's closed set is
 * gRPC's minus OK and UNKNOWN, so each code maps to its namesake; UNKNOWN (what a peer
 * that is not df sends for an unexpected failure) becomes INTERNAL.
 */
const toGrpc: Readonly<Record<ErrorCode, GrpcStatus>> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  OUT_OF_RANGE: GrpcStatus.OUT_OF_RANGE,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  CANCELLED: GrpcStatus.CANCELLED,
  ABORTED: GrpcStatus.ABORTED,
  DATA_LOSS: GrpcStatus.DATA_LOSS,
  UNIMPLEMENTED: GrpcStatus.UNIMPLEMENTED,
  INTERNAL: GrpcStatus.INTERNAL,
};

const fromGrpc: ReadonlyMap<number, ErrorCode> = new Map(
  (Object.entries(toGrpc) as [ErrorCode, GrpcStatus][]).map(([code, grpc]) => [grpc, code]),
);

export function grpcStatusOf(code: ErrorCode): GrpcStatus {
  return toGrpc[code];
}

/** OK has no DfError counterpart; callers only ask about failures, so it maps to INTERNAL too. */
export function errorCodeOf(grpcStatus: number): ErrorCode {
  return fromGrpc.get(grpcStatus) ?? "INTERNAL";
}
