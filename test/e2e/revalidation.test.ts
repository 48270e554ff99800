import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginRouteOptions, type OriginServer } from "@df/compliance-tests";
import { dfcache, dfget as run, startCluster, type Cluster, type ClusterDaemon as Daemon, type DfgetResult } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 15, problem 2: the same URL with new content at the origin. One daemon (with a
// scheduler, no seed) and its store: each download asks the origin with one
// conditional HEAD, serves the held copy on 304, and fetches the new version otherwise.

const MiB = 2 ** 20;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const contentSha = (seed: number, size: number) => sha256(generateContent(seed, 0, size));

let origin: OriginServer;
let cluster: Cluster;
let dir: string;
let serial = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-revalidation-"));
  origin = await startOriginServer();
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 1, seed: false });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

const daemon = (): Daemon => cluster.peers[0]!;

async function download(url: string, extra: string[] = []): Promise<DfgetResult & { sha: string }> {
  const output = join(dir, `out-${++serial}.bin`);
  const result = await run([url, "-O", output, "--endpoint", daemon().socket, "--no-progress", ...extra], { timeoutMs: 60_000 });
  const sha = result.code === 0 ? sha256(await readFile(output)) : "";
  return { ...result, sha };
}

/** Task records in the daemon's store: one per task it holds. */
async function storedTasks(): Promise<number> {
  const root = join(cluster.dir, daemon().name, "storage", "metadata", "tasks");
  let count = 0;
  for (const shard of await readdir(root).catch(() => [])) {
    count += (await readdir(join(root, shard))).filter((name) => name.endsWith(".json")).length;
  }
  return count;
}

function publish(path: string, seed: number, size: number, options: OriginRouteOptions = {}): string {
  return origin.publish(path, { seed, size }, options);
}

describe("revalidation on one daemon", () => {
  it("serves the held copy after a 304, and the new version once the origin's ETag and Last-Modified change", async () => {
    const size = 6 * MiB + 5;
    const url = publish("/changing.bin", 1, size, { lastModified: "Tue, 01 Dec 2026 10:00:00 GMT" });
    const tasksBefore = await storedTasks();

    const first = await download(url);
    expect(first.code, first.stderr).toBe(0);
    expect(first.sha).toBe(contentSha(1, size));
    // Nothing held yet: the HEAD that names the version is not conditional.
    expect(origin.stats("/changing.bin")).toMatchObject({ conditionals: 0, notModified: 0 });
    const servedV1 = origin.stats("/changing.bin").bytesServed;

    const again = await download(url);
    expect(again.code, again.stderr).toBe(0);
    expect(again.sha).toBe(contentSha(1, size));
    expect(again.sources.local ?? 0).toBeGreaterThan(0);
    // One conditional HEAD, answered 304; not a byte of the body again.
    expect(origin.stats("/changing.bin")).toMatchObject({ conditionals: 1, notModified: 1, bytesServed: servedV1 });

    // Same size, new bytes, new ETag and Last-Modified.
    publish("/changing.bin", 2, size, { lastModified: "Wed, 02 Dec 2026 10:00:00 GMT" });
    const changed = await download(url);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.sha).toBe(contentSha(2, size));
    expect(origin.stats("/changing.bin")).toMatchObject({ conditionals: 2, notModified: 1 });
    const conditional = origin.requests("/changing.bin").filter((request) => request.headers["if-none-match"] !== undefined);
    expect(conditional.map((request) => request.method)).toEqual(["HEAD", "HEAD"]);
    expect(conditional[1]!.headers["if-none-match"]).toBe(`"g-1-${size}"`);

    // The old version was superseded: only the new one is held for the URL.
    await expect.poll(storedTasks, { timeout: 5_000 }).toBe(tasksBefore + 1);
    const held = await download(url);
    expect(held.sha).toBe(contentSha(2, size));
    expect(origin.stats("/changing.bin")).toMatchObject({ conditionals: 3, notModified: 2 });
  });

  it("re-fetches when a held copy fails --digest although the origin's validators did not change", async () => {
    // An origin that replaces the content but keeps its ETag and Last-Modified: the 304
    // is a lie, which only the digest the user gives can show.
    const size = 300_000;
    const lying = { headers: { etag: '"forever"' }, lastModified: "Tue, 01 Dec 2026 10:00:00 GMT" };
    const url = publish("/lying.bin", 3, size, lying);
    expect((await download(url)).sha).toBe(contentSha(3, size));
    publish("/lying.bin", 4, size, lying);
    // Without a digest nothing can tell: the held copy (as the origin says).
    expect((await download(url)).sha).toBe(contentSha(3, size));

    const checked = await download(url, ["--digest", `sha256:${contentSha(4, size)}`]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.sha).toBe(contentSha(4, size));
    // Again with the digest: now held, served locally after one more 304.
    const local = await download(url, ["--digest", `sha256:${contentSha(4, size)}`]);
    expect(local.code, local.stderr).toBe(0);
    expect(local.sha).toBe(contentSha(4, size));
    expect(local.sources.local ?? 0).toBeGreaterThan(0);
  });

  it("treats an origin without ETag or Last-Modified as unchanged while its length is, and documents it", async () => {
    const url = publish("/bare.bin", 5, 200_000, { validators: "none" });
    expect((await download(url)).sha).toBe(contentSha(5, 200_000));
    // Same length, new bytes: nothing tells the versions apart, so the held copy is served.
    publish("/bare.bin", 6, 200_000, { validators: "none" });
    expect((await download(url)).sha).toBe(contentSha(5, 200_000));
    // A digest does tell: the new bytes are fetched.
    const checked = await download(url, ["--digest", `sha256:${contentSha(6, 200_000)}`]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.sha).toBe(contentSha(6, 200_000));
    // Another length is another version.
    publish("/bare.bin", 7, 250_000, { validators: "none" });
    const longer = await download(url);
    expect(longer.code, longer.stderr).toBe(0);
    expect(longer.sha).toBe(contentSha(7, 250_000));
    expect(origin.stats("/bare.bin").conditionals).toBe(0);
  });

  it("evicts every version of a URL with dfcache delete --url, so the next dfget fetches it again", async () => {
    const size = 100_000;
    const url = publish("/evict.bin", 8, size);
    expect((await download(url)).sha).toBe(contentSha(8, size));
    const before = origin.stats("/evict.bin").bytesServed;
    const tasks = await storedTasks();

    const deleted = await dfcache(["delete", "--url", url, "--endpoint", daemon().socket, "--no-progress"], { timeoutMs: 30_000 });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stderr).toContain(`deleted ${url}`);
    await expect.poll(storedTasks, { timeout: 5_000 }).toBe(tasks - 1);
    const missing = await dfcache(["delete", "--url", url, "--endpoint", daemon().socket, "--no-progress"], { timeoutMs: 30_000 });
    expect(missing.code, missing.stderr).toBe(3);

    const fetched = await download(url);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.sha).toBe(contentSha(8, size));
    expect(origin.stats("/evict.bin").bytesServed).toBeGreaterThanOrEqual(before + size);
  });
});
