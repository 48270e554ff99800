import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { dfget, startCluster, type Cluster } from "@df/example-local-cluster/cluster";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const MiB = 2 ** 20;
const SIZE = 48 * MiB + 321;
// Uploads are capped so that a download takes seconds and can be interrupted.
const env = { DF_DAEMON_UPLOAD__RATE_LIMIT: "8Mi" };

let origin: OriginServer;
let cluster: Cluster;
let dir: string;
let url: string;
let digest: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-faults-"));
  origin = await startOriginServer();
  origin.publish("/big.bin", { seed: 11, size: SIZE });
  url = origin.url("/big.bin");
  const hash = createHash("sha256");
  for (let offset = 0; offset < SIZE; offset += 8 * MiB) hash.update(generateContent(11, offset, Math.min(8 * MiB, SIZE - offset)));
  digest = hash.digest("hex");
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 2, env });
}, 60_000);

afterEach(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Waits until `peer` has stored at least one piece of the task (its piece log has a
 * record). The task ID carries the origin's version (ETag, Last-Modified), so the log is
 * found by looking: the peer holds this one task only.
 */
async function waitForFirstPiece(peerName: string): Promise<void> {
  const tasks = join(dir, "cluster", peerName, "storage", "metadata", "tasks");
  const largestLog = async (): Promise<number> => {
    let largest = 0;
    for (const shard of await readdir(tasks).catch(() => [])) {
      for (const name of await readdir(join(tasks, shard)).catch(() => [])) {
        if (name.endsWith(".pieces")) largest = Math.max(largest, (await stat(join(tasks, shard, name)).catch(() => undefined))?.size ?? 0);
      }
    }
    return largest;
  };
  for (let waited = 0; (await largestLog()) < 24; waited += 50) {
    if (waited > 30_000) throw new Error(`${peerName} stored no piece within 30 s`);
    await sleep(50);
  }
}

const fileDigest = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");

describe("P2P faults", () => {
  it("finishes when its parent dies mid-download, with the right bytes", async () => {
    const [peer1, peer2] = cluster.peers;
    const first = await dfget([url, "-O", join(dir, "first.bin"), "--endpoint", peer1!.socket, "--no-progress"]);
    expect(first.code, first.stderr).toBe(0);
    const pending = dfget([url, "-O", join(dir, "second.bin"), "--endpoint", peer2!.socket, "--no-progress"]);
    await waitForFirstPiece(peer2!.name);
    await cluster.seed!.process.kill();
    const second = await pending;
    expect(second.code, second.stderr).toBe(0);
    expect(await fileDigest(join(dir, "second.bin"))).toBe(digest);
  }, 90_000);

  it("finishes from the source when the scheduler dies mid-download", async () => {
    const pending = dfget([url, "-O", join(dir, "out.bin"), "--endpoint", cluster.peers[0]!.socket, "--no-progress"]);
    await waitForFirstPiece(cluster.peers[0]!.name);
    await cluster.scheduler.process.kill();
    const result = await pending;
    expect(result.code, result.stderr).toBe(0);
    expect(await fileDigest(join(dir, "out.bin"))).toBe(digest);
  }, 90_000);

  it("resumes after the daemon restarts mid-download, keeping the pieces it had", async () => {
    const peer = cluster.peers[0]!;
    const pending = dfget([url, "-O", join(dir, "resumed.bin"), "--endpoint", peer.socket, "--no-progress"]);
    await waitForFirstPiece(peer.name);
    await peer.process.kill();
    const interrupted = await pending;
    expect(interrupted.code).not.toBe(0);
    const restarted = await cluster.startDaemon(peer.name, false);
    const result = await dfget([url, "-O", join(dir, "resumed.bin"), "--endpoint", restarted.socket, "--no-progress", "--overwrite"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.sources.local ?? 0).toBeGreaterThan(0);
    expect(await fileDigest(join(dir, "resumed.bin"))).toBe(digest);
    await restarted.process.stop();
  }, 90_000);
});
