import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelCredentials, scheduler, serverCredentials, unary, type ClientTlsOptions } from "./index.js";
import { makeCerts, type CertPaths } from "./test-support/certs.js";
import { TRANSPORTS, withService } from "./test-support/harness.js";

const { SchedulerService, SchedulerClient } = scheduler;
const handlers = {
  statTask: (request: scheduler.StatTaskRequest) =>
    scheduler.StatTaskResponse.create({ task: { id: request.taskId } }),
};

let certDir: string;
let certs: CertPaths;

beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), "df-rpc-certs-"));
  certs = await makeCerts(certDir);
});

afterAll(async () => {
  await rm(certDir, { recursive: true, force: true });
});

describe.each(TRANSPORTS)("TLS over %s", (transport) => {
  const mtls = () => ({ ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, requireClientCert: true });

  async function callWith(client: ClientTlsOptions | undefined): Promise<string | undefined> {
    return withService(
      transport,
      SchedulerService,
      handlers,
      SchedulerClient,
      async ({ client: rpc }) =>
        (await unary(rpc, "statTask", scheduler.StatTaskRequest.create({ taskId: "secure" }), { deadlineMs: 5000 }))
          .task?.id,
      { tls: mtls(), client: client === undefined ? {} : { tls: { serverName: "localhost", ...client } } },
    );
  }

  it("serves a client that presents a certificate signed by the trusted CA", async () => {
    expect(await callWith({ ca: certs.ca, cert: certs.clientCert, key: certs.clientKey })).toBe("secure");
  });

  it("refuses a client without a certificate when one is required", async () => {
    await expect(callWith({ ca: certs.ca })).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("refuses a client whose certificate another CA signed", async () => {
    await expect(callWith({ ca: certs.ca, cert: certs.strangerCert, key: certs.strangerKey })).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
  });

  it("refuses a plaintext client", async () => {
    await expect(callWith(undefined)).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});

describe("TLS credentials", () => {
  it("accepts PEM contents as well as paths, and server-only TLS", async () => {
    const [ca, cert, key] = await Promise.all([
      readFile(certs.ca),
      readFile(certs.serverCert, "utf8"),
      readFile(certs.serverKey),
    ]);
    const id = await withService(
      "tcp",
      SchedulerService,
      handlers,
      SchedulerClient,
      async ({ client }) => (await unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "tls" }))).task?.id,
      { tls: { cert, key }, client: { tls: { ca } } },
    );
    expect(id).toBe("tls");
  });

  it("rejects incomplete or unreadable TLS settings with INVALID_ARGUMENT", () => {
    expect(() => serverCredentials({ cert: certs.serverCert, key: certs.serverKey, requireClientCert: true })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", reason: "tls-missing-ca" }),
    );
    expect(() => channelCredentials({ ca: certs.ca, cert: certs.clientCert })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", reason: "tls-incomplete-client-cert" }),
    );
    expect(() => serverCredentials({ cert: join(certDir, "missing.crt"), key: certs.serverKey })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", reason: "tls-unreadable-pem" }),
    );
  });
});
