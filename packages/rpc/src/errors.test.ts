import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { DfError, ERROR_CODES } from "@df/interface";
import { errorCodeOf, grpcStatusOf } from "./codes.js";
import { ERROR_METADATA, fromGrpcError, isServiceError, toGrpcStatus } from "./errors.js";

function serviceError(code: status, details: string, metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

describe("code mapping", () => {
  it("maps every DfError code to its namesake gRPC status and back", () => {
    for (const code of ERROR_CODES) {
      expect(status[grpcStatusOf(code)]).toBe(code);
      expect(errorCodeOf(grpcStatusOf(code))).toBe(code);
    }
  });

  it("maps UNKNOWN and unheard-of statuses to INTERNAL", () => {
    expect(errorCodeOf(status.UNKNOWN)).toBe("INTERNAL");
    expect(errorCodeOf(99)).toBe("INTERNAL");
  });
});

describe("toGrpcStatus", () => {
  it("puts code, reason and JSON details in the trailers", () => {
    const result = toGrpcStatus(
      new DfError("RESOURCE_EXHAUSTED", "disk full", { reason: "no-space", details: { free: 0, big: 2n ** 64n } }),
    );
    expect(result.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(result.details).toBe("disk full");
    expect(result.metadata.get(ERROR_METADATA.code)).toEqual(["RESOURCE_EXHAUSTED"]);
    expect(result.metadata.get(ERROR_METADATA.reason)).toEqual(["no-space"]);
    const details = result.metadata.get(ERROR_METADATA.details)[0] as Buffer;
    expect(JSON.parse(details.toString("utf8"))).toEqual({ free: 0, big: "18446744073709551616" });
  });

  it("drops details that cannot be serialised instead of failing", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const result = toGrpcStatus(new DfError("INTERNAL", "x", { details: cyclic }));
    expect(result.metadata.get(ERROR_METADATA.details)).toEqual([]);
  });

  it("keeps the code of an error from a nested gRPC call", () => {
    expect(toGrpcStatus(serviceError(status.NOT_FOUND, "no such piece")).code).toBe(status.NOT_FOUND);
  });

  it("maps Node system errors through toDfError", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
    const result = toGrpcStatus(enoent);
    expect(result.code).toBe(status.NOT_FOUND);
    expect(result.metadata.get(ERROR_METADATA.reason)).toEqual(["enoent"]);
  });
});

describe("fromGrpcError", () => {
  it("round-trips a DfError through toGrpcStatus", () => {
    const original = new DfError("ALREADY_EXISTS", "output exists", {
      reason: "output-exists",
      details: { path: "/tmp/ö" },
    });
    const wire = toGrpcStatus(original);
    const error = fromGrpcError(serviceError(wire.code, wire.details, wire.metadata));
    expect(error).toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "output-exists",
      message: "output exists",
      details: { path: "/tmp/ö" },
    });
    expect(isServiceError(error.cause)).toBe(true);
  });

  it("uses the status code when the peer sent no df trailers", () => {
    expect(fromGrpcError(serviceError(status.UNAVAILABLE, "connection refused"))).toMatchObject({
      code: "UNAVAILABLE",
      message: "connection refused",
      reason: undefined,
    });
    expect(fromGrpcError(serviceError(status.DEADLINE_EXCEEDED, "late")).code).toBe("DEADLINE_EXCEEDED");
    expect(fromGrpcError(serviceError(status.CANCELLED, "gone")).code).toBe("CANCELLED");
    expect(fromGrpcError(serviceError(status.UNKNOWN, "?")).code).toBe("INTERNAL");
  });

  it("ignores a df-code it does not know and malformed details", () => {
    const metadata = new Metadata();
    metadata.set(ERROR_METADATA.code, "SOMETHING_ELSE");
    metadata.set(ERROR_METADATA.details, Buffer.from("not json"));
    expect(fromGrpcError(serviceError(status.ABORTED, "x", metadata))).toMatchObject({
      code: "ABORTED",
      details: undefined,
    });
  });

  it("passes DfErrors through and wraps anything else", () => {
    const dfError = new DfError("NOT_FOUND", "x");
    expect(fromGrpcError(dfError)).toBe(dfError);
    expect(fromGrpcError(new Error("plain")).code).toBe("INTERNAL");
  });
});
