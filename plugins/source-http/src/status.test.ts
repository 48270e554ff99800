import { describe, expect, it } from "vitest";
import { expectDfError, uniquePath, useOrigin } from "./test-support/fixture.js";

const { origin, client } = useOrigin();

describe("HTTP status mapping", () => {
  it.each([
    [404, "NOT_FOUND"],
    [410, "NOT_FOUND"],
    [401, "PERMISSION_DENIED"],
    [403, "PERMISSION_DENIED"],
    [429, "RESOURCE_EXHAUSTED"],
    [500, "UNAVAILABLE"],
    [502, "UNAVAILABLE"],
    [503, "UNAVAILABLE"],
    [418, "FAILED_PRECONDITION"],
  ] as const)("an origin answering %i is %s on stat and get", async (status, code) => {
    const url = origin().publish(uniquePath(`status-${status}`), { size: 100, seed: 1 }, { status });
    const statError = await expectDfError(client().stat({ url }), code, `http-${status}`);
    expect(statError.details).toMatchObject({ status, url });
    const getError = await expectDfError(client().get({ url }), code, `http-${status}`);
    expect(getError.details).toMatchObject({ status, method: "GET", url });
  });

  it("a missing path is NOT_FOUND, with the origin's text body in the details", async () => {
    const url = origin().url(uniquePath("missing"));
    const error = await expectDfError(client().get({ url }), "NOT_FOUND");
    expect(error.message).toContain("404");
    expect(error.details?.body).toContain("404 Not Found");
  });

  it("a range past the end is OUT_OF_RANGE (416)", async () => {
    const url = origin().publish(uniquePath("short"), { size: 100, seed: 1 });
    const error = await expectDfError(client().get({ url, range: { start: 100, length: 10 } }), "OUT_OF_RANGE");
    expect(error.message).toContain("of 100 bytes");
    expect(error.details).toMatchObject({ status: 416, total: 100, start: 100, length: 10 });
  });

  it("a range running past the end is refused: the origin's shorter Content-Range does not match", async () => {
    const url = origin().publish(uniquePath("overhang"), { size: 100, seed: 1 });
    // The origin answers bytes 90-99 for 90-109; the client asked for 20 bytes and says so.
    await expectDfError(client().get({ url, range: { start: 90, length: 20 } }), "FAILED_PRECONDITION", "range-mismatch");
  });

  it("5xx on stat is not retried", async () => {
    const path = uniquePath("unavailable");
    const url = origin().publish(path, { size: 100, seed: 1 }, { status: 503 });
    await expectDfError(client().stat({ url }), "UNAVAILABLE");
    expect(origin().stats(path).requests).toBe(1);
  });
});
