import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { contentSlice, generateContent } from "@df/compliance-tests";
import { common, createRpcClient, daemonUpload, serverStream, unary } from "@df/rpc";
import {
  currentTaskId,
  download,
  kinds,
  pieces,
  sha256,
  sha256File,
  startDaemon,
  startOrigin,
  startScheduler,
  waitFor,
} from "./test-support/cluster.js";

const MiB = 1024 * 1024;

function contentSha(seed: number, size: number): string {
  return sha256(Buffer.from(generateContent(seed, 0, size)));
}

/** A scheduler, a seed peer and two peers on loopback, and an origin. */
async function startCluster() {
  const origin = await startOrigin();
  const { scheduler, address } = await startScheduler();
  const seed = await startDaemon({ name: "seed", scheduler: address, seed: true });
  const peerA = await startDaemon({ name: "peer-a", scheduler: address });
  const peerB = await startDaemon({ name: "peer-b", scheduler: address });
  return { origin, scheduler, seed, peerA, peerB };
}

describe("a cluster: scheduler, seed peer, two peers", () => {
  it("every daemon announces its host, the seed as a seed", async () => {
    const { scheduler, seed, peerA, peerB } = await startCluster();
    await waitFor(() => scheduler.resources.hosts.size === 3, 5000, "three hosts");
    expect(scheduler.resources.hosts.get(seed.host.id)?.type).toBe("seed");
    expect(scheduler.resources.hosts.get(peerA.host.id)?.type).toBe("normal");
    expect(scheduler.resources.hosts.get(peerB.host.id)?.info.port).toBe(Number(peerB.addresses.upload.split(":").at(-1)));
  });

  it("a peer downloads a multi-piece file through the seed; the origin serves it about once", async () => {
    const { origin, seed, peerA, peerB } = await startCluster();
    const size = 21 * MiB + 4321;
    const url = origin.publish("/cluster.bin", { size, seed: 31 });
    const outA = path.join(peerA.dir, "a.out");

    const responsesA = await download(peerA.addresses.socket, { url, outputPath: outA });

    expect(await sha256File(outA)).toBe(contentSha(31, size));
    const fromA = pieces(responsesA);
    expect(fromA).toHaveLength(6);
    expect(fromA.every((piece) => piece.trafficType === common.TrafficType.REMOTE_PEER && piece.parentId)).toBe(true);
    const taskId = currentTaskId(origin, { url });
    await waitFor(() => seed.storage.getTask(taskId)?.complete === true, 10_000, "the seed to complete the task");

    const outB = path.join(peerB.dir, "b.out");
    const responsesB = await download(peerB.addresses.socket, { url, outputPath: outB });
    expect(await sha256File(outB)).toBe(contentSha(31, size));
    expect(pieces(responsesB).every((piece) => piece.trafficType === common.TrafficType.REMOTE_PEER)).toBe(true);
    // The seed's stat probe costs a byte; everything else came from peers.
    expect(origin.stats("/cluster.bin").bytesServed).toBeLessThanOrEqual(size + 2);
  });

  it("two peers at once share the seed's single fetch", async () => {
    const { origin, peerA, peerB } = await startCluster();
    const size = 16 * MiB;
    const url = origin.publish("/herd.bin", { size, seed: 32 });

    const [a, b] = await Promise.all([
      download(peerA.addresses.socket, { url, outputPath: path.join(peerA.dir, "a.out") }),
      download(peerB.addresses.socket, { url, outputPath: path.join(peerB.dir, "b.out") }),
    ]);

    expect(kinds(a).at(-1)).toBe("finished");
    expect(kinds(b).at(-1)).toBe("finished");
    expect(await sha256File(path.join(peerA.dir, "a.out"))).toBe(contentSha(32, size));
    expect(await sha256File(path.join(peerB.dir, "b.out"))).toBe(contentSha(32, size));
    expect(origin.stats("/herd.bin").bytesServed).toBeLessThanOrEqual(size + 2);
  });

  it("a ranged request fetches only the pieces its range touches, from peers", async () => {
    const { origin, peerA, peerB } = await startCluster();
    const size = 20 * MiB;
    const url = origin.publish("/range.bin", { size, seed: 38 });
    await download(peerA.addresses.socket, { url });
    const range = { start: 9 * MiB, length: 4 * MiB };
    const output = path.join(peerB.dir, "range.out");

    const responses = await download(peerB.addresses.socket, { url, range, outputPath: output });

    expect(pieces(responses).map((piece) => piece.number).sort()).toEqual([2, 3]);
    expect(pieces(responses).every((piece) => piece.trafficType === common.TrafficType.REMOTE_PEER)).toBe(true);
    expect(sha256(await readFile(output))).toBe(sha256(contentSlice({ size, seed: 38 }, range.start, range.length)));
    const taskId = currentTaskId(origin, { url });
    expect(peerB.storage.getTask(taskId)?.info.finishedPieceCount).toBe(2);
    expect(origin.stats("/range.bin").bytesServed).toBeLessThanOrEqual(size + 1);
  });

  it("downloads an empty file and a one-byte file", async () => {
    const { origin, peerA, peerB } = await startCluster();
    const empty = origin.publish("/empty", new Uint8Array(0));
    const one = origin.publish("/one", Buffer.from("z"));

    await download(peerA.addresses.socket, { url: empty, outputPath: path.join(peerA.dir, "empty.out") });
    await download(peerB.addresses.socket, { url: empty, outputPath: path.join(peerB.dir, "empty.out") });
    await download(peerA.addresses.socket, { url: one, outputPath: path.join(peerA.dir, "one.out") });

    expect((await stat(path.join(peerA.dir, "empty.out"))).size).toBe(0);
    expect((await stat(path.join(peerB.dir, "empty.out"))).size).toBe(0);
    expect(await readFile(path.join(peerA.dir, "one.out"), "utf8")).toBe("z");
  });

  it("a peer sent to the origin goes back to peers once a finished peer can serve, and takes the rest from it", async () => {
    const origin = await startOrigin();
    // Every peer is sent to the source at once: no seed, and no scheduling rounds first.
    const { address } = await startScheduler("127.0.0.1:0", { retryBackToSourceLimit: 0 });
    const peerA = await startDaemon({ name: "peer-a", scheduler: address });
    // One ranged request at a time: it asks the swarm again after every two pieces.
    const peerB = await startDaemon({ name: "peer-b", scheduler: address, config: { download: { backToSourceConcurrency: 1 } } });
    const size = 6 * 4 * MiB;
    const url = origin.publish("/return.bin", { size, seed: 39 });
    await download(peerA.addresses.socket, { url });
    const servedToA = origin.stats("/return.bin").bytesServed;

    const output = path.join(peerB.dir, "b.out");
    const responses = await download(peerB.addresses.socket, { url, outputPath: output });

    expect(await sha256File(output)).toBe(contentSha(39, size));
    const got = pieces(responses);
    const fromSource = got.filter((piece) => piece.trafficType === common.TrafficType.BACK_TO_SOURCE);
    const fromPeers = got.filter((piece) => piece.trafficType === common.TrafficType.REMOTE_PEER);
    expect(fromSource).toHaveLength(2);
    expect(fromPeers).toHaveLength(4);
    expect(fromPeers.every((piece) => (piece.parentId ?? "").includes("peer-a"))).toBe(true);
    expect(origin.stats("/return.bin").bytesServed - servedToA).toBeLessThanOrEqual(2 * 4 * MiB + 1);
    const metrics = await peerB.metrics.text();
    expect(metrics).toMatch(/df_daemon_back_to_source_total\{reason="scheduler",host_id="[^"]+"\} 1/);
    expect(metrics).toMatch(/df_daemon_back_to_peers_total\{host_id="[^"]+"\} 1/);
  });

  it("answers NOT_FOUND when the origin has no such file", async () => {
    const { origin, peerA } = await startCluster();

    await expect(download(peerA.addresses.socket, { url: origin.url("/nothing-here") })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("fails clearly when back-to-source is disabled and no peer holds the task, without touching the origin", async () => {
    const { origin, peerA } = await startCluster();
    const url = origin.publish("/nobody-has-it", { size: MiB, seed: 33 });

    const failure = download(peerA.addresses.socket, { url, disableBackToSource: true });

    await expect(failure).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
      message: expect.stringContaining("back-to-source is disabled"),
    });
    // Only the HEAD that names the version: not a byte of the content.
    expect(origin.stats("/nobody-has-it")).toMatchObject({ requests: 1, heads: 1, gets: 0 });
  });

  it("the seed's download goes on when the scheduler stops reading the trigger", async () => {
    const { origin, seed } = await startCluster();
    const size = 9 * MiB;
    const url = origin.publish("/trigger.bin", { size, seed: 34 }, { delayMs: 100 });
    const client = createRpcClient(daemonUpload.DfdaemonUploadClient, seed.addresses.upload);
    try {
      const controller = new AbortController();
      const stream = serverStream(
        client,
        "downloadTask",
        daemonUpload.DownloadTaskRequest.create({ download: common.Download.create({ url, needBackToSource: true }) }),
        { signal: controller.signal },
      );
      const first = await stream.next();
      expect(first.value?.response?.$case).toBe("started");
      controller.abort();
    } finally {
      client.close();
    }
    const taskId = currentTaskId(origin, { url });
    await waitFor(() => seed.storage.getTask(taskId)?.complete === true, 10_000, "the seed to finish");
  });

  it("refuses over the network a DeleteTask, and a trigger that names its own content for the task ID", async () => {
    const { origin, seed } = await startCluster();
    const url = origin.publish("/kept.bin", { size: MiB, seed: 35 });
    await download(seed.addresses.socket, { url });
    const taskId = currentTaskId(origin, { url });
    const client = createRpcClient(daemonUpload.DfdaemonUploadClient, seed.addresses.upload);
    try {
      await expect(unary(client, "deleteTask", daemonUpload.DeleteTaskRequest.create({ taskId }))).rejects.toMatchObject({
        code: "PERMISSION_DENIED",
        reason: "remote-delete-refused",
      });
      expect(seed.storage.getTask(taskId)?.complete).toBe(true);
      const poisoned = serverStream(
        client,
        "downloadTask",
        daemonUpload.DownloadTaskRequest.create({ download: common.Download.create({ url: origin.url("/evil.bin"), contentForCalculatingTaskId: "x" }) }),
      );
      await expect(poisoned.next()).rejects.toMatchObject({ code: "PERMISSION_DENIED", reason: "remote-content-id-refused" });
      expect(origin.stats("/evil.bin").requests).toBe(0);
    } finally {
      client.close();
    }
  });
});

describe("a cluster whose scheduler dies mid-download", () => {
  it("finishes the download from the parents it already has", async () => {
    const { origin, scheduler, seed, peerA } = await startCluster();
    const size = 12 * MiB;
    const url = origin.publish("/orphan.bin", { size, seed: 37 }, { delayMs: 200 });
    const taskId = currentTaskId(origin, { url });
    const output = path.join(peerA.dir, "out");

    const pending = download(peerA.addresses.socket, { url, outputPath: output });
    await waitFor(() => peerA.storage.getTask(taskId) !== undefined, 10_000, "the peer to learn the task from the seed");
    await scheduler.stop();
    await pending;

    expect(await sha256File(output)).toBe(contentSha(37, size));
    expect(seed.storage.getTask(taskId)?.complete).toBe(true);
    expect(origin.stats("/orphan.bin").bytesServed).toBeLessThanOrEqual(size + 1);
  });
});

describe("a cluster whose seed peer stalls", () => {
  it("reschedules a stalled download, then goes back to source", async () => {
    const origin = await startOrigin();
    const { address } = await startScheduler();
    const seed = await startDaemon({ name: "seed", scheduler: address, seed: true });
    const peer = await startDaemon({ name: "peer", scheduler: address, config: { download: { stallTimeout: "1s" } } });
    const size = 10 * MiB;
    // Every GET stops after 1000 bytes: the seed's piece requests hang.
    const url = origin.publish("/stuck.bin", { size, seed: 36 }, { stallAt: 1000 });
    const taskId = currentTaskId(origin, { url });
    const output = path.join(peer.dir, "out");

    const pending = download(peer.addresses.socket, { url, outputPath: output });
    // The seed's stat probe and its three piece requests: all stuck once they are in.
    await waitFor(() => origin.stats("/stuck.bin").gets >= 4, 10_000, "the seed's piece requests");
    // New requests get the whole body; the seed's are already stuck.
    origin.publish("/stuck.bin", { size, seed: 36 });
    const responses = await pending;

    expect(await sha256File(output)).toBe(contentSha(36, size));
    expect(pieces(responses).every((piece) => piece.trafficType === common.TrafficType.BACK_TO_SOURCE)).toBe(true);
    expect(seed.storage.getTask(taskId)?.complete).toBe(false);
  });
});

describe("a scheduler restarted with no memory of this host", () => {
  it("learns the host again when a download registers, and schedules it", async () => {
    const origin = await startOrigin();
    const { scheduler: before, address } = await startScheduler();
    const peer = await startDaemon({ name: "survivor", scheduler: address });
    await before.stop();
    const { scheduler } = await startScheduler(address);
    expect(scheduler.resources.hosts.has(peer.host.id)).toBe(false);
    const url = origin.publish("/late.bin", Buffer.alloc(3000, 2));

    const responses = await download(peer.addresses.socket, { url });

    expect(kinds(responses).at(-1)).toBe("finished");
    expect(scheduler.resources.hosts.has(peer.host.id)).toBe(true);
    const taskId = currentTaskId(origin, { url });
    expect(scheduler.resources.tasks.get(taskId)?.hasAvailablePeer()).toBe(true);
  });
});

describe("a daemon restarted with a complete task in its store", () => {
  it("serves it locally and announces it, so the scheduler hands it out as a parent again", async () => {
    const origin = await startOrigin();
    const { scheduler, address } = await startScheduler();
    const first = await startDaemon({ name: "keeper", scheduler: address, manualStop: true });
    const url = origin.publish("/kept.bin", { size: 5 * MiB, seed: 39 });
    const taskId = currentTaskId(origin, { url });
    await download(first.addresses.socket, { url });
    await first.stop();
    // A clean stop leaves the scheduler: it no longer knows anyone holds the task.
    expect(scheduler.resources.tasks.get(taskId)?.hasAvailablePeer() ?? false).toBe(false);

    const second = await startDaemon({ name: "keeper", scheduler: address, dir: first.dir });
    origin.resetStats();
    const responses = await download(second.addresses.socket, { url });

    expect(kinds(responses)).toEqual(["started", "finished"]);
    // One conditional HEAD (revalidation), answered 304: no byte of the content.
    expect(origin.stats("/kept.bin")).toMatchObject({ requests: 1, heads: 1, notModified: 1, bytesServed: 0 });
    await waitFor(() => scheduler.resources.tasks.get(taskId)?.hasAvailablePeer() === true, 5000, "the AnnounceTask");
    const other = await startDaemon({ name: "other", scheduler: address });
    const fromPeer = await download(other.addresses.socket, { url });
    expect(pieces(fromPeer).every((piece) => piece.trafficType === common.TrafficType.REMOTE_PEER)).toBe(true);
    // The other peer's HEAD named the version; the bytes came from the keeper.
    expect(origin.stats("/kept.bin")).toMatchObject({ gets: 0, bytesServed: 0 });
  });
});

describe("a peer with a scheduler but no seed peer", () => {
  it("goes back to source when told to, and later serves the task from its store", async () => {
    const origin = await startOrigin();
    const { scheduler, address } = await startScheduler();
    const peer = await startDaemon({ name: "lonely", scheduler: address });
    const size = 5 * MiB;
    const url = origin.publish("/alone.bin", { size, seed: 35 });

    const first = await download(peer.addresses.socket, { url, outputPath: path.join(peer.dir, "1.out") });
    expect(pieces(first).every((piece) => piece.trafficType === common.TrafficType.BACK_TO_SOURCE)).toBe(true);
    const taskId = currentTaskId(origin, { url });
    await waitFor(() => scheduler.resources.tasks.get(taskId)?.hasAvailablePeer() === true, 5000, "the scheduler to know a holder");
    origin.resetStats();

    const second = await download(peer.addresses.socket, { url, outputPath: path.join(peer.dir, "2.out") });
    expect(kinds(second)).toEqual(["started", "finished"]);
    // Revalidated with one conditional HEAD (304), then served from the store.
    expect(origin.stats("/alone.bin")).toMatchObject({ requests: 1, notModified: 1, gets: 0 });
    expect(await sha256File(path.join(peer.dir, "2.out"))).toBe(contentSha(35, size));
  });
});

describe("private content in a cluster", () => {
  it("is shared only among callers that send the same credentials, unless a digest names it", async () => {
    const { origin, peerA, peerB } = await startCluster();
    const size = 5 * MiB + 77;
    const url = origin.publish("/private.bin", { size, seed: 41 });
    const alice = { authorization: "Bearer alice" };
    const ids = {
      alice: currentTaskId(origin, { url, requestHeader: alice }),
      anonymous: currentTaskId(origin, { url }),
      mallory: currentTaskId(origin, { url, requestHeader: { authorization: "Bearer mallory" } }),
    };
    expect(new Set(Object.values(ids)).size).toBe(3);

    await download(peerA.addresses.socket, { url, requestHeader: alice, outputPath: path.join(peerA.dir, "alice-a") });
    const once = origin.stats("/private.bin").bytesServed;
    expect(once).toBeLessThanOrEqual(size + 2);
    // Alice on another host: from the peers, the origin serves nothing more.
    const again = await download(peerB.addresses.socket, { url, requestHeader: { Authorization: "Bearer alice" }, outputPath: path.join(peerB.dir, "alice-b") });
    expect(pieces(again).every((piece) => piece.trafficType === common.TrafficType.REMOTE_PEER)).toBe(true);
    expect(origin.stats("/private.bin").bytesServed).toBe(once);

    // Without Alice's credentials, nobody's copy of hers is used: the origin is asked (and would refuse a real private file).
    const anonymous = path.join(peerB.dir, "anonymous");
    await download(peerB.addresses.socket, { url, outputPath: anonymous });
    expect(origin.stats("/private.bin").bytesServed).toBeGreaterThanOrEqual(once + size);
    expect(peerB.storage.getTask(ids.anonymous)?.complete).toBe(true);
    expect(await sha256File(anonymous)).toBe(contentSha(41, size));
    const beforeMallory = origin.stats("/private.bin").bytesServed;
    await download(peerA.addresses.socket, { url, requestHeader: { authorization: "Bearer mallory" }, outputPath: path.join(peerA.dir, "mallory") });
    expect(origin.stats("/private.bin").bytesServed).toBeGreaterThanOrEqual(beforeMallory + size);

    // With a digest the content is checked, and knowing the digest is what names it: other credentials share it.
    const digest = `sha256:${contentSha(41, size)}`;
    const withDigest = (authorization: string) => currentTaskId(origin, { url, digest, requestHeader: { authorization } });
    expect(withDigest("Bearer alice")).toBe(withDigest("Bearer mallory"));
    expect(withDigest("Bearer alice")).not.toBe(ids.anonymous);
  });
});
