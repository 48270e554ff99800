import { describe, expect, it } from "vitest";
import { DfError, hasErrorCode, isDfError, toDfError } from "./errors.js";

describe("DfError", () => {
  it("keeps code, reason, details and cause", () => {
    const cause = new Error("disk said no");
    const error = new DfError("DATA_LOSS", "piece 3 failed its digest", {
      cause,
      reason: "piece-digest-mismatch",
      details: { piece: 3 },
    });
    expect(error.name).toBe("DfError");
    expect(error.code).toBe("DATA_LOSS");
    expect(error.reason).toBe("piece-digest-mismatch");
    expect(error.details).toEqual({ piece: 3 });
    expect(error.cause).toBe(cause);
    expect(hasErrorCode(error, "DATA_LOSS", "piece-digest-mismatch")).toBe(true);
    expect(hasErrorCode(error, "DATA_LOSS", "other")).toBe(false);
  });

  it("is recognised by name and code, not by class identity", () => {
    const foreign = Object.assign(new Error("from another copy"), { name: "DfError", code: "NOT_FOUND" });
    expect(isDfError(foreign)).toBe(true);
    const wrongCode = Object.assign(new Error("x"), { name: "DfError", code: "NOPE" });
    expect(isDfError(wrongCode)).toBe(false);
  });
});

describe("toDfError", () => {
  it("maps Node system errors by errno and keeps the cause", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
    const mapped = toDfError(enoent);
    expect(mapped.code).toBe("NOT_FOUND");
    expect(mapped.reason).toBe("enoent");
    expect(mapped.cause).toBe(enoent);
    expect(toDfError(Object.assign(new Error("full"), { code: "ENOSPC" })).code).toBe("RESOURCE_EXHAUSTED");
  });

  it("maps aborts to CANCELLED and timeouts to DEADLINE_EXCEEDED", () => {
    const controller = new AbortController();
    controller.abort();
    expect(toDfError(controller.signal.reason).code).toBe("CANCELLED");
    expect(toDfError(AbortSignal.timeout(0).reason ?? new DOMException("t", "TimeoutError")).code).toMatch(
      /DEADLINE_EXCEEDED|CANCELLED/,
    );
    expect(toDfError(new DOMException("late", "TimeoutError")).code).toBe("DEADLINE_EXCEEDED");
  });

  it("returns a DfError unchanged and wraps non-errors", () => {
    const original = new DfError("UNAVAILABLE", "scheduler down");
    expect(toDfError(original)).toBe(original);
    const wrapped = toDfError({ weird: true }, "INVALID_ARGUMENT");
    expect(wrapped.code).toBe("INVALID_ARGUMENT");
    expect(wrapped.message).toContain('{"weird":true}');
  });
});
