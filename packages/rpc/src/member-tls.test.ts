import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMemberTls } from "./member-tls.js";
import { makeCerts, type CertPaths } from "./test-support/certs.js";

let dir: string;
let certs: CertPaths;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-member-tls-"));
  certs = await makeCerts(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadMemberTls", () => {
  it("is plaintext without a security.tls block", () => {
    expect(loadMemberTls(undefined)).toBeUndefined();
  });

  it("reads the files once and requires client certificates on the server side", () => {
    const tls = loadMemberTls({ ca: certs.ca, cert: certs.serverCert, key: certs.serverKey })!;
    expect(tls.server.requireClientCert).toBe(true);
    expect(tls.ca.toString()).toContain("BEGIN CERTIFICATE");
    expect(tls.client).toMatchObject({ ca: tls.ca, cert: tls.cert, key: tls.key });
  });

  it("takes relative paths from the config file's folder", () => {
    const tls = loadMemberTls({ ca: "ca.crt", cert: "server.crt", key: "server.key" }, { baseDir: dir })!;
    expect(tls.cert.toString()).toContain("BEGIN CERTIFICATE");
  });

  it("names the config key of a file it cannot read", () => {
    expect(() => loadMemberTls({ ca: certs.ca, cert: join(dir, "missing.crt"), key: certs.serverKey })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", reason: "tls-unreadable-pem", message: expect.stringContaining("security.tls.cert") }),
    );
  });
});
