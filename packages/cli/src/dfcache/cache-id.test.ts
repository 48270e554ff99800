import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { cacheTaskId, cacheUrl } from "./cache-id.js";
import { resolveCacheOptions } from "./options.js";

describe("the cache task ID rule", () => {
  it("names a cid by d7y:/ and the percent-encoded cid", () => {
    expect(cacheUrl("sha256:ab/c d")).toBe("d7y:/sha256%3Aab%2Fc%20d");
  });

  it("hashes the URL, the tag and PERSISTENT_CACHE, so another tag is another task", () => {
    const expected = createHash("sha256").update("d7y:/build-1").update("ci").update("PERSISTENT_CACHE").digest("hex");
    expect(cacheTaskId("build-1", "ci")).toBe(expected);
    expect(cacheTaskId("build-1")).toBe(createHash("sha256").update("d7y:/build-1").update("PERSISTENT_CACHE").digest("hex"));
    expect(cacheTaskId("build-1", "other")).not.toBe(expected);
  });
});

describe("dfcache options", () => {
  it("requires a cid and parses the timeout; --json turns progress off", () => {
    expect(() => resolveCacheOptions({})).toThrow(/--cid/);
    expect(resolveCacheOptions({ cid: "x", timeout: "2s", json: true, endpoint: "/s.sock" })).toMatchObject({
      cid: "x",
      timeoutMs: 2000,
      json: true,
      progress: false,
      endpoint: "/s.sock",
    });
  });

  it("takes an origin URL instead of a cid (delete --url), never both, and refuses what is not a URL", () => {
    expect(resolveCacheOptions({ url: "https://example.com/f", tag: "t", application: "a" })).toMatchObject({
      cid: "",
      url: "https://example.com/f",
      tag: "t",
      application: "a",
    });
    expect(() => resolveCacheOptions({ url: "https://example.com/f", cid: "x" })).toThrow(/--cid or --url, not both/);
    expect(() => resolveCacheOptions({ url: "example.com/f" })).toThrow(/is not a URL/);
  });
});
