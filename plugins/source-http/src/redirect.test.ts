import { expectContent, startOriginServer } from "@df/compliance-tests";
import { describe, expect, it } from "vitest";
import { FINAL_URL_HEADER } from "./index.js";
import { expectDfError, uniquePath, useOrigin, loopbackSource } from "./test-support/fixture.js";

const { origin, client } = useOrigin();

describe("redirects", () => {
  it.each([301, 302, 303, 307, 308])("%i is followed by stat and get, and the final URL is reported", async (status) => {
    const content = { size: 5000, seed: status };
    const target = origin().publish(uniquePath("target"), content);
    const url = origin().redirect(uniquePath("moved"), new URL(target).pathname, status);
    const stat = await client().stat({ url });
    expect(stat).toMatchObject({ contentLength: 5000, supportsRange: true });
    expect(stat.header?.[FINAL_URL_HEADER]).toBe(target);
    const response = await client().get({ url, range: { start: 100, length: 200 } });
    expect(response.header[FINAL_URL_HEADER]).toBe(target);
    await expectContent(response.body, content, 100, 200);
  });

  it("a response that was not redirected carries no final URL", async () => {
    const url = origin().publish(uniquePath("direct"), new Uint8Array([1, 2, 3]));
    const response = await client().get({ url });
    expect(response.header[FINAL_URL_HEADER]).toBeUndefined();
    await response.cancel();
  });

  it("a chain up to maxRedirects is followed; one more fails", async () => {
    const content = { size: 10, seed: 1 };
    const end = origin().publish(uniquePath("end"), content);
    let next = new URL(end).pathname;
    for (let i = 0; i < 10; i++) next = new URL(origin().redirect(uniquePath(`hop${i}`), next)).pathname;
    const tenHops = origin().url(next);
    await expectContent((await client().get({ url: tenHops })).body, content);
    const elevenHops = origin().redirect(uniquePath("hop10"), next);
    const error = await expectDfError(client().get({ url: elevenHops }), "FAILED_PRECONDITION", "too-many-redirects");
    expect(error.message).toContain("more than 10 redirects");
  });

  it("maxRedirects 0 refuses any redirect", async () => {
    const strict = loopbackSource({ maxRedirects: 0 });
    try {
      const target = origin().publish(uniquePath("target"), new Uint8Array([1]));
      const url = origin().redirect(uniquePath("moved"), target);
      await expectDfError(strict.stat({ url }), "FAILED_PRECONDITION", "too-many-redirects");
    } finally {
      await strict.close();
    }
  });

  it("a redirect loop fails at once, naming the loop", async () => {
    const a = uniquePath("loop-a");
    const b = uniquePath("loop-b");
    const url = origin().redirect(a, b);
    origin().redirect(b, a);
    const error = await expectDfError(client().get({ url }), "FAILED_PRECONDITION", "redirect-loop");
    expect(error.message).toContain("redirect loop");
    expect(origin().stats(a).requests + origin().stats(b).requests).toBe(2);
    await expectDfError(client().stat({ url }), "FAILED_PRECONDITION", "redirect-loop");
  });

  it("a redirect to a scheme other than http(s) is refused", async () => {
    const url = origin().redirect(uniquePath("ftp"), "ftp://example.com/file");
    await expectDfError(client().get({ url }), "FAILED_PRECONDITION", "bad-redirect");
  });

  it("credentials are not carried to another origin", async () => {
    const other = await startOriginServer();
    try {
      const path = uniquePath("elsewhere");
      const target = other.publish(path, new Uint8Array([7]));
      const url = origin().redirect(uniquePath("to-other"), target);
      const header = { authorization: "Bearer secret", cookie: "session=1", "x-trace": "abc" };
      await (await client().get({ url, header })).cancel();
      const [seen] = other.requests(path);
      expect(seen?.headers.authorization).toBeUndefined();
      expect(seen?.headers.cookie).toBeUndefined();
      expect(seen?.headers["x-trace"]).toBe("abc");
    } finally {
      await other.close();
    }
  });

  it("credentials stay on a redirect within the same origin", async () => {
    const path = uniquePath("same-origin-target");
    const target = origin().publish(path, new Uint8Array([7]));
    const url = origin().redirect(uniquePath("same-origin"), new URL(target).pathname);
    await (await client().get({ url, header: { authorization: "Bearer secret" } })).cancel();
    expect(origin().requests(path)[0]?.headers.authorization).toBe("Bearer secret");
  });
});
