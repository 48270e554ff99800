// mTLS between members (issue 14 item 1): a cluster of real processes (manager, scheduler,
// seed peer, two peers) started with `security.tls` on every member downloads through the
// swarm with the right bytes, and a caller without a member certificate (none, one from
// another CA, or plaintext) is refused by the scheduler, a daemon's upload gRPC, its
// piece port and the manager's fleet gRPC.
import { createHash } from "node:crypto";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { taskId } from "@df/piece";
import { createRpcClient, daemonUpload, manager, scheduler, unary, type ClientTlsOptions } from "@df/rpc";
import { dfget, startCluster, type Cluster } from "@df/example-local-cluster/cluster";
import type { TlsFiles } from "@df/example-local-cluster/certs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MiB = 2 ** 20;
const SIZE = 13 * MiB + 5;

let dir: string;
let origin: OriginServer;
let cluster: Cluster;
let url: string;
let sha: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-mtls-"));
  origin = await startOriginServer();
  url = origin.publish("/secure.bin", { seed: 71, size: SIZE });
  sha = createHash("sha256").update(generateContent(71, 0, SIZE)).digest("hex");
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 2, manager: true, tls: true });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

const certs = () => cluster.certs!;
const files = (f: TlsFiles): ClientTlsOptions => ({ ca: f.ca, cert: f.cert, key: f.key });

/** Callers that must be refused: no client certificate, one another CA signed, plaintext. */
const outsiders = (): [string, ClientTlsOptions | undefined][] => [
  ["no client certificate", { ca: certs().ca }],
  ["a certificate from another CA", files(certs().stranger)],
  ["plaintext", undefined],
];

async function download(peer: number, name: string): Promise<{ sources: Record<string, number | undefined>; sha: string }> {
  const out = join(dir, name);
  const result = await dfget([url, "-O", out, "--endpoint", cluster.peers[peer]!.socket, "--no-progress"]);
  expect(result.code, result.stderr).toBe(0);
  return { sources: result.sources, sha: createHash("sha256").update(await readFile(out)).digest("hex") };
}

/** GET of a piece on a byte port: the status, or the error that ended the request. */
function getPiece(address: string, path: string, tls: TlsFiles | { ca: string } | undefined): Promise<number | Error> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  return new Promise(async (resolve) => {
    const options = { host, port, path, method: "GET", timeout: 10_000 };
    const done = (response: import("node:http").IncomingMessage) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    };
    const request = tls
      ? httpsRequest({
          ...options,
          ca: await readFile(tls.ca),
          ...("cert" in tls ? { cert: await readFile(tls.cert), key: await readFile(tls.key) } : {}),
          agent: false,
        }, done)
      : httpRequest(options, done);
    request.on("error", (error) => resolve(error));
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.end();
  });
}

describe("a cluster with mTLS on every member", () => {
  it("downloads through the swarm with the right bytes", async () => {
    const first = await download(0, "first.bin");
    expect(first.sha).toBe(sha);
    const served = origin.stats("/secure.bin").bytesServed;
    const second = await download(1, "second.bin");
    expect(second.sha).toBe(sha);
    // The second peer's bytes came over the members' HTTPS piece ports, not the origin.
    expect(origin.stats("/secure.bin").bytesServed).toBe(served);
    expect((second.sources.seed ?? 0) + (second.sources.peers ?? 0)).toBeGreaterThan(0);
  });

  it("the scheduler serves a member and refuses any other caller", async () => {
    const call = async (tls: ClientTlsOptions | undefined) => {
      const client = createRpcClient(scheduler.SchedulerClient, cluster.scheduler.address, { defaultDeadlineMs: 5000, ...(tls ? { tls } : {}) });
      try {
        return await unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: taskId({ url }) }));
      } finally {
        client.close();
      }
    };
    expect((await call(files(certs().members["scheduler-1"]!))).task?.id).toBe(taskId({ url }));
    for (const [who, tls] of outsiders()) await expect(call(tls), who).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("a daemon's upload gRPC serves a member and refuses any other caller", async () => {
    const call = async (tls: ClientTlsOptions | undefined) => {
      const client = createRpcClient(daemonUpload.DfdaemonUploadClient, cluster.peers[0]!.upload, { defaultDeadlineMs: 5000, ...(tls ? { tls } : {}) });
      try {
        return await unary(client, "statTask", daemonUpload.StatTaskRequest.create({ taskId: taskId({ url }) }));
      } finally {
        client.close();
      }
    };
    expect((await call(files(certs().members["scheduler-1"]!))).task?.id).toBe(taskId({ url }));
    for (const [who, tls] of outsiders()) await expect(call(tls), who).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("a daemon's piece port serves a member over HTTPS and refuses any other caller", async () => {
    const path = `/pieces/${taskId({ url })}/0`;
    const bytes = cluster.peers[0]!.bytes;
    expect(await getPiece(bytes, path, certs().members["scheduler-1"]!)).toBe(200);
    for (const tls of [{ ca: certs().ca }, certs().stranger, undefined]) {
      const outcome = await getPiece(bytes, path, tls);
      expect(outcome, JSON.stringify(tls)).toBeInstanceOf(Error);
    }
  });

  it("the manager's fleet gRPC serves a member and refuses any other caller", async () => {
    const call = async (tls: ClientTlsOptions | undefined) => {
      const client = createRpcClient(manager.ManagerClient, cluster.manager!.grpc, { defaultDeadlineMs: 5000, ...(tls ? { tls } : {}) });
      try {
        return await unary(client, "listSchedulers", manager.ListSchedulersRequest.create({ sourceType: manager.SourceType.PEER, hostname: "peer-1", ip: "127.0.0.1" }));
      } finally {
        client.close();
      }
    };
    const answer = await call(files(certs().members["scheduler-1"]!));
    expect(answer.schedulers.length).toBeGreaterThan(0);
    for (const [who, tls] of outsiders()) await expect(call(tls), who).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});
