import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expectContent } from "@df/compliance-tests";
import { describe, expect, it } from "vitest";
import { expectDfError, readAll, uniquePath, useOrigin, loopbackSource } from "./test-support/fixture.js";

const MiB = 1024 * 1024;
const { origin, client } = useOrigin();

describe("an origin without range support", () => {
  it("stat reports the length and supportsRange false", async () => {
    const url = origin().publish(uniquePath("no-ranges"), { size: 10_000, seed: 1 }, { ranges: false });
    expect(await client().stat({ url })).toMatchObject({ contentLength: 10_000, supportsRange: false });
  });

  it("a ranged get fails clearly instead of reading the whole body", async () => {
    const path = uniquePath("no-ranges-get");
    const url = origin().publish(path, { size: 64 * MiB, seed: 1 }, { ranges: false });
    const error = await expectDfError(
      client().get({ url, range: { start: 10, length: 100 } }),
      "FAILED_PRECONDITION",
      "range-ignored",
    );
    expect(error.message).toContain("ignored the range");
    expect(origin().stats(path).bytesServed).toBeLessThan(64 * MiB);
  });

  it("a ranged get of the whole resource is served from the 200", async () => {
    const content = { size: 3000, seed: 2 };
    const url = origin().publish(uniquePath("no-ranges-whole"), content, { ranges: false });
    await expectContent((await client().get({ url, range: { start: 0, length: 3000 } })).body, content);
  });

  it("a plain get works", async () => {
    const content = { size: 3000, seed: 3 };
    const url = origin().publish(uniquePath("no-ranges-plain"), content, { ranges: false });
    await expectContent((await client().get({ url })).body, content);
  });

  it("`Accept-Ranges: none` on HEAD settles it without a probe", async () => {
    const path = uniquePath("accept-none");
    const url = origin().publish(path, { size: 100, seed: 1 }, { ranges: false });
    await client().stat({ url });
    expect(origin().stats(path)).toMatchObject({ heads: 1, gets: 0 });
  });
});

describe("stat", () => {
  it("asks with HEAD, then confirms ranges with a bytes=0-0 GET", async () => {
    const path = uniquePath("probe");
    const url = origin().publish(path, { size: 100, seed: 1 });
    const stat = await client().stat({ url });
    expect(stat).toMatchObject({ contentLength: 100, supportsRange: true });
    const requests = origin().requests(path);
    expect(requests.map((request) => request.method)).toEqual(["HEAD", "GET"]);
    expect(requests[1]?.headers.range).toBe("bytes=0-0");
    expect(origin().stats(path).bytesServed).toBe(1);
  });

  it("reports validators and the origin's headers", async () => {
    const url = origin().publish(uniquePath("validators"), { size: 100, seed: 9 }, { headers: { "x-origin": "yes" } });
    const stat = await client().stat({ url });
    expect(stat.etag).toBe('"g-9-100"');
    expect(stat.lastModified).toMatch(/GMT$/);
    expect(stat.header).toMatchObject({ "x-origin": "yes", "content-length": "100" });
  });

  it("skips the probe for an empty resource", async () => {
    const path = uniquePath("empty");
    const url = origin().publish(path, new Uint8Array(0));
    expect(await client().stat({ url })).toMatchObject({ contentLength: 0 });
    expect(origin().stats(path).gets).toBe(0);
  });

  it.each([
    ["refuses HEAD (405)", { head: false, ranges: true }, true],
    ["refuses HEAD and ranges", { head: false, ranges: false }, false],
  ])("falls back to the ranged GET when the origin %s", async (_label, options, ranges) => {
    const path = uniquePath("no-head");
    const url = origin().publish(path, { size: 64 * MiB, seed: 4 }, options);
    const stat = await client().stat({ url });
    expect(stat).toMatchObject({ contentLength: 64 * MiB, supportsRange: ranges });
    expect(stat.etag).toBe(`"g-4-${64 * MiB}"`);
    expect(stat.header?.["content-range"]).toBeUndefined();
    expect(stat.header?.["content-length"]).toBe(String(64 * MiB));
    // The probe's body is dropped, not downloaded.
    expect(origin().stats(path).bytesServed).toBeLessThan(64 * MiB);
  });

  it("falls back to the ranged GET when HEAD is forbidden (GET-only signed URLs)", async () => {
    const path = uniquePath("head-403");
    const url = origin().publish(path, { size: 500, seed: 4 }, { fail: { times: 1, status: 403 } });
    expect(await client().stat({ url })).toMatchObject({ contentLength: 500, supportsRange: true });
  });

  it("learns the length from the probe when HEAD gives none (chunked)", async () => {
    const url = origin().publish(uniquePath("chunked"), { size: 12_345, seed: 4 }, { contentLength: false });
    expect(await client().stat({ url })).toMatchObject({ contentLength: 12_345, supportsRange: true });
  });

  it("reports no length for a chunked origin without ranges", async () => {
    const url = origin().publish(uniquePath("chunked-no-ranges"), { size: 12_345, seed: 4 }, {
      contentLength: false,
      ranges: false,
    });
    const stat = await client().stat({ url });
    expect(stat.contentLength).toBeUndefined();
    expect(stat.supportsRange).toBe(false);
  });
});

describe("get", () => {
  it("streams a chunked body whose length is not announced", async () => {
    const content = { size: 300_000, seed: 5 };
    const url = origin().publish(uniquePath("chunked-get"), content, { contentLength: false });
    const response = await client().get({ url });
    expect(response.contentLength).toBeUndefined();
    await expectContent(response.body, content);
  });

  it("reports status, headers and the expected length", async () => {
    const url = origin().publish(uniquePath("meta"), { size: 1000, seed: 5 });
    const response = await client().get({ url, range: { start: 10, length: 20 } });
    expect(response.status).toBe(206);
    expect(response.contentLength).toBe(20);
    expect(response.header["content-range"]).toBe("bytes 10-29/1000");
    expect((await readAll(response.body)).length).toBe(20);
  });

  it.each([
    [{ start: -1, length: 10 }],
    [{ start: 0, length: 0 }],
    [{ start: 1.5, length: 10 }],
  ])("rejects the invalid range %o without asking the origin", async (range) => {
    const path = uniquePath("bad-range");
    const url = origin().publish(path, { size: 100, seed: 1 });
    await expectDfError(client().get({ url, range }), "INVALID_ARGUMENT", "invalid-range");
    expect(origin().stats(path).requests).toBe(0);
  });

  it("a caller's Range header does not override the range field", async () => {
    const content = { size: 1000, seed: 6 };
    const path = uniquePath("caller-range");
    const url = origin().publish(path, content);
    const response = await client().get({ url, header: { Range: "bytes=0-9" } });
    await expectContent(response.body, content);
    expect(origin().requests(path)[0]?.headers.range).toBeUndefined();
  });
});

describe("an origin that answers a different range than asked", () => {
  it("is refused with FAILED_PRECONDITION", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(206, { "content-range": "bytes 0-9/100", "content-length": 10 });
      res.end(Buffer.alloc(10));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const source = loopbackSource();
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
      const error = await expectDfError(
        source.get({ url, range: { start: 50, length: 10 } }),
        "FAILED_PRECONDITION",
        "range-mismatch",
      );
      expect(error.message).toContain("bytes 0-9/100");
    } finally {
      await source.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
