import { describe, expect, it } from "vitest";
import { isCredentialName, REDACTED, redactAudit as redactAuditRow, redactConfig, redactJob, redactJson, redactUrlCredentials } from "./redact.js";

describe("credential names", () => {
  it("covers the usual credential headers, parameters and config names, and leaves plain ones", () => {
    for (const name of ["Authorization", "proxy-authorization", "Cookie", "Set-Cookie", "X-Api-Key", "x-amz-security-token", "X-Auth-Token", "client_secret", "db_password", "PASSWD", "X-Amz-Signature", "X-Amz-Credential", "sig", "session_id", "apiKey"]) {
      expect(isCredentialName(name), name).toBe(true);
    }
    for (const name of ["Accept", "Range", "User-Agent", "x-request-id", "tag", "urls", "signal", "design", "scopes"]) {
      expect(isCredentialName(name), name).toBe(false);
    }
  });
});

describe("redactUrlCredentials", () => {
  it("hides a URL's user name and password and credential-named query parameters, and keeps other URLs byte for byte", () => {
    expect(redactUrlCredentials("https://bob:hunter2@example.com/a")).toBe("https://redacted:redacted@example.com/a");
    // A token is often the user name alone.
    expect(redactUrlCredentials("https://ghp_TOKEN@github.com/x.tgz")).toBe("https://redacted@github.com/x.tgz");
    expect(redactUrlCredentials("https://s3.example.com/b/o?X-Amz-Signature=abc&X-Amz-Expires=60&token=t1")).toBe(
      "https://s3.example.com/b/o?X-Amz-Signature=redacted&X-Amz-Expires=60&token=redacted",
    );
    expect(redactUrlCredentials("https://blob.example.com/c?sv=2020&sig=zzz")).toBe("https://blob.example.com/c?sv=2020&sig=redacted");
    for (const same of ["https://example.com/a b?q=1+2&page=3", "HTTP://Example.com/x", "not a url", "ftp://u:p@host/", "https://[bad"]) {
      expect(redactUrlCredentials(same)).toBe(same);
    }
  });
});

describe("redactJson", () => {
  it("hides the values of credential-named members at any depth, whatever they hold, and keeps flags", () => {
    const input = {
      urls: ["https://u:p@h/x", "https://h/y"],
      headers: { Authorization: "Bearer abc", "X-Api-Key": "k", Accept: "*/*", Cookie: ["a=1"] },
      nested: [{ auth: { user: "u", pass: "p" }, token: 42, keep: "me" }],
      secret: true,
      password: null,
    };
    expect(redactJson(input)).toEqual({
      urls: ["https://redacted:redacted@h/x", "https://h/y"],
      headers: { Authorization: REDACTED, "X-Api-Key": REDACTED, Accept: "*/*", Cookie: REDACTED },
      nested: [{ auth: REDACTED, token: REDACTED, keep: "me" }],
      secret: true,
      password: null,
    });
    // The input is not changed.
    expect(input.headers.Authorization).toBe("Bearer abc");
    expect(redactJson(null)).toBeNull();
    expect(redactJson(7)).toBe(7);
  });
});

describe("redacting rows", () => {
  it("hides a job's headers and URL credentials in its args and result", () => {
    const job = { id: 1, type: "preheat", args: { urls: ["https://h/a?token=t"], headers: { authorization: "Basic x", range: "bytes=0-1" } }, result: { urls: [{ url: "https://h/a?token=t" }] } };
    expect(redactJob(job)).toEqual({
      id: 1,
      type: "preheat",
      args: { urls: ["https://h/a?token=redacted"], headers: { authorization: REDACTED, range: "bytes=0-1" } },
      result: { urls: [{ url: "https://h/a?token=redacted" }] },
    });
  });

  it("hides a secret config's value only", () => {
    expect(redactConfig({ name: "s3", value: "v", secret: true })).toEqual({ name: "s3", value: REDACTED, secret: true });
    expect(redactConfig({ name: "colour", value: "blue", secret: false })).toEqual({ name: "colour", value: "blue", secret: false });
  });

  it("hides config values in audits unless the row says the config was not secret, and unknown names of failed sign-ins", () => {
    const row = (resource: string, action: string, details: Record<string, unknown>) => ({ id: 1, actor: "root", action, resource, resource_id: "1", details });
    const redactAudit = (item: ReturnType<typeof row>) => redactAuditRow(item) as { details: unknown };
    expect(redactAudit(row("configs", "create", { name: "k", value: "v", secret: true })).details).toEqual({ name: "k", value: REDACTED, secret: true });
    expect(redactAudit(row("configs", "update", { value: "v", secret: false })).details).toEqual({ value: "v", secret: false });
    // Written before configs had the flag: hidden, to be safe.
    expect(redactAudit(row("configs", "update", { value: "v" })).details).toEqual({ value: REDACTED });
    expect(redactAudit(row("jobs", "create", { type: "preheat", args: { headers: { Authorization: "x" } } })).details).toEqual({ type: "preheat", args: { headers: { Authorization: REDACTED } } });
    expect(redactAudit(row("users", "signin-failed", { name: "my-password!", address: "10.0.0.1", known: false })).details).toEqual({ name: REDACTED, address: "10.0.0.1", known: false });
    expect(redactAudit(row("users", "signin-failed", { name: "alice", address: "10.0.0.1", known: true })).details).toEqual({ name: "alice", address: "10.0.0.1", known: true });
  });
});
