import { describeSourceCompliance, expectContent, type OriginServer, startOriginServer } from "@df/compliance-tests";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Certificate, mintCertificate } from "./test-support/certificate.js";
import { expectDfError, loopbackSource } from "./test-support/fixture.js";

describeSourceCompliance(
  "http over https",
  async () => {
    const certificate = mintCertificate();
    const origin = await startOriginServer({ tls: certificate });
    const client = loopbackSource({ tls: { caFile: certificate.certFile } });
    return {
      client,
      publish: async (path, content, options) => origin.publish(path, content, { ranges: options?.ranges ?? true }),
      missing: async (path) => origin.url(path),
      teardown: async () => {
        await client.close();
        await origin.close();
        certificate.remove();
      },
    };
  },
  // The origin runs in this process, so its TLS buffers count in the measured arrayBuffers
  // too (about 4 MiB); 16 MiB left too little room under the quarter-of-the-body bound.
  { largeBytes: 64 * 1024 * 1024 },
);

describe("https trust", () => {
  let certificate: Certificate;
  let origin: OriginServer;
  beforeAll(async () => {
    certificate = mintCertificate();
    origin = await startOriginServer({ tls: certificate });
  });
  afterAll(async () => {
    await origin?.close();
    certificate?.remove();
  });

  it("an origin with an untrusted certificate is refused with a hint", async () => {
    const client = loopbackSource();
    try {
      const url = origin.publish("/untrusted", new Uint8Array([1]));
      const error = await expectDfError(client.stat({ url }), "FAILED_PRECONDITION", "tls");
      expect(error.message).toContain("tls.caFile");
    } finally {
      await client.close();
    }
  });

  it("tls.insecure accepts any certificate", async () => {
    const client = loopbackSource({ tls: { insecure: true } });
    try {
      const content = { size: 1000, seed: 1 };
      const url = origin.publish("/insecure", content);
      await expectContent((await client.get({ url })).body, content);
    } finally {
      await client.close();
    }
  });

  it("an unreadable tls.caFile fails at creation", () => {
    expect(() => loopbackSource({ tls: { caFile: "/nonexistent/ca.pem" } })).toThrow(/tls.caFile/);
  });
});
