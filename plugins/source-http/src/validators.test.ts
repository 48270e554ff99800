import { describe, expect, it } from "vitest";
import { expectDfError, uniquePath, useOrigin } from "./test-support/fixture.js";

const { origin, client } = useOrigin();
const LAST_MODIFIED = "Tue, 01 Dec 2026 10:00:00 GMT";

describe("validators: one conditional request", () => {
  it("without known validators, is one HEAD that returns ETag, Last-Modified and length", async () => {
    const path = uniquePath("plain");
    const url = origin().publish(path, { size: 1234, seed: 1 }, { lastModified: LAST_MODIFIED });
    const validators = await client().validators({ url });
    expect(validators).toEqual({ etag: '"g-1-1234"', lastModified: LAST_MODIFIED, contentLength: 1234 });
    expect(origin().stats(path)).toMatchObject({ requests: 1, heads: 1, conditionals: 0 });
  });

  it("gives the known validators back on 304, in one HEAD with If-None-Match and If-Modified-Since", async () => {
    const path = uniquePath("same");
    const url = origin().publish(path, { size: 1234, seed: 2 }, { lastModified: LAST_MODIFIED });
    const known = { etag: '"g-2-1234"', lastModified: LAST_MODIFIED, contentLength: 1234 };
    expect(await client().validators({ url, known })).toEqual(known);
    expect(origin().stats(path)).toMatchObject({ requests: 1, heads: 1, conditionals: 1, notModified: 1 });
    const [seen] = origin().requests(path);
    expect(seen?.headers["if-none-match"]).toBe('"g-2-1234"');
    expect(seen?.headers["if-modified-since"]).toBe(LAST_MODIFIED);
  });

  it("returns the new validators when the content changed", async () => {
    const path = uniquePath("changed");
    const url = origin().publish(path, { size: 2000, seed: 4 });
    const validators = await client().validators({ url, known: { etag: '"g-3-1234"', contentLength: 1234 } });
    expect(validators).toMatchObject({ etag: '"g-4-2000"', contentLength: 2000 });
    expect(origin().stats(path)).toMatchObject({ requests: 1, conditionals: 1, notModified: 0 });
  });

  it("replaces the caller's own conditional headers, so the answer means what was asked", async () => {
    const path = uniquePath("caller-conditional");
    const url = origin().publish(path, { size: 10, seed: 5 });
    const validators = await client().validators({ url, header: { "If-None-Match": "*" } });
    expect(validators).toMatchObject({ etag: '"g-5-10"', contentLength: 10 });
    expect(origin().requests(path)[0]?.headers["if-none-match"]).toBeUndefined();
  });

  it("asks with a ranged GET when HEAD is refused, and reads the length from Content-Range", async () => {
    const path = uniquePath("no-head");
    const url = origin().publish(path, { size: 5000, seed: 6 }, { head: false });
    expect(await client().validators({ url })).toMatchObject({ etag: '"g-6-5000"', contentLength: 5000 });
    expect(await client().validators({ url, known: { etag: '"g-6-5000"', contentLength: 5000 } })).toEqual({
      etag: '"g-6-5000"',
      contentLength: 5000,
      lastModified: expect.any(String),
    });
    expect(origin().stats(path)).toMatchObject({ heads: 2, gets: 2, notModified: 1, bytesServed: 1 });
  });

  it("reports no validators for an origin that sends none", async () => {
    const path = uniquePath("bare");
    const url = origin().publish(path, { size: 10, seed: 7 }, { validators: "none" });
    expect(await client().validators({ url })).toEqual({ contentLength: 10 });
  });

  it("fails as stat does on a missing resource", async () => {
    await expectDfError(client().validators({ url: origin().url(uniquePath("missing")) }), "NOT_FOUND");
  });
});
