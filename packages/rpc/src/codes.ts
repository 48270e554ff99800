import type { status as GrpcStatus } from "@grpc/grpc-js";
import { type ErrorCode } from "@df/interface/errors";
import { errorCodeOfStatus, GRPC_STATUS } from "./status-table.js";

/** DfError codes and gRPC status codes, both ways (the table is status-table.ts, shared with @df/rpc/lite). */
export function grpcStatusOf(code: ErrorCode): GrpcStatus {
  return GRPC_STATUS[code] as GrpcStatus;
}

/** OK has no DfError counterpart; callers only ask about failures, so it maps to INTERNAL too. */
export function errorCodeOf(grpcStatus: number): ErrorCode {
  return errorCodeOfStatus(grpcStatus);
}
