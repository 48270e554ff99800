import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOriginServer, type OriginServer } from "@df/compliance-tests";
import { dfget, startCluster, type Cluster } from "@df/example-local-cluster/cluster";
import { bidiStream, createRpcClient, manager as m, unary } from "@df/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startManagerProcess, type ManagerProcess } from "./support/manager.js";

const MiB = 2 ** 20;

let origin: OriginServer;
let cluster: Cluster;
let manager: ManagerProcess;
let dir: string;
let token: string;
let stopKeepAlive: () => void = () => {};

/** Registers the cluster's scheduler with the manager and keeps it alive, as a scheduler would. */
async function registerScheduler(grpc: string, schedulerAddress: string): Promise<() => void> {
  const client = createRpcClient(m.ManagerClient, grpc);
  const port = Number(schedulerAddress.split(":").at(-1));
  const identity = { sourceType: m.SourceType.SCHEDULER, hostname: "scheduler-1", ip: "127.0.0.1", clusterId: 1 };
  await unary(client, "updateScheduler", m.UpdateSchedulerRequest.create({ ...identity, schedulerClusterId: 1, port }));
  const stream = bidiStream(client, "keepAlive");
  const beat = () => void stream.write(m.KeepAliveRequest.create(identity)).catch(() => {});
  beat();
  const timer = setInterval(beat, 500);
  return () => {
    clearInterval(timer);
    stream.end?.();
    client.close();
  };
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${manager.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: await response.json() };
}

/** Starts a preheat job and polls it until it leaves PENDING/RUNNING. */
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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-preheat-"));
  origin = await startOriginServer();
  [cluster, manager] = await Promise.all([
    startCluster({ dir: join(dir, "cluster"), peers: 1 }),
    startManagerProcess({ dir: join(dir, "manager") }),
  ]);
  stopKeepAlive = await registerScheduler(manager.grpc, cluster.scheduler.address);
  token = await manager.signin();
}, 90_000);

afterAll(async () => {
  stopKeepAlive();
  await Promise.all([cluster?.stop(), manager?.stop()]);
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
