import { describe, expect, it } from "vitest";
import { codeForStatus, transportError } from "./errors.js";
import { RequestScope } from "./scope.js";

const attempt = { method: "GET", url: "http://h/x" };

function coded(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe("transportError", () => {
  const scope = new RequestScope(undefined, undefined);

  it.each([
    ["UND_ERR_CONNECT_TIMEOUT", "DEADLINE_EXCEEDED", "connect-timeout"],
    ["ETIMEDOUT", "DEADLINE_EXCEEDED", "connect-timeout"],
    ["UND_ERR_HEADERS_TIMEOUT", "DEADLINE_EXCEEDED", "header-timeout"],
    ["UND_ERR_BODY_TIMEOUT", "DEADLINE_EXCEEDED", "body-idle-timeout"],
    ["ECONNREFUSED", "UNAVAILABLE", "connection"],
    ["ECONNRESET", "UNAVAILABLE", "connection"],
    ["ENOTFOUND", "UNAVAILABLE", "connection"],
    ["UND_ERR_SOCKET", "UNAVAILABLE", "connection"],
    ["UND_ERR_DESTROYED", "CANCELLED", "closed"],
    ["UND_ERR_INVALID_ARG", "INVALID_ARGUMENT", "invalid-request"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "FAILED_PRECONDITION", "tls"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "FAILED_PRECONDITION", "tls"],
    ["HPE_INVALID_CONSTANT", "UNAVAILABLE", "transport"],
  ])("%s before headers is %s (%s)", (code, expected, reason) => {
    const error = transportError(coded(code), { attempt, scope });
    expect(error).toMatchObject({ code: expected, reason });
    expect(error.message).toMatch(/^GET http:\/\/h\/x: /);
    expect(error.details).toMatchObject({ ...attempt, errno: code });
    expect((error.cause as { code: string }).code).toBe(code);
  });

  it("a connection lost mid-body is DATA_LOSS with the counts", () => {
    const error = transportError(coded("UND_ERR_SOCKET", "other side closed"), {
      attempt,
      scope,
      body: { received: 10, expected: 100 },
    });
    expect(error).toMatchObject({ code: "DATA_LOSS", reason: "truncated" });
    expect(error.message).toContain("after 10 of 100 bytes");
  });

  it("an aborted scope explains the error, whatever undici threw", () => {
    const controller = new AbortController();
    const aborted = new RequestScope(controller.signal, undefined);
    controller.abort(new Error("stop"));
    expect(transportError(coded("UND_ERR_SOCKET"), { attempt, scope: aborted })).toMatchObject({ code: "CANCELLED" });
    aborted.dispose();
  });

  it("an expired request deadline is DEADLINE_EXCEEDED", async () => {
    const deadline = new RequestScope(undefined, 10);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(transportError(deadline.signal.reason, { attempt, scope: deadline })).toMatchObject({
      code: "DEADLINE_EXCEEDED",
      reason: "request-timeout",
    });
  });
});

describe("codeForStatus", () => {
  it.each([
    [400, "INVALID_ARGUMENT"],
    [401, "PERMISSION_DENIED"],
    [403, "PERMISSION_DENIED"],
    [404, "NOT_FOUND"],
    [407, "PERMISSION_DENIED"],
    [408, "UNAVAILABLE"],
    [409, "FAILED_PRECONDITION"],
    [410, "NOT_FOUND"],
    [412, "FAILED_PRECONDITION"],
    [416, "OUT_OF_RANGE"],
    [429, "RESOURCE_EXHAUSTED"],
    [304, "FAILED_PRECONDITION"],
    [500, "UNAVAILABLE"],
    [501, "UNAVAILABLE"],
    [504, "UNAVAILABLE"],
  ])("%i → %s", (status, code) => {
    expect(codeForStatus(status)).toBe(code);
  });
});
