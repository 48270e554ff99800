import { describe, expect, it } from "vitest";
import { redactUrl } from "./index.js";
import { expectDfError, uniquePath, useOrigin } from "./test-support/fixture.js";

describe("redactUrl", () => {
  it.each([
    ["http://user:pass@host:8080/a/b?x=1", "http://REDACTED@host:8080/a/b?x=1"],
    ["https://token@host/p", "https://REDACTED@host/p"],
    [
      "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=abc&X-Amz-Expires=60",
      "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Expires=60",
    ],
    ["https://a.blob.core.windows.net/c/b?sv=2020&sig=xyz%3D&se=2030", "https://a.blob.core.windows.net/c/b?sv=2020&sig=REDACTED&se=2030"],
    ["http://h/p?access_token=t&api_key=k&page=2", "http://h/p?access_token=REDACTED&api_key=REDACTED&page=2"],
    ["http://h/p?a=1#token=frag", "http://h/p?a=1"],
    ["http://h/p", "http://h/p"],
  ])("%s → %s", (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it("hides userinfo and queries even in text that is not a URL", () => {
    const shown = redactUrl("ht!tp://user:pw@host/x?sig=abc");
    expect(shown).not.toContain("pw");
    expect(shown).not.toContain("abc");
  });
});

describe("error messages", () => {
  const { origin, client } = useOrigin();

  it("never show credentials from the URL", async () => {
    const path = uniquePath("secret");
    origin().publish(path, new Uint8Array([1]), { status: 403 });
    const url = `${origin().origin.replace("http://", "http://admin:hunter2@")}${path}?X-Amz-Signature=deadbeef&part=1`;
    for (const call of [() => client().stat({ url }), () => client().get({ url })]) {
      const error = await expectDfError(call(), "PERMISSION_DENIED");
      const shown = JSON.stringify(error.toJSON());
      expect(shown).not.toContain("hunter2");
      expect(shown).not.toContain("admin");
      expect(shown).not.toContain("deadbeef");
      expect(shown).toContain("part=1");
    }
  });

  it("of a malformed URL show neither the credentials nor the parser's copy of them", async () => {
    const error = await expectDfError(client().get({ url: "http://admin:hunter2@exa mple.com/?token=t0p" }), "INVALID_ARGUMENT", "invalid-url");
    expect(JSON.stringify(error.toJSON())).not.toContain("hunter2");
    expect(error.message).not.toContain("t0p");
    expect(error.cause).toBeUndefined();
  });

  it("of a connection failure show no credentials", async () => {
    const error = await expectDfError(client().stat({ url: "http://u:hunter2@127.0.0.1:1/x?sig=s3cr3t" }), "UNAVAILABLE");
    expect(JSON.stringify(error.toJSON())).not.toMatch(/hunter2|s3cr3t/);
  });
});
