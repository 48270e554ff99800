import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bidiStream, common, manager as m, unary, type RpcClient } from "@df/rpc";
import type { Manager } from "../manager.js";
import { DB_KINDS, fleetClient, freshPostgres, restClient, signin, startTestManager, testDatabaseUrl, waitFor } from "../test-support/databases.js";

const INTERVAL = 400;

function register(client: RpcClient<m.ManagerService>, hostname: string, ip: string, clusterId = 1) {
  return unary(client, "updateScheduler", m.UpdateSchedulerRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname, ip, port: 8002, schedulerClusterId: clusterId, idc: "idc-a" }));
}

async function listed(client: RpcClient<m.ManagerService>, asker: Partial<m.ListSchedulersRequest> = {}): Promise<string[]> {
  const { schedulers } = await unary(client, "listSchedulers", m.ListSchedulersRequest.create({ sourceType: m.SourceType.PEER, hostname: "peer-1", ip: "10.9.9.9", ...asker }));
  return schedulers.map((s) => s.hostname);
}

describe.each(DB_KINDS)("fleet gRPC on %s", (kind) => {
  let manager: Manager;
  let client: RpcClient<m.ManagerService>;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await testDatabaseUrl(kind);
    drop = db.drop;
    // A short cache so liveness changes made elsewhere show quickly.
    manager = await startTestManager(db.url, { keepalive: { interval: INTERVAL, timeout: 500 }, cache: { ttl: 50 } });
    client = fleetClient(manager);
  });
  afterAll(async () => {
    client?.close();
    await manager?.stop();
    await drop?.();
  });

  it("hands out a scheduler only while it keeps alive; silence past the timeout makes it inactive within 2 × interval", async () => {
    const { scheduler } = await register(client, "sched-a", "10.0.0.1");
    expect(scheduler).toMatchObject({ hostname: "sched-a", state: m.MemberState.INACTIVE, schedulerClusterId: 1 });
    expect(await listed(client)).not.toContain("sched-a");

    const stream = bidiStream(client, "keepAlive");
    const beat = () => stream.write(m.KeepAliveRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: "sched-a", ip: "10.0.0.1", clusterId: 1 }));
    await beat();
    const first = await stream.next();
    expect(first.value).toMatchObject({ configRevision: 1 });
    await waitFor(async () => (await listed(client)).includes("sched-a"), 2000, "sched-a listed");
    const [answer] = (await unary(client, "listSchedulers", m.ListSchedulersRequest.create({ hostname: "p", ip: "10.9.9.9" }))).schedulers;
    expect(answer).toMatchObject({ state: m.MemberState.ACTIVE, schedulerCluster: { id: 1, isDefault: true, config: { candidateParentLimit: 3 } } });
    expect(answer!.lastKeepAliveAt).toBeInstanceOf(Date);

    // Keep beating for two intervals: still listed.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, INTERVAL / 2));
      await beat();
    }
    expect(await listed(client)).toContain("sched-a");

    // Go silent with the stream open: inactive within 2 × interval of the last beat.
    const silentAt = Date.now();
    await waitFor(async () => !(await listed(client)).includes("sched-a"), 4 * INTERVAL, "sched-a dropped", 20);
    expect(Date.now() - silentAt).toBeLessThanOrEqual(2 * INTERVAL);
    const row = await manager.database.db.selectFrom("schedulers").select("state").where("hostname", "=", "sched-a").executeTakeFirstOrThrow();
    expect(row.state).toBe("inactive");

    // Beating again brings it back; ending the stream drops it at once.
    await beat();
    await waitFor(async () => (await listed(client)).includes("sched-a"), 2000, "sched-a back");
    stream.end();
    await waitFor(async () => !(await listed(client)).includes("sched-a"), INTERVAL, "sched-a dropped after the stream ended", 20);
  });

  it("never hands out a scheduler that registered but never kept alive", async () => {
    await register(client, "sched-mute", "10.0.0.2");
    await new Promise((r) => setTimeout(r, 2 * INTERVAL));
    expect(await listed(client)).not.toContain("sched-mute");
    const { scheduler } = await unary(client, "getScheduler", m.GetSchedulerRequest.create({ hostname: "sched-mute", ip: "10.0.0.2", schedulerClusterId: 1 }));
    expect(scheduler).toMatchObject({ state: m.MemberState.INACTIVE });
  });

  it("refuses a keepalive from a member that never registered", async () => {
    const stream = bidiStream(client, "keepAlive");
    await stream.write(m.KeepAliveRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: "ghost", ip: "10.0.0.3", clusterId: 1 }));
    await expect(stream.next()).rejects.toMatchObject({ code: "FAILED_PRECONDITION", reason: "member-not-registered" });
  });

  it("gives each peer the cluster the searcher picks, with its seed peers, config and applications", async () => {
    const rest = restClient(manager);
    const token = await signin(manager);
    const created = await rest("POST", "/api/v1/scheduler-clusters", {
      token,
      body: { name: `gpu-${kind}`, scopes: { cidrs: ["10.50.0.0/16"], hostnames: ["^gpu-"], idc: "idc-gpu", location: "cn|east" }, config: { candidateParentLimit: 7 }, seed_peer_cluster_ids: [1] },
    });
    expect(created.status).toBe(201);
    const gpu = created.body.id as number;
    await register(client, "sched-gpu", "10.50.0.1", gpu);
    await register(client, "sched-default", "10.0.0.9", 1);
    const seed = await unary(client, "updateSeedPeer", m.UpdateSeedPeerRequest.create({ sourceType: m.SourceType.SEED_PEER, hostname: "seed-1", ip: "10.0.0.20", port: 65000, downloadPort: 65002, seedPeerClusterId: 1 }));
    expect(seed.seedPeer).toMatchObject({ hostname: "seed-1", seedPeerCluster: { id: 1 } });

    const streams = [
      ["sched-gpu", "10.50.0.1", gpu, m.SourceType.SCHEDULER],
      ["sched-default", "10.0.0.9", 1, m.SourceType.SCHEDULER],
      ["seed-1", "10.0.0.20", 1, m.SourceType.SEED_PEER],
    ] as const;
    const open = streams.map(([hostname, ip, clusterId, sourceType]) => {
      const stream = bidiStream(client, "keepAlive");
      const beat = () => stream.write(m.KeepAliveRequest.create({ sourceType, hostname, ip, clusterId }));
      return { stream, beat };
    });
    await Promise.all(open.map((o) => o.beat()));
    const timer = setInterval(() => open.forEach((o) => void o.beat().catch(() => {})), INTERVAL / 2);
    try {
      await waitFor(async () => (await listed(client, { ip: "10.50.3.3" })).includes("sched-gpu"), 3000, "gpu cluster chosen by CIDR");
      expect(await listed(client, { hostname: "gpu-17", ip: "172.16.0.1" })).toEqual(["sched-gpu"]);
      expect(await listed(client, { ip: "172.16.0.1", idc: "idc-gpu" })).toEqual(["sched-gpu"]);
      expect(await listed(client, { ip: "172.16.0.1", location: "cn|east|hz" })).toEqual(["sched-gpu"]);
      expect(await listed(client, { ip: "172.16.0.1", hostname: "cpu-1" })).toEqual(["sched-default"]);
      // An explicit cluster ID wins over the searcher.
      expect(await listed(client, { ip: "10.50.3.3", schedulerClusterId: 1 })).toEqual(["sched-default"]);

      const { schedulers } = await unary(client, "listSchedulers", m.ListSchedulersRequest.create({ hostname: "gpu-1", ip: "10.50.0.7" }));
      await waitFor(async () => {
        const answer = await unary(client, "listSchedulers", m.ListSchedulersRequest.create({ hostname: "gpu-1", ip: "10.50.0.7" }));
        return answer.schedulers[0]?.seedPeers.length === 1;
      }, 3000, "seed peer listed with the scheduler");
      expect(schedulers[0]!.schedulerCluster).toMatchObject({ id: gpu, config: { candidateParentLimit: 7, filterParentLimit: 15 }, scopes: { cidrs: ["10.50.0.0/16"] } });
      const seeds = await unary(client, "listSeedPeers", m.ListSeedPeersRequest.create({ schedulerClusterId: gpu }));
      expect(seeds.seedPeers.map((s) => s.hostname)).toEqual(["seed-1"]);

      // Dynamic config: a change bumps the revision the keepalive stream reports.
      const before = await unary(client, "getSchedulerClusterConfig", m.GetSchedulerClusterConfigRequest.create({ schedulerClusterId: gpu }));
      expect(before).toMatchObject({ config: { candidateParentLimit: 7, evaluator: "score" }, configRevision: 1 });
      const patched = await rest("PATCH", `/api/v1/scheduler-clusters/${gpu}`, { token, body: { config: { candidateParentLimit: 9, evaluator: { name: "sigma", options: { k: 4 } } } } });
      expect(patched.status).toBe(200);
      const after = await unary(client, "getSchedulerClusterConfig", m.GetSchedulerClusterConfigRequest.create({ schedulerClusterId: gpu }));
      expect(after).toMatchObject({ config: { candidateParentLimit: 9, filterParentLimit: 15, evaluator: "sigma", evaluatorOptions: { k: 4 } }, configRevision: 2 });
      const gpuStream = open[0]!.stream;
      expect((await gpuStream.next()).value).toMatchObject({ configRevision: 1 });
      expect((await gpuStream.next()).value).toMatchObject({ configRevision: 2 });
      await expect(unary(client, "getSchedulerClusterConfig", m.GetSchedulerClusterConfigRequest.create({ schedulerClusterId: 9999 }))).rejects.toMatchObject({ code: "NOT_FOUND" });

      const app = await rest("POST", "/api/v1/applications", { token, body: { name: "models", url: "https://models.example", priority: { value: 2, urls: [{ regex: "\\.bin$", value: 0 }] } } });
      expect(app.status).toBe(201);
      const apps = await unary(client, "listApplications", m.ListApplicationsRequest.create({}));
      expect(apps.applications).toEqual([
        expect.objectContaining({ name: "models", priority: { value: common.Priority.LEVEL2, urls: [{ regex: "\\.bin$", value: common.Priority.LEVEL0 }] } }),
      ]);
    } finally {
      clearInterval(timer);
      open.forEach((o) => o.stream.end());
    }
    // Peers that asked are recorded (in batches).
    await manager.container.resolve((await import("./peers.js")).PeerRecorder).flush();
    const peers = await manager.database.db.selectFrom("peers").select(["hostname", "scheduler_cluster_id"]).where("hostname", "=", "gpu-17").execute();
    expect(peers).toEqual([{ hostname: "gpu-17", scheduler_cluster_id: gpu }]);
  });
});

describe("two managers on one PostgreSQL", () => {
  it("registering the same scheduler concurrently creates one row, and either manager hands it out", async () => {
    const { url, drop } = await freshPostgres();
    const [a, b] = await Promise.all([startTestManager(url, { keepalive: { interval: INTERVAL }, cache: { ttl: 100 } }), startTestManager(url, { keepalive: { interval: INTERVAL }, cache: { ttl: 100 } })]);
    const [ca, cb] = [fleetClient(a), fleetClient(b)];
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => register(i % 2 ? ca : cb, "sched-shared", "10.7.7.7")));
      expect(new Set(answers.map((r) => r.scheduler!.id)).size).toBe(1);
      const rows = await a.database.db.selectFrom("schedulers").selectAll().where("hostname", "=", "sched-shared").execute();
      expect(rows).toHaveLength(1);
      expect(await a.database.db.selectFrom("users").select("name").execute()).toEqual([{ name: "root" }]);
      expect(await a.database.db.selectFrom("scheduler_clusters").select("name").execute()).toEqual([{ name: "cluster-1" }]);

      const stream = bidiStream(ca, "keepAlive");
      await stream.write(m.KeepAliveRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: "sched-shared", ip: "10.7.7.7", clusterId: 1 }));
      await waitFor(async () => (await listed(cb)).includes("sched-shared"), 3000, "the other manager sees it active");
      // Its manager dies without a word: the other manager's sweep marks it inactive.
      await a.stop();
      await waitFor(async () => !(await listed(cb)).includes("sched-shared"), 4 * INTERVAL, "the other manager drops it");
    } finally {
      ca.close();
      cb.close();
      await Promise.all([a.stop(), b.stop()]);
      await drop();
    }
  });
});
