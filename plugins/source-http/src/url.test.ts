import { describe, expect, it } from "vitest";
import { expectDfError, loopbackSource } from "./test-support/fixture.js";

describe("request URLs", () => {
  const client = loopbackSource();

  it.each(["", "not a url", "http//missing-colon", "/relative/path"])("%j is INVALID_ARGUMENT", async (url) => {
    await expectDfError(client.stat({ url }), "INVALID_ARGUMENT", url.trim() === "" ? "invalid-url" : undefined);
    await expectDfError(client.get({ url }), "INVALID_ARGUMENT");
  });

  it.each(["ftp://host/file", "s3://bucket/key", "file:///etc/passwd"])("%s is an unsupported scheme", async (url) => {
    const error = await expectDfError(client.get({ url }), "INVALID_ARGUMENT", "unsupported-scheme");
    expect(error.message).toContain("http and https");
  });

  it("serves http and https", () => {
    expect(client.schemes).toEqual(["http", "https"]);
    expect(client.name).toBe("http");
  });
});
