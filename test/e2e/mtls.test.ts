// mTLS between members (issue 14 item 1): a cluster of real processes (manager, scheduler,
// seed peer, two peers) started with `security.tls` on every member downloads through the
// swarm with the right bytes, and a caller without a member certificate (none, one from
// another CA, or plaintext) is refused by the scheduler, a daemon's upload gRPC, its
// piece port and the manager's fleet gRPC.
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { bidiStream, common, createRpcClient, daemonUpload, manager, scheduler, serverStream, unary, type ClientTlsOptions } from "@df/rpc";
import { dfget, startCluster, type Cluster } from "@df/example-local-cluster/cluster";
import { signCertificate, type TlsFiles } from "@df/example-local-cluster/certs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MiB = 2 ** 20;
const SIZE = 13 * MiB + 5;

let dir: string;
let origin: OriginServer;
let cluster: Cluster;
let url: string;
let sha: string;
let tester: TlsFiles;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-mtls-"));
  origin = await startOriginServer();
  url = origin.publish("/secure.bin", { seed: 71, size: SIZE });
  sha = createHash("sha256").update(generateContent(71, 0, SIZE)).digest("hex");
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 2, manager: true, tls: true });
  // A peer of this test's own: host 127.0.0.1-tester (hostname "tester").
  const signed = await signCertificate(join(dir, "cluster", "tls"), "tester", "ca", ["IP:127.0.0.1", "URI:spiffe://df/peer/127.0.0.1-tester"]);
  tester = { ca: cluster.certs!.ca, ...signed };
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  if (!process.env.DF_KEEP) await rm(dir, { recursive: true, force: true });
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

/**
 * The ID of the one task the first peer holds (after the first test's download). Task IDs
 * carry the origin's version (ETag and length), so the test reads it rather than
 * computing it from the URL.
 */
function heldTaskId(): string {
  const tasks = join(cluster.dir, "peer-1", "storage", "content", "tasks");
  const ids = readdirSync(tasks).flatMap((shard) => readdirSync(join(tasks, shard)));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** GET of a piece on a byte port: the status, or the error that ended the request. */
async function getPiece(address: string, path: string, tls: TlsFiles | { ca: string } | undefined): Promise<number | Error> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  const options = { host, port, path, method: "GET", timeout: 10_000 };
  const credentials = tls
    ? { ca: await readFile(tls.ca), ...("cert" in tls ? { cert: await readFile(tls.cert), key: await readFile(tls.key) } : {}), agent: false as const }
    : undefined;
  return new Promise((resolve) => {
    const done = (response: IncomingMessage) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    };
    const request = credentials ? httpsRequest({ ...options, ...credentials }, done) : httpRequest(options, done);
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
        return await unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: heldTaskId() }));
      } finally {
        client.close();
      }
    };
    expect((await call(files(tester))).task?.id).toBe(heldTaskId());
    for (const [who, tls] of outsiders()) await expect(call(tls), who).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("a daemon's upload gRPC serves a member and refuses any other caller", async () => {
    const call = async (tls: ClientTlsOptions | undefined) => {
      const client = createRpcClient(daemonUpload.DfdaemonUploadClient, cluster.peers[0]!.upload, { defaultDeadlineMs: 5000, ...(tls ? { tls } : {}) });
      try {
        return await unary(client, "statTask", daemonUpload.StatTaskRequest.create({ taskId: heldTaskId() }));
      } finally {
        client.close();
      }
    };
    expect((await call(files(tester))).task?.id).toBe(heldTaskId());
    for (const [who, tls] of outsiders()) await expect(call(tls), who).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("a daemon's piece port serves a member over HTTPS and refuses any other caller", async () => {
    const path = `/pieces/${heldTaskId()}/0`;
    const bytes = cluster.peers[0]!.bytes;
    expect(await getPiece(bytes, path, tester)).toBe(200);
    for (const tls of [{ ca: certs().ca }, certs().stranger, undefined]) {
      const outcome = await getPiece(bytes, path, tls);
      expect(outcome, JSON.stringify(tls)).toBeInstanceOf(Error);
    }
  });

  it("the manager's fleet gRPC serves a member and refuses any other caller", async () => {
    const call = async (tls: ClientTlsOptions | undefined) => {
      const client = createRpcClient(manager.ManagerClient, cluster.manager!.grpc, { defaultDeadlineMs: 5000, ...(tls ? { tls } : {}) });
      try {
        return await unary(client, "listSchedulers", manager.ListSchedulersRequest.create({ sourceType: manager.SourceType.PEER, hostname: "tester", ip: "127.0.0.1" }));
      } finally {
        client.close();
      }
    };
    const answer = await call(files(tester));
    expect(answer.schedulers.length).toBeGreaterThan(0);
    for (const [who, tls] of outsiders()) await expect(call(tls), who).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});

describe("authorization by role, per RPC, from the member certificate", () => {
  const member = (name: string): ClientTlsOptions => files(certs().members[name]!);
  const peerCert = async (name: string, uri: string): Promise<ClientTlsOptions> => files({ ca: certs().ca, ...(await signCertificate(join(dir, "cluster", "tls"), name, "ca", ["IP:127.0.0.1", `URI:${uri}`])) });

  const schedulerClient = (tls: ClientTlsOptions) => createRpcClient(scheduler.SchedulerClient, cluster.scheduler.address, { defaultDeadlineMs: 5000, tls });
  const peerClient = (tls: ClientTlsOptions) => createRpcClient(daemonUpload.DfdaemonUploadClient, cluster.peers[1]!.upload, { defaultDeadlineMs: 5000, tls });
  const managerClient = (tls: ClientTlsOptions) => createRpcClient(manager.ManagerClient, cluster.manager!.grpc, { defaultDeadlineMs: 5000, tls });
  async function using<C extends { close(): void }, T>(client: C, use: (client: C) => Promise<T>): Promise<T> {
    try {
      return await use(client);
    } finally {
      client.close();
    }
  }
  const onScheduler = <T>(tls: ClientTlsOptions, use: (client: ReturnType<typeof schedulerClient>) => Promise<T>) => using(schedulerClient(tls), use);
  const onPeer = <T>(tls: ClientTlsOptions, use: (client: ReturnType<typeof peerClient>) => Promise<T>) => using(peerClient(tls), use);
  const onManager = <T>(tls: ClientTlsOptions, use: (client: ReturnType<typeof managerClient>) => Promise<T>) => using(managerClient(tls), use);
  const denied = (role: string) => ({ code: "PERMISSION_DENIED", message: expect.stringContaining(role) });
  const host = (id: string, type = common.HostType.NORMAL) => common.Host.create({ id, hostname: "tester", ip: "127.0.0.1", port: 1, downloadPort: 2, type });

  it("scheduler: a host announces and deletes only itself; only daemons announce; only the manager preheats", async () => {
    const me = files(tester);
    await onScheduler(me, (c) => unary(c, "announceHost", scheduler.AnnounceHostRequest.create({ host: host("127.0.0.1-tester"), intervalMs: 30_000 })));
    await onScheduler(me, (c) => unary(c, "deleteHost", scheduler.DeleteHostRequest.create({ hostId: "127.0.0.1-tester" })));
    await expect(onScheduler(me, (c) => unary(c, "deleteHost", scheduler.DeleteHostRequest.create({ hostId: cluster.peers[0]!.hostId })))).rejects.toMatchObject(
      denied("DeleteHost: a peer (127.0.0.1-tester) may act only for itself"),
    );
    await expect(onScheduler(me, (c) => unary(c, "announceHost", scheduler.AnnounceHostRequest.create({ host: host(cluster.peers[0]!.hostId), intervalMs: 30_000 })))).rejects.toMatchObject(denied("AnnounceHost"));
    // A peer may not announce itself as a seed peer.
    await expect(onScheduler(me, (c) => unary(c, "announceHost", scheduler.AnnounceHostRequest.create({ host: host("127.0.0.1-tester", common.HostType.SEED), intervalMs: 30_000 })))).rejects.toMatchObject(denied("seed"));
    await expect(onScheduler(member("scheduler-1"), (c) => unary(c, "announceHost", scheduler.AnnounceHostRequest.create({ host: host("scheduler-1"), intervalMs: 30_000 })))).rejects.toMatchObject(
      denied("AnnounceHost may not be called by a scheduler"),
    );
    // Each message of a stream is checked: an AnnouncePeer for another host is cut.
    await expect(
      onScheduler(me, async (c) => {
        const call = bidiStream(c, "announcePeer");
        await call.write(scheduler.AnnouncePeerRequest.create({ hostId: cluster.peers[0]!.hostId, taskId: heldTaskId(), peerId: `${cluster.peers[0]!.hostId}-x` }));
        for await (const _ of call);
      }),
    ).rejects.toMatchObject(denied("AnnouncePeer: a peer (127.0.0.1-tester) may act only for itself"));
    const preheat = scheduler.PreheatTaskRequest.create({ download: common.Download.create({ url }) });
    await expect(onScheduler(me, (c) => unary(c, "preheatTask", preheat))).rejects.toMatchObject(denied("PreheatTask may not be called by a peer"));
    // The manager may (the task exists already: the preheat is answered at once).
    await expect(onScheduler(member("manager"), (c) => unary(c, "preheatTask", preheat))).resolves.toBeDefined();
  });

  it("a daemon's upload service: peers ask for piece metadata, only a scheduler triggers a download, nobody deletes", async () => {
    const id = heldTaskId();
    expect((await onPeer(files(tester), (c) => unary(c, "statTask", daemonUpload.StatTaskRequest.create({ taskId: id })))).task?.id).toBe(id);
    await expect(onPeer(member("scheduler-1"), (c) => unary(c, "statTask", daemonUpload.StatTaskRequest.create({ taskId: id })))).rejects.toMatchObject(
      denied("StatTask may not be called by a scheduler"),
    );
    const trigger = daemonUpload.DownloadTaskRequest.create({ download: common.Download.create({ url }) });
    await expect(onPeer(files(tester), async (c) => { for await (const _ of serverStream(c, "downloadTask", trigger)); })).rejects.toMatchObject(
      denied("DownloadTask may not be called by a peer"),
    );
    // The scheduler may: the peer holds the task and answers at once.
    const first = await onPeer(member("scheduler-1"), async (c) => (await serverStream(c, "downloadTask", trigger)[Symbol.asyncIterator]().next()).value as daemonUpload.DownloadTaskResponse);
    expect(first.taskId).toBe(id);
    await expect(onPeer(member("scheduler-1"), (c) => unary(c, "deleteTask", daemonUpload.DeleteTaskRequest.create({ taskId: id })))).rejects.toMatchObject(
      denied("no remote caller"),
    );
  });

  it("a daemon's piece port serves daemons only, and a certificate without a df role is refused", async () => {
    const path = `/pieces/${heldTaskId()}/0`;
    const bytes = cluster.peers[1]!.bytes;
    expect(await getPiece(bytes, path, certs().members["scheduler-1"]!)).toBe(403);
    expect(await getPiece(bytes, path, certs().members["manager"]!)).toBe(403);
    const nobody = await signCertificate(join(dir, "cluster", "tls"), "nobody", "ca", ["IP:127.0.0.1"]);
    expect(await getPiece(bytes, path, { ca: certs().ca, ...nobody })).toBe(403);
    expect(await getPiece(bytes, path, tester)).toBe(200);
  });

  it("the manager: members only, each for its own registration", async () => {
    const me = files(tester);
    const list = (hostname: string) => manager.ListSchedulersRequest.create({ sourceType: manager.SourceType.PEER, hostname, ip: "127.0.0.1" });
    expect((await onManager(me, (c) => unary(c, "listSchedulers", list("tester")))).schedulers.length).toBeGreaterThan(0);
    await expect(onManager(me, (c) => unary(c, "listSchedulers", list("made-up-1")))).rejects.toMatchObject(denied("ListSchedulers: a peer (127.0.0.1-tester)"));
    const hijack = manager.UpdateSchedulerRequest.create({ sourceType: manager.SourceType.SCHEDULER, hostname: "scheduler-1", ip: "127.0.0.1", port: 1 });
    await expect(onManager(me, (c) => unary(c, "updateScheduler", hijack))).rejects.toMatchObject(denied("UpdateScheduler may not be called by a peer"));
    const other = await peerCert("scheduler-9", "spiffe://df/scheduler/scheduler-9");
    await expect(onManager(other, (c) => unary(c, "updateScheduler", hijack))).rejects.toMatchObject(denied("UpdateScheduler: a scheduler (scheduler-9) may act only for itself"));
    // The real scheduler is still registered at its own address.
    const answer = await onManager(me, (c) => unary(c, "listSchedulers", list("tester")));
    expect(answer.schedulers.map((s) => `${s.ip}:${s.port}`)).toContain(cluster.scheduler.address);
  });
});
