import { describe, expect, it } from "vitest";
import { DEFAULT_USER_AGENT } from "./index.js";
import { uniquePath, useOrigin, loopbackSource } from "./test-support/fixture.js";

const { origin, client } = useOrigin();

describe("request headers", () => {
  it("reach the origin on stat's HEAD and probe, and on get", async () => {
    const path = uniquePath("headers");
    const url = origin().publish(path, { size: 100, seed: 1 });
    const header = { "X-Request-Id": "r-1", Authorization: "Bearer t", "If-None-Match": '"x"' };
    await client().stat({ url, header });
    await (await client().get({ url, header })).cancel();
    const requests = origin().requests(path);
    expect(requests.map((request) => request.method)).toEqual(["HEAD", "GET", "GET"]);
    for (const request of requests) {
      expect(request.headers).toMatchObject({ "x-request-id": "r-1", authorization: "Bearer t", "if-none-match": '"x"' });
    }
  });

  it("carry df's User-Agent unless the caller sets one", async () => {
    const path = uniquePath("ua");
    const url = origin().publish(path, new Uint8Array([1]));
    await (await client().get({ url })).cancel();
    await (await client().get({ url, header: { "user-agent": "curl/8" } })).cancel();
    const [first, second] = origin().requests(path);
    expect(DEFAULT_USER_AGENT).toMatch(/^df\/\d+\.\d+\.\d+/);
    expect(first?.headers["user-agent"]).toBe(DEFAULT_USER_AGENT);
    expect(second?.headers["user-agent"]).toBe("curl/8");
  });

  it("use the configured User-Agent", async () => {
    const custom = loopbackSource({ userAgent: "acme-df/2" });
    try {
      const path = uniquePath("ua-custom");
      const url = origin().publish(path, new Uint8Array([1]));
      await (await custom.get({ url })).cancel();
      expect(origin().requests(path)[0]?.headers["user-agent"]).toBe("acme-df/2");
    } finally {
      await custom.close();
    }
  });

  it("turn URL userinfo into Basic auth, never sent in the request line", async () => {
    const path = uniquePath("userinfo");
    const url = origin().publish(path, new Uint8Array([1])).replace("http://", "http://alice:s%40cret@");
    await (await client().get({ url })).cancel();
    const [request] = origin().requests(path);
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from("alice:s@cret").toString("base64")}`);
  });

  it("drop connection-level headers instead of failing", async () => {
    const path = uniquePath("hop-by-hop");
    const url = origin().publish(path, new Uint8Array([1]));
    await (await client().get({ url, header: { Connection: "close", "Transfer-Encoding": "chunked" } })).cancel();
    expect(origin().requests(path)[0]?.headers["transfer-encoding"]).toBeUndefined();
  });
});

describe("headers that change routing", () => {
  it("are not forwarded: Host, and the headers the caller's Connection names", async () => {
    const path = uniquePath("routing");
    const url = origin().publish(path, new Uint8Array([1]));
    await (await client().get({ url, header: { Host: "internal.example", Connection: "x-secret-hop", "x-secret-hop": "1", "x-kept": "2" } })).cancel();
    const [request] = origin().requests(path);
    expect(request?.headers.host).toBe(new URL(url).host);
    expect(request?.headers["x-secret-hop"]).toBeUndefined();
    expect(request?.headers["x-kept"]).toBe("2");
  });
});
