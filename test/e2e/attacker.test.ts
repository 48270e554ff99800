// The attacker suite (issue 14): a real cluster (origin, scheduler, seed peer, two peers,
// each its own process) and a caller on the same network that tries what used to work
// against df. Each attempt must fail cleanly, with the status that says why, while
// honest downloads in the same cluster keep succeeding with the right bytes. Classes not
// built yet (mTLS, roles, digests recorded at the scheduler) are not faked here.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { taskId } from "@df/piece";
import { common, createRpcClient, daemonUpload, scheduler, serverStream, unary } from "@df/rpc";
import { dfget, startCluster, type Cluster } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MiB = 2 ** 20;
const SIZE = 9 * MiB + 77;

let dir: string;
let origin: OriginServer;
let cluster: Cluster;
let url: string;
let sha: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-attacker-"));
  origin = await startOriginServer();
  url = origin.publish("/public.bin", { seed: 61, size: SIZE });
  sha = createHash("sha256").update(generateContent(61, 0, SIZE)).digest("hex");
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 2 });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

const fileSha = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");

async function honestDownload(peer: number, name: string, extra: string[] = []): Promise<string> {
  const out = join(dir, name);
  const result = await dfget([url, "-O", out, "--endpoint", cluster.peers[peer]!.socket, "--no-progress", ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return fileSha(out);
}

function uploadClient(peer: number) {
  return createRpcClient(daemonUpload.DfdaemonUploadClient, cluster.peers[peer]!.upload, { defaultDeadlineMs: 10_000 });
}

/** A TCP forwarder whose connections to `target` leave from `sourceIp`: a second caller on the network. */
async function from(sourceIp: string, target: string): Promise<{ address: string; close(): Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host, port, localAddress: sourceIp });
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

describe("an attacker on the network", () => {
  it("cannot make a daemon fetch (and serve back) what only its network reaches: the cloud metadata endpoint", async () => {
    const client = uploadClient(1);
    try {
      const stream = serverStream(client, "downloadTask", daemonUpload.DownloadTaskRequest.create({ download: common.Download.create({ url: "http://169.254.169.254/latest/meta-data/iam/" }) }));
      await expect((async () => { for await (const _ of stream); })()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    } finally {
      client.close();
    }
    const local = await dfget(["http://169.254.169.254/latest/meta-data/", "-O", join(dir, "metadata.out"), "--endpoint", cluster.peers[0]!.socket, "--no-progress"]);
    expect(local.code).not.toBe(0);
    expect(local.stderr).toMatch(/link-local address/);
  });

  it("cannot file bytes of its choice under a task ID of its choice, nor delete a task over the network", async () => {
    expect(await honestDownload(0, "first.bin")).toBe(sha);
    const client = uploadClient(0);
    try {
      const poisoned = serverStream(
        client,
        "downloadTask",
        daemonUpload.DownloadTaskRequest.create({ download: common.Download.create({ url: origin.url("/evil.bin"), contentForCalculatingTaskId: url }) }),
      );
      await expect(poisoned.next()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
      await expect(unary(client, "deleteTask", daemonUpload.DeleteTaskRequest.create({ taskId: taskId({ url }) }))).rejects.toMatchObject({
        code: "PERMISSION_DENIED",
      });
    } finally {
      client.close();
    }
    // The other peer still gets the real bytes, from the swarm.
    const served = origin.stats("/public.bin").bytesServed;
    expect(await honestDownload(1, "second.bin")).toBe(sha);
    expect(origin.stats("/public.bin").bytesServed).toBe(served);
  });

  it("never gets private content fetched with someone else's credentials from a cache", async () => {
    const secret = origin.publish("/private.bin", { seed: 62, size: 3 * MiB });
    const withToken = await dfget([secret, "-O", join(dir, "alice.bin"), "--endpoint", cluster.peers[0]!.socket, "--no-progress", "-H", "Authorization: Bearer alice"]);
    expect(withToken.code, withToken.stderr).toBe(0);
    const served = origin.stats("/private.bin").bytesServed;
    const anonymous = await dfget([secret, "-O", join(dir, "anonymous.bin"), "--endpoint", cluster.peers[1]!.socket, "--no-progress"]);
    expect(anonymous.code, anonymous.stderr).toBe(0);
    // The origin was asked again (a real private origin would refuse the anonymous caller).
    expect(origin.stats("/private.bin").bytesServed).toBeGreaterThanOrEqual(served + 3 * MiB);
  });

  it("cannot make the scheduler hold a 4,000,000-piece task, nor delete another host, nor send it a 5 MiB message", async () => {
    const direct = createRpcClient(scheduler.SchedulerClient, cluster.scheduler.address, { defaultDeadlineMs: 10_000 });
    const elsewhere = await from("127.0.0.2", cluster.scheduler.address);
    const remote = createRpcClient(scheduler.SchedulerClient, elsewhere.address, { defaultDeadlineMs: 10_000 });
    try {
      const host = common.Host.create({ id: "attacker-host", hostname: "attacker", ip: "127.0.0.1", port: 1, downloadPort: 2 });
      await unary(direct, "announceHost", scheduler.AnnounceHostRequest.create({ host, intervalMs: 30_000 }));
      const started = performance.now();
      const huge = scheduler.AnnounceTaskRequest.create({
        hostId: "attacker-host",
        taskId: "a".repeat(64),
        peerId: "attacker-peer",
        download: common.Download.create({ url: "http://example.com/huge" }),
        contentLength: 4_000_000 * 4 * MiB,
        pieceLength: 4 * MiB,
        pieceCount: 4_000_000,
      });
      const refused = await unary(direct, "announceTask", huge).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: expect.stringMatching(/^(RESOURCE_EXHAUSTED|INVALID_ARGUMENT)$/) });
      expect(performance.now() - started).toBeLessThan(2000);

      // Another caller names the first peer's host.
      await expect(unary(remote, "deleteHost", scheduler.DeleteHostRequest.create({ hostId: cluster.peers[0]!.hostId }))).rejects.toMatchObject({
        code: "PERMISSION_DENIED",
      });
      const oversized = common.Host.create({ id: "big-host", hostname: "x".repeat(5 * MiB), ip: "127.0.0.1", port: 1, downloadPort: 2 });
      await expect(unary(direct, "announceHost", scheduler.AnnounceHostRequest.create({ host: oversized, intervalMs: 30_000 }))).rejects.toMatchObject({
        code: "RESOURCE_EXHAUSTED",
      });
    } finally {
      direct.close();
      remote.close();
      await elsewhere.close();
    }
    // The honest peer whose host the attacker named still downloads through the swarm.
    const fresh = origin.publish("/after.bin", { seed: 63, size: 2 * MiB });
    const after = await dfget([fresh, "-O", join(dir, "after.bin"), "--endpoint", cluster.peers[0]!.socket, "--no-progress"]);
    expect(after.code, after.stderr).toBe(0);
    expect(await fileSha(join(dir, "after.bin"))).toBe(createHash("sha256").update(generateContent(63, 0, 2 * MiB)).digest("hex"));
  });
});
