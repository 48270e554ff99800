import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { dfget as run, startCluster, type Cluster, type ClusterDaemon as Daemon, type DfgetResult } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 15, problem 2, in a swarm: a scheduler, a seed peer and two peers. The origin's
// version is part of the task ID, so a peer (or the seed) holding the old content is
// never a parent for the new one.

const MiB = 2 ** 20;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const contentSha = (seed: number, size: number) => sha256(generateContent(seed, 0, size));

let origin: OriginServer;
let cluster: Cluster;
let dir: string;
let serial = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-revalidation-p2p-"));
  origin = await startOriginServer();
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 2, seed: true });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

async function download(peer: Daemon, url: string, extra: string[] = []): Promise<DfgetResult & { sha: string }> {
  const output = join(dir, `out-${++serial}.bin`);
  const result = await run([url, "-O", output, "--endpoint", peer.socket, "--no-progress", ...extra], { timeoutMs: 120_000 });
  const sha = result.code === 0 ? sha256(await readFile(output)) : "";
  return { ...result, sha };
}

describe("revalidation in a swarm", () => {
  it("gives peer B and then peer A the new version after the origin changes, never A's old copy", async () => {
    const [a, b] = cluster.peers as [Daemon, Daemon];
    const size = 9 * MiB + 77;
    const url = origin.publish("/swarm.bin", { seed: 11, size }, { lastModified: "Tue, 01 Dec 2026 10:00:00 GMT" });

    const v1 = await download(a, url);
    expect(v1.code, v1.stderr).toBe(0);
    expect(v1.sha).toBe(contentSha(11, size));
    const servedV1 = origin.stats("/swarm.bin").bytesServed;
    expect(servedV1).toBeLessThanOrEqual(size * 1.1);

    origin.publish("/swarm.bin", { seed: 12, size }, { lastModified: "Wed, 02 Dec 2026 10:00:00 GMT" });
    const fromB = await download(b, url);
    expect(fromB.code, fromB.stderr).toBe(0);
    expect(fromB.sha).toBe(contentSha(12, size));
    // B held nothing: its HEAD was not conditional; the seed fetched v2 from the origin.
    expect(origin.stats("/swarm.bin").conditionals).toBe(0);
    expect((fromB.sources.seed ?? 0) + (fromB.sources.peers ?? 0)).toBeGreaterThan(0);

    const fromA = await download(a, url);
    expect(fromA.code, fromA.stderr).toBe(0);
    expect(fromA.sha).toBe(contentSha(12, size));
    // A asked with its v1 ETag (one conditional HEAD, not a 304) and got v2 from the swarm.
    expect(origin.stats("/swarm.bin")).toMatchObject({ conditionals: 1, notModified: 0 });
    expect(fromA.sources.local ?? 0).toBe(0);
    // v2 crossed the origin link about once.
    expect(origin.stats("/swarm.bin").bytesServed - servedV1).toBeLessThanOrEqual(size * 1.1);

    const heldA = await download(a, url);
    expect(heldA.sha).toBe(contentSha(12, size));
    expect(heldA.sources.local ?? 0).toBeGreaterThan(0);
    expect(origin.stats("/swarm.bin")).toMatchObject({ conditionals: 2, notModified: 1 });
  });

  it("succeeds with --digest of the new version on a host that holds the old one", async () => {
    const [a, b] = cluster.peers as [Daemon, Daemon];
    const size = 5 * MiB + 3;
    const url = origin.publish("/digest.bin", { seed: 21, size });
    expect((await download(a, url)).sha).toBe(contentSha(21, size));
    expect((await download(b, url)).sha).toBe(contentSha(21, size));

    origin.publish("/digest.bin", { seed: 22, size });
    const digest = `sha256:${contentSha(22, size)}`;
    const checkedA = await download(a, url, ["--digest", digest]);
    expect(checkedA.code, checkedA.stderr).toBe(0);
    expect(checkedA.sha).toBe(contentSha(22, size));
    const checkedB = await download(b, url, ["--digest", digest]);
    expect(checkedB.code, checkedB.stderr).toBe(0);
    expect(checkedB.sha).toBe(contentSha(22, size));
    // Each peer asked once with its v1 ETag.
    expect(origin.stats("/digest.bin")).toMatchObject({ conditionals: 2, notModified: 0 });
  });

  it("works through the seed for an origin with no validators and no length (an unversioned task)", async () => {
    const [a, b] = cluster.peers as [Daemon, Daemon];
    const size = 6 * MiB + 1;
    const bare = { validators: "none", contentLength: false, ranges: false } as const;
    const url = origin.publish("/bare.bin", { seed: 31, size }, bare);
    const fromA = await download(a, url);
    expect(fromA.code, fromA.stderr).toBe(0);
    expect(fromA.sha).toBe(contentSha(31, size));
    // Peer and seed name it by the unversioned (upstream) ID: the seed fetched it for A.
    expect((fromA.sources.seed ?? 0) + (fromA.sources.peers ?? 0)).toBeGreaterThan(0);
    const fromB = await download(b, url);
    expect(fromB.code, fromB.stderr).toBe(0);
    expect(fromB.sha).toBe(contentSha(31, size));
    expect(fromB.sources.origin ?? 0).toBe(0);
    expect(origin.stats("/bare.bin").bytesServed).toBeLessThanOrEqual(size * 1.1);
  });
});
