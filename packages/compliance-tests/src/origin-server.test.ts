import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentSlice, generateContent } from "./content.js";
import { type OriginServer, startOriginServer } from "./origin-server.js";

let origin: OriginServer;
beforeAll(async () => {
  origin = await startOriginServer();
});
afterAll(async () => {
  await origin.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Set when the connection broke before the body was complete. */
  error?: Error;
}

/** A bare node:http request, so the test sees exactly what the origin sent. */
function call(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const done = (error?: Error): void =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ...(error ? { error } : {}) });
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => done());
      res.on("error", (error) => done(error));
      res.on("aborted", () => done(new Error("aborted")));
    });
    req.on("error", reject);
    req.end();
  });
}

let serial = 0;
const path = (label: string): string => `/o/${++serial}-${label}`;

describe("startOriginServer", () => {
  it("listens on 127.0.0.1 and serves published generated content whole", async () => {
    expect(origin.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const url = origin.publish(path("whole"), { size: 700_000, seed: 1 });
    const answer = await call(url);
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({ "content-length": "700000", "accept-ranges": "bytes", etag: '"g-1-700000"' });
    expect(answer.body.equals(Buffer.from(generateContent(1, 0, 700_000)))).toBe(true);
  });

  it("serves literal bytes and answers HEAD without a body", async () => {
    const url = origin.publish(path("literal"), new TextEncoder().encode("hello"));
    expect((await call(url)).body.toString()).toBe("hello");
    const head = await call(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("5");
    expect(head.body.length).toBe(0);
  });

  it("answers a single range with 206 and Content-Range", async () => {
    const content = { size: 10_000, seed: 2 };
    const url = origin.publish(path("range"), content);
    const answer = await call(url, { headers: { range: "bytes=100-199" } });
    expect(answer.status).toBe(206);
    expect(answer.headers["content-range"]).toBe("bytes 100-199/10000");
    expect(answer.body.equals(Buffer.from(contentSlice(content, 100, 100)))).toBe(true);
    const suffix = await call(url, { headers: { range: "bytes=-10" } });
    expect(suffix.headers["content-range"]).toBe("bytes 9990-9999/10000");
  });

  it("answers an unsatisfiable range with 416 and the length", async () => {
    const url = origin.publish(path("416"), { size: 100, seed: 2 });
    const answer = await call(url, { headers: { range: "bytes=100-" } });
    expect(answer.status).toBe(416);
    expect(answer.headers["content-range"]).toBe("bytes */100");
  });

  it("ignores several ranges and serves the whole", async () => {
    const url = origin.publish(path("multi"), { size: 100, seed: 2 });
    expect((await call(url, { headers: { range: "bytes=0-1,5-6" } })).status).toBe(200);
  });

  it("can ignore ranges altogether", async () => {
    const url = origin.publish(path("no-ranges"), { size: 100, seed: 2 }, { ranges: false });
    const answer = await call(url, { headers: { range: "bytes=0-0" } });
    expect(answer.status).toBe(200);
    expect(answer.headers["accept-ranges"]).toBe("none");
    expect(answer.body.length).toBe(100);
  });

  it("can refuse HEAD", async () => {
    const url = origin.publish(path("no-head"), { size: 100, seed: 2 }, { head: false });
    expect((await call(url, { method: "HEAD" })).status).toBe(405);
    expect((await call(url)).status).toBe(200);
  });

  it("can answer a fixed status, or fail a number of times first", async () => {
    expect((await call(origin.publish(path("503"), { size: 1, seed: 1 }, { status: 503 }))).status).toBe(503);
    const flaky = origin.publish(path("flaky"), { size: 1, seed: 1 }, { fail: { times: 1, status: 500 } });
    expect((await call(flaky)).status).toBe(500);
    expect((await call(flaky)).status).toBe(200);
    const reset = origin.publish(path("reset"), { size: 1, seed: 1 }, { fail: { times: 1 } });
    await expect(call(reset)).rejects.toThrow();
    expect((await call(reset)).status).toBe(200);
  });

  it("answers 404 for what was never published or was unpublished", async () => {
    expect((await call(origin.url(path("never")))).status).toBe(404);
    const gone = path("gone");
    const url = origin.publish(gone, new Uint8Array([1]));
    origin.unpublish(gone);
    expect((await call(url)).status).toBe(404);
  });

  it("redirects", async () => {
    const target = path("target");
    origin.publish(target, new Uint8Array([1]));
    const answer = await call(origin.redirect(path("moved"), target, 307));
    expect(answer.status).toBe(307);
    expect(answer.headers.location).toBe(target);
  });

  it("delays its answer", async () => {
    const url = origin.publish(path("delay"), new Uint8Array([1]), { delayMs: 150 });
    const started = Date.now();
    await call(url);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("cuts a body after the given bytes, counting what it sent", async () => {
    const route = path("truncate");
    const content = { size: 1_000_000, seed: 3 };
    const url = origin.publish(route, content, { truncateAt: 300_000 });
    const answer = await call(url);
    expect(answer.error).toBeDefined();
    expect(answer.body.length).toBe(300_000);
    expect(answer.body.equals(Buffer.from(contentSlice(content, 0, 300_000)))).toBe(true);
    expect(origin.stats(route).bytesServed).toBe(300_000);
  });

  it("sends chunked bodies without Content-Length when asked", async () => {
    const url = origin.publish(path("chunked"), { size: 5000, seed: 3 }, { contentLength: false });
    const answer = await call(url);
    expect(answer.headers["content-length"]).toBeUndefined();
    expect(answer.headers["transfer-encoding"]).toBe("chunked");
    expect(answer.body.length).toBe(5000);
  });

  it("changes content after a number of requests, with a new ETag", async () => {
    const url = origin.publish(path("change"), { size: 10, seed: 1 }, { changeAfter: { requests: 1, content: { size: 20, seed: 2 } } });
    const first = await call(url);
    const second = await call(url);
    expect(first.body.length).toBe(10);
    expect(second.body.equals(Buffer.from(generateContent(2, 0, 20)))).toBe(true);
    expect(first.headers.etag).not.toBe(second.headers.etag);
  });

  it("answers a matching If-None-Match or If-Modified-Since with 304, and counts conditionals", async () => {
    const route = path("conditional");
    const lastModified = "Tue, 01 Dec 2026 10:00:00 GMT";
    origin.publish(route, { size: 100, seed: 1 }, { lastModified });
    const full = await call(origin.url(route));
    expect(full.status).toBe(200);
    const etag = String(full.headers.etag);
    const same = await call(origin.url(route), { method: "HEAD", headers: { "if-none-match": etag } });
    expect(same.status).toBe(304);
    expect(same.headers.etag).toBe(etag);
    expect((await call(origin.url(route), { headers: { "if-none-match": `W/${etag}, "other"` } })).status).toBe(304);
    expect((await call(origin.url(route), { headers: { "if-none-match": '"other"' } })).status).toBe(200);
    expect((await call(origin.url(route), { headers: { "if-modified-since": lastModified } })).status).toBe(304);
    expect((await call(origin.url(route), { headers: { "if-modified-since": "Mon, 30 Nov 2026 10:00:00 GMT" } })).status).toBe(200);
    expect(origin.stats(route)).toMatchObject({ requests: 6, conditionals: 5, notModified: 3 });
    expect(origin.validatorsOf(route)).toEqual({ etag, lastModified, contentLength: 100 });

    origin.publish(route, { size: 100, seed: 1 }, { conditional: false, validators: "last-modified", lastModified });
    const ignored = await call(origin.url(route), { headers: { "if-modified-since": lastModified } });
    expect(ignored.status).toBe(200);
    expect(ignored.headers.etag).toBeUndefined();
    expect(ignored.headers["last-modified"]).toBe(lastModified);
    origin.publish(route, { size: 100, seed: 1 }, { validators: "none" });
    const bare = await call(origin.url(route), { headers: { "if-none-match": etag } });
    expect(bare.status).toBe(200);
    expect(bare.headers.etag).toBeUndefined();
    expect(bare.headers["last-modified"]).toBeUndefined();
  });

  it("counts requests and egress per path, routes by path alone, and logs requests", async () => {
    const route = path("count");
    origin.publish(route, { size: 1000, seed: 1 });
    await call(`${origin.url(route)}?X-Amz-Signature=abc`, { headers: { "x-test": "1" } });
    await call(origin.url(route), { method: "HEAD" });
    await call(origin.url(route), { headers: { range: "bytes=0-9" } });
    expect(origin.stats(route)).toEqual({ requests: 3, heads: 1, gets: 2, bytesServed: 1010, conditionals: 0, notModified: 0 });
    const [first] = origin.requests(route);
    expect(first).toMatchObject({ method: "GET", path: route, query: "?X-Amz-Signature=abc" });
    expect(first?.headers["x-test"]).toBe("1");
  });

  it("resets its counters", async () => {
    const other = await startOriginServer();
    try {
      const url = other.publish("/x", { size: 100, seed: 1 });
      await call(url);
      expect(other.bytesServed).toBe(100);
      expect(other.connections).toBe(1);
      other.resetStats();
      expect(other.bytesServed).toBe(0);
      expect(other.requests()).toEqual([]);
      expect(other.stats("/x").requests).toBe(0);
    } finally {
      await other.close();
    }
  });

  it("closes promptly even with a stalled response open", async () => {
    const other = await startOriginServer();
    const url = other.publish("/stall", { size: 1_000_000, seed: 1 }, { stallAt: 10 });
    const pending = call(url);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await pending).error).toBeDefined();
  });
});

describe("startOriginServer uplink cap", () => {
  it("keeps all responses together under the configured byte rate", async () => {
    const origin = await startOriginServer({ uploadBytesPerSecond: 8 * 2 ** 20 });
    try {
      origin.publish("/a", { seed: 1, size: 2 * 2 ** 20 });
      const started = performance.now();
      const bodies = await Promise.all([0, 1].map(async () => (await fetch(origin.url("/a"))).arrayBuffer()));
      const seconds = (performance.now() - started) / 1000;
      expect(bodies.map((b) => b.byteLength)).toEqual([2 * 2 ** 20, 2 * 2 ** 20]);
      // 4 MiB at 8 MiB/s: about half a second, and never much faster.
      expect(seconds).toBeGreaterThan(0.4);
    } finally {
      await origin.close();
    }
  });
});
