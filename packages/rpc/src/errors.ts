import { Metadata, type ServiceError, type status as GrpcStatus } from "@grpc/grpc-js";
import { DfError, isDfError, isErrorCode, toDfError } from "@df/interface/errors";
import { errorCodeOf, grpcStatusOf } from "./codes.js";
import { ERROR_METADATA, parseErrorDetails } from "./error-trailers.js";

export { ERROR_METADATA } from "./error-trailers.js";

/** What a grpc-js server hands to a callback or stream to end a call with an error. */
export interface GrpcStatusObject {
  code: GrpcStatus;
  details: string;
  metadata: Metadata;
}

/** True for the errors grpc-js raises on the client side of a failed call. */
export function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === "number" &&
    typeof (error as Partial<ServiceError>).details === "string" &&
    (error as Partial<ServiceError>).metadata instanceof Metadata
  );
}

/**
 * Turns anything a handler threw into the status the client will see. An error from a
 * nested gRPC call keeps its code, reason and details rather than becoming INTERNAL.
 */
export function toGrpcStatus(error: unknown): GrpcStatusObject {
  const dfError = isServiceError(error) ? fromGrpcError(error) : toDfError(error);
  const metadata = new Metadata();
  metadata.set(ERROR_METADATA.code, dfError.code);
  if (dfError.reason !== undefined) metadata.set(ERROR_METADATA.reason, asciiOnly(dfError.reason));
  const details = detailsJson(dfError.details);
  if (details !== undefined) metadata.set(ERROR_METADATA.details, Buffer.from(details, "utf8"));
  return { code: grpcStatusOf(dfError.code), details: dfError.message, metadata };
}

/**
 * Turns a failed call into a DfError. A df server's trailers give the exact code, reason
 * and details; otherwise the gRPC status decides (UNAVAILABLE, DEADLINE_EXCEEDED and
 * CANCELLED keep their names). The grpc-js error stays as `cause`.
 */
export function fromGrpcError(error: unknown): DfError {
  if (isDfError(error)) return error;
  if (!isServiceError(error)) return toDfError(error);
  const sentCode = firstString(error.metadata, ERROR_METADATA.code);
  const code = isErrorCode(sentCode) ? sentCode : errorCodeOf(error.code);
  const reason = firstString(error.metadata, ERROR_METADATA.reason);
  const details = parseDetails(error.metadata.get(ERROR_METADATA.details)[0]);
  return new DfError(code, error.details || error.message, {
    cause: error,
    ...(reason !== undefined ? { reason } : {}),
    ...(details !== undefined ? { details } : {}),
  });
}

function firstString(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" ? value : undefined;
}

function detailsJson(details: Record<string, unknown> | undefined): string | undefined {
  if (details === undefined) return undefined;
  try {
    return JSON.stringify(details, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  } catch {
    // Cyclic or otherwise unserialisable details are dropped rather than failing the
    // call a second time; the message still says what went wrong.
    return undefined;
  }
}

function parseDetails(value: string | Buffer | undefined): Record<string, unknown> | undefined {
  return value === undefined ? undefined : parseErrorDetails(typeof value === "string" ? value : value.toString("utf8"));
}

function asciiOnly(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, "?");
}
