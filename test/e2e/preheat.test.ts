import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOriginServer, type OriginServer } from "@df/compliance-tests";
import { dfget, startCluster, type Cluster } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MiB = 2 ** 20;

let origin: OriginServer;
let cluster: Cluster;
let dir: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- REST answers are arbitrary JSON
const api = (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => cluster.manager!.api(method, path, body);

/** Starts a preheat job and polls it until it leaves PENDING/RUNNING. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- REST answers are arbitrary JSON
async function preheat(args: Record<string, unknown>, clusterIds?: number[]): Promise<any> {
  const created = await api("POST", "/api/v1/jobs", { type: "preheat", args, ...(clusterIds ? { scheduler_cluster_ids: clusterIds } : {}) });
  expect(created.status).toBe(201);
  for (let i = 0; i < 600; i++) {
    const { body: job } = await api("GET", `/api/v1/jobs/${created.body.id}`);
    if (job.state === "SUCCESS" || job.state === "FAILURE") return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`preheat job ${created.body.id} did not finish in 60 s`);
}

/** Waits until the manager lists `count` active seed peers. */
async function activeSeedPeers(count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { body } = await api("GET", "/api/v1/seed-peers");
    if (body.filter((s: { state: string }) => s.state === "active").length >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the manager never listed ${count} active seed peers`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-preheat-"));
  origin = await startOriginServer();
  // The scheduler and the seed peer register with the manager; the peer finds its
  // scheduler through it.
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 1, manager: true });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("preheat through the manager", () => {
  it("fills the seed peer from the origin, and a later dfget comes from the seed, not the origin", async () => {
    const size = 9 * MiB + 123;
    const url = origin.publish("/preheated.bin", { seed: 41, size });
    const job = await preheat({ urls: [url] });
    expect(job, JSON.stringify(job.result)).toMatchObject({ state: "SUCCESS", result: { total: 1, succeeded: 1, failed: 0 } });
    const [entry] = job.result.urls;
    expect(entry).toMatchObject({ url, state: "SUCCESS", content_length: size, scheduler_cluster_id: 1 });
    expect(entry.task_id).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.seed_peers).toEqual([expect.objectContaining({ hostname: "seed-1", state: "SUCCESS" })]);
    const servedByPreheat = origin.stats("/preheated.bin").bytesServed;
    expect(servedByPreheat).toBeGreaterThanOrEqual(size);
    expect(servedByPreheat).toBeLessThanOrEqual(size * 1.1);

    const output = join(dir, "preheated.out");
    const result = await dfget([url, "-O", output, "--endpoint", cluster.peers[0]!.socket, "--no-progress"], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.sources.origin ?? 0).toBe(0);
    expect(origin.stats("/preheated.bin").bytesServed).toBe(servedByPreheat);
  });

  it("preheats every seed peer with all_seed_peers, the second from the first", async () => {
    const second = await cluster.startDaemon("seed-2", true);
    expect(second.hostId).toBeTruthy();
    await activeSeedPeers(2);
    const size = 6 * MiB;
    const url = origin.publish("/all-seeds.bin", { seed: 42, size });
    const job = await preheat({ urls: [url], scope: "all_seed_peers" });
    expect(job, JSON.stringify(job.result)).toMatchObject({ state: "SUCCESS" });
    const hosts = job.result.urls[0].seed_peers.map((s: { hostname: string; state: string }) => `${s.hostname}:${s.state}`).sort();
    expect(hosts).toEqual(["seed-1:SUCCESS", "seed-2:SUCCESS"]);
    expect(origin.stats("/all-seeds.bin").bytesServed).toBeLessThanOrEqual(size * 1.1);
  });

  it("fails the job with the origin's reason when the URL is not found", async () => {
    const url = origin.url("/missing.bin");
    const job = await preheat({ urls: [url] });
    expect(job.state).toBe("FAILURE");
    expect(job.result).toMatchObject({ total: 1, succeeded: 0, failed: 1 });
    expect(job.result.urls[0]).toMatchObject({ url, state: "FAILURE" });
    expect(job.result.urls[0].description).toMatch(/404|not found/i);
  });

  it("fails a URL on a cluster that has no active scheduler, and succeeds it where there is one", async () => {
    const created = await api("POST", "/api/v1/scheduler-clusters", { name: "empty-cluster" });
    expect(created.status).toBe(201);
    const url = origin.publish("/two-clusters.bin", { seed: 43, size: 100_000 });
    const job = await preheat({ urls: [url] }, [1, created.body.id]);
    expect(job.state).toBe("FAILURE");
    const byCluster = Object.fromEntries(job.result.urls.map((u: { scheduler_cluster_id: number }) => [u.scheduler_cluster_id, u]));
    expect(byCluster[1]).toMatchObject({ state: "SUCCESS" });
    expect(byCluster[created.body.id]).toMatchObject({ state: "FAILURE", description: expect.stringMatching(/no active scheduler/) });
  });
});
