import { describe, expect, it } from "vitest";
import { privateScope } from "./private-scope.js";
import { taskId } from "./task-id.js";

describe("privateScope", () => {
  it("leaves a download without credentials public", () => {
    expect(privateScope({ headers: undefined })).toBeUndefined();
    expect(privateScope({ headers: { accept: "*/*", "x-request-id": "1" } })).toBeUndefined();
    expect(privateScope({ headers: {}, digest: "sha256:ab" })).toBeUndefined();
  });

  it("scopes a download with credentials to those credentials, whatever the header case and order", () => {
    const a = privateScope({ headers: { Authorization: "Bearer a", Cookie: "s=1" } });
    expect(a).toMatch(/^credentials:[0-9a-f]{64}$/);
    expect(privateScope({ headers: { cookie: "s=1", authorization: "Bearer a", accept: "x" } })).toBe(a);
    expect(privateScope({ headers: { Authorization: "Bearer b", Cookie: "s=1" } })).not.toBe(a);
    expect(privateScope({ headers: { Authorization: "Bearer a" } })).not.toBe(a);
    for (const name of ["Proxy-Authorization", "X-Api-Key", "X-Auth-Token", "Private-Token"]) {
      expect(privateScope({ headers: { [name]: "k" } }), name).toMatch(/^credentials:/);
    }
  });

  it("does not let one header set pass for another by moving bytes between name and value", () => {
    expect(privateScope({ headers: { authorization: "x", cookie: "y" } })).not.toBe(privateScope({ headers: { authorization: "xcookiey" } }));
  });

  it("scopes a credentialed download that names its digest by the digest, so holders of other credentials share it", () => {
    expect(privateScope({ headers: { authorization: "Bearer a" }, digest: "sha256:AB12" })).toBe("digest:sha256:ab12");
    expect(privateScope({ headers: { authorization: "Bearer b" }, digest: "sha256:ab12" })).toBe("digest:sha256:ab12");
  });

  it("takes the names that count as credentials from the caller when given", () => {
    expect(privateScope({ headers: { "x-tenant-key": "t" }, credentialHeaders: ["X-Tenant-Key"] })).toMatch(/^credentials:/);
    expect(privateScope({ headers: { authorization: "a" }, credentialHeaders: ["x-tenant-key"] })).toBeUndefined();
  });
});

describe("taskId with a private scope", () => {
  it("differs from the public ID and per scope, and leaves the public ID as upstream computes it", () => {
    const url = "https://example.com/private.bin";
    const pub = taskId({ url });
    const mine = taskId({ url, scope: privateScope({ headers: { authorization: "Bearer a" } }) });
    const theirs = taskId({ url, scope: privateScope({ headers: { authorization: "Bearer b" } }) });
    expect(new Set([pub, mine, theirs]).size).toBe(3);
    expect(taskId({ url, scope: undefined })).toBe(pub);
    expect(taskId({ url, scope: "" })).toBe(pub);
  });
});
