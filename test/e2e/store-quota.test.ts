import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { dfget as run, startCluster, type Cluster, type ClusterDaemon, type DfgetResult } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 15, problem 5: a full store makes room on demand. A daemon with a real store
// and a 20 MiB quota: a new task that does not fit evicts idle tasks, least recently
// used first, instead of refusing until the 15-minute GC; one that cannot fit even so
// is refused with what it needs and what eviction could free, and nothing is evicted.

const MiB = 2 ** 20;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let origin: OriginServer;
let cluster: Cluster;
let dir: string;
let peer: ClusterDaemon;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-quota-"));
  origin = await startOriginServer();
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 1, seed: false, env: { DF_DAEMON_STORAGE__QUOTA: "20Mi" } });
  peer = cluster.peers[0]!;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

function publish(path: string, size: number, seed: number): { url: string; digest: string } {
  origin.publish(path, { seed, size });
  return { url: origin.url(path), digest: sha256(generateContent(seed, 0, size)) };
}

async function download(url: string, name: string): Promise<DfgetResult & { output: string }> {
  const output = join(dir, name);
  const result = await run([url, "-O", output, "--endpoint", peer.socket, "--no-progress"], { timeoutMs: 60_000 });
  return { ...result, output };
}

async function expectDownload(url: string, digest: string, name: string): Promise<DfgetResult> {
  const result = await download(url, name);
  expect(result.code, result.stderr).toBe(0);
  expect(sha256(await readFile(result.output))).toBe(digest);
  return result;
}

describe("a full store makes room on demand", () => {
  it("evicts the least recently used idle task for a new one, and refuses what cannot fit with the figures", async () => {
    const size = 8 * MiB;
    const a = publish("/a.bin", size, 51);
    const b = publish("/b.bin", size, 52);
    const c = publish("/c.bin", size, 53);
    await expectDownload(a.url, a.digest, "a-1.bin");
    await expectDownload(b.url, b.digest, "b-1.bin");
    // A is used again, so B is now the least recently used.
    const aAgain = await expectDownload(a.url, a.digest, "a-2.bin");
    expect(aAgain.sources.local ?? 0).toBeGreaterThan(0);

    // 16 MiB of 20 are held: C (8 MiB) fits only if an idle task goes, and B goes.
    await expectDownload(c.url, c.digest, "c-1.bin");
    const log = await readFile(peer.logFile, "utf8");
    expect(log).toMatch(/"reason":"make-room".*"msg":"task evicted"/);

    const aLocal = await expectDownload(a.url, a.digest, "a-3.bin");
    expect(aLocal.sources.local ?? 0).toBeGreaterThan(0);
    expect(origin.stats("/a.bin").bytesServed).toBeLessThanOrEqual(size * 1.1);
    // B was evicted: fetched from the origin again, and C, now the least recently used, makes room for it.
    await expectDownload(b.url, b.digest, "b-2.bin");
    expect(origin.stats("/b.bin").bytesServed).toBeGreaterThanOrEqual(size * 2);
    // The scheduler was told when B went, so it sent this host back to the source at
    // once instead of looking for a parent that no longer had it.
    expect(await readFile(peer.logFile, "utf8")).not.toMatch(/no parent found/);
    const aStill = await expectDownload(a.url, a.digest, "a-4.bin");
    expect(aStill.sources.local ?? 0).toBeGreaterThan(0);

    // 25 MiB can never fit in a 20 MiB quota: refused, with what it needs and what could be freed.
    const big = publish("/big.bin", 25 * MiB, 54);
    const refused = await download(big.url, "big.bin");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/needs 25\.0 MiB/);
    expect(refused.stderr).toMatch(/evicting every idle task would free only 16\.0 MiB/);
    // Nothing was evicted for it: the two tasks held are still local hits.
    const bLocal = await expectDownload(b.url, b.digest, "b-3.bin");
    expect(bLocal.sources.local ?? 0).toBeGreaterThan(0);
    const aLocal2 = await expectDownload(a.url, a.digest, "a-5.bin");
    expect(aLocal2.sources.local ?? 0).toBeGreaterThan(0);
    expect(origin.stats("/a.bin").bytesServed).toBeLessThanOrEqual(size * 1.1);
  });
});
