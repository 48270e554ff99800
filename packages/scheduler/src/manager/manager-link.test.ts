import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { noopLogger } from "@df/interface";
import { bidiStream, common as c, manager as m, managerClient, scheduler as s, createRpcClient, unary, type ManagerRpc } from "@df/rpc";
import { schedulerConfigSchema, type SchedulerConfig } from "../config.js";
import { Scheduler } from "../scheduler.js";
import { SchedulerTokens } from "../tokens.js";
import { rootToken, startManager, waitFor } from "../test-support/manager.js";
import { fromSource } from "../test-support/source-address.js";

const INTERVAL = 200;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function managerOn(grpcListen?: string) {
  const started = await startManager({ keepaliveMs: INTERVAL, ...(grpcListen ? { grpcListen } : {}) });
  const client = managerClient(started.grpc);
  cleanups.push(() => started.manager.stop(), () => client.close());
  return { ...started, client };
}

async function startScheduler(
  managerAddress: string,
  overrides: Partial<SchedulerConfig["manager"]> = {},
  limits: Partial<SchedulerConfig["limits"]> = {},
): Promise<Scheduler> {
  const config = schedulerConfigSchema.parse({
    listen: "127.0.0.1:0",
    metricsListen: "",
    log: { level: "silent" },
    host: { hostname: "sched-test" },
    manager: { addresses: [managerAddress], keepAliveInterval: INTERVAL, configRefreshInterval: "1m", ...overrides },
    limits,
  });
  const scheduler = await Scheduler.create(config, { logger: noopLogger, managerRetry: { initialMs: 50, maxMs: 200 } });
  await scheduler.start();
  cleanups.push(() => scheduler.stop());
  return scheduler;
}

/**
 * The schedulers the manager hands a peer. A channel to a manager that was just (re)started
 * may still be in grpc-js's reconnect backoff (its subchannels are shared): none then.
 */
async function listed(client: ManagerRpc): Promise<string[]> {
  const answer = unary(client, "listSchedulers", m.ListSchedulersRequest.create({ sourceType: m.SourceType.PEER, hostname: "peer", ip: "127.0.0.9" }));
  const { schedulers } = await answer.catch((error: unknown) => {
    if ((error as { code?: string }).code === "UNAVAILABLE") return { schedulers: [] };
    throw error;
  });
  return schedulers.map((x) => `${x.hostname}@${x.ip}:${x.port}`);
}

const self = (scheduler: Scheduler) => `sched-test@127.0.0.1:${scheduler.address.kind === "tcp" ? scheduler.address.port : 0}`;

async function metric(scheduler: Scheduler, name: string): Promise<number | undefined> {
  const line = (await scheduler.metrics.text()).split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("the scheduler with a manager", () => {
  it("registers, keeps alive and is handed out; a stop makes it inactive at once", async () => {
    const { client, grpc } = await managerOn();
    const scheduler = await startScheduler(grpc);
    await waitFor(async () => (await listed(client)).includes(self(scheduler)), 3000, "the scheduler listed active");
    expect(await metric(scheduler, "df_scheduler_manager_alive")).toBe(1);
    expect(await metric(scheduler, "df_scheduler_manager_registrations_total")).toBe(1);
    await waitFor(async () => ((await metric(scheduler, "df_scheduler_manager_keepalives_total")) ?? 0) >= 3, 3000, "keepalives");
    expect(await listed(client)).toContain(self(scheduler));

    const { scheduler: row } = await unary(client, "getScheduler", m.GetSchedulerRequest.create({ hostname: "sched-test", ip: "127.0.0.1", schedulerClusterId: 1 }));
    expect(row).toMatchObject({ features: ["schedule", "preheat"], state: m.MemberState.ACTIVE, schedulerClusterId: 1 });

    cleanups.pop();
    const stoppedAt = Date.now();
    await scheduler.stop();
    await waitFor(async () => !(await listed(client)).includes(self(scheduler)), INTERVAL, "the scheduler dropped");
    expect(Date.now() - stoppedAt).toBeLessThan(2 * INTERVAL + 1500);
  });

  it("applies the cluster's candidate-parent limit from the manager without a restart", async () => {
    const { grpc, rest } = await managerOn();
    const scheduler = await startScheduler(grpc);
    await waitFor(() => scheduler.managerLink?.revision !== undefined, 3000, "the first config pull");
    expect(scheduler.live.limits).toEqual({ candidateParentLimit: 3, filterParentLimit: 15 });
    const token = await rootToken(rest);
    const patchedAt = Date.now();
    const patched = await fetch(`${rest}/api/v1/scheduler-clusters/1`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ config: { candidateParentLimit: 7, filterParentLimit: 40, retryLimit: 9 } }),
    });
    expect(patched.status).toBe(200);
    // The keepalive stream announces the new revision at the next beat; the scheduler pulls at once.
    await waitFor(() => scheduler.live.limits.candidateParentLimit === 7, 4 * INTERVAL + 1000, "the new limit in force");
    expect(Date.now() - patchedAt).toBeLessThan(4 * INTERVAL + 1000);
    expect(scheduler.live.limits).toEqual({ candidateParentLimit: 7, filterParentLimit: 40 });
    // What parent selection reads each round.
    expect(scheduler.container.resolve(SchedulerTokens.SelectionLimits)()).toEqual({ candidateParentLimit: 7, filterParentLimit: 40 });
    expect(scheduler.live.options.retry.retryLimit).toBe(9);
    expect(await metric(scheduler, "df_scheduler_candidate_parent_limit")).toBe(7);
    expect(await metric(scheduler, "df_scheduler_manager_config_revision")).toBe(2);
  });

  it("starts and serves while the manager is down, then registers once it is up", async () => {
    const port = await freePort();
    const scheduler = await startScheduler(`127.0.0.1:${port}`);
    expect(scheduler.managerLink?.membership.state).not.toBe("alive");
    const peerFacing = createRpcClient(s.SchedulerClient, scheduler.address, { defaultDeadlineMs: 2000 });
    cleanups.push(() => peerFacing.close());
    await expect(unary(peerFacing, "statTask", s.StatTaskRequest.create({ hostId: "h", taskId: "t" }))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL));
    expect(await metric(scheduler, "df_scheduler_manager_alive")).toBe(0);

    const { client } = await managerOn(`127.0.0.1:${port}`);
    await waitFor(async () => (await listed(client)).includes(self(scheduler)), 5000, "registered once the manager is up");
  });

  it("registers again with a manager that restarted with an empty database", async () => {
    const first = await managerOn();
    const port = Number(first.grpc.split(":").at(-1));
    const scheduler = await startScheduler(first.grpc);
    await waitFor(async () => (await listed(first.client)).includes(self(scheduler)), 3000, "listed by the first manager");
    await first.manager.stop();
    await waitFor(() => scheduler.managerLink?.membership.state !== "alive", 3000, "the stream to notice");

    const second = await managerOn(`127.0.0.1:${port}`);
    await waitFor(async () => (await listed(second.client)).includes(self(scheduler)), 5000, "listed by the restarted manager");
    expect(await metric(scheduler, "df_scheduler_manager_registrations_total")).toBeGreaterThanOrEqual(2);
  });

  it("learns the cluster's active seed peers from the manager", async () => {
    const { client, grpc } = await managerOn();
    const seed = { sourceType: m.SourceType.SEED_PEER, hostname: "seed-x", ip: "127.0.0.7" };
    await unary(client, "updateSeedPeer", m.UpdateSeedPeerRequest.create({ ...seed, port: 4100, downloadPort: 4105, seedPeerClusterId: 1 }));
    const stream = bidiStream(client, "keepAlive");
    const beat = () => stream.write(m.KeepAliveRequest.create({ ...seed, clusterId: 1 })).catch(() => {});
    await beat();
    const timer = setInterval(() => void beat(), INTERVAL / 2);
    cleanups.push(() => clearInterval(timer), () => stream.cancel());
    // No seed may join on its own say-so: only the manager's list counts.
    const scheduler = await startScheduler(grpc, { configRefreshInterval: 100 }, { maxSelfDeclaredSeeds: 0, announceRate: 0.01, announceBurst: 2 });
    await waitFor(() => scheduler.resources.hosts.has("127.0.0.7-seed-x-seed"), 3000, "the seed host known");
    expect(scheduler.resources.hosts.get("127.0.0.7-seed-x-seed")?.info).toMatchObject({ type: "seed", port: 4100, downloadPort: 4105 });
    expect(scheduler.resources.seedHostFor("any-task")?.id).toBe("127.0.0.7-seed-x-seed");

    // The listed seed is bound to the manager's IP for it: it may announce itself from there, nobody else may.
    const port = scheduler.address.kind === "tcp" ? scheduler.address.port : 0;
    const announce = (id: string) =>
      s.AnnounceHostRequest.create({ host: { id, type: c.HostType.SEED, hostname: "seed-x", ip: "127.0.0.7", port: 4100, downloadPort: 4105 }, intervalMs: 1000 });
    const local = createRpcClient(s.SchedulerClient, `127.0.0.1:${port}`);
    const forwarder = await fromSource({ host: "127.0.0.1", port }, "127.0.0.7");
    const fromSeed = createRpcClient(s.SchedulerClient, forwarder.address);
    cleanups.push(() => local.close(), () => fromSeed.close(), () => forwarder.close());
    await expect(unary(local, "announceHost", announce("127.0.0.7-seed-x-seed"))).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(unary(local, "announceHost", announce("self-declared-seed"))).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      message: expect.stringMatching(/limits\.maxSelfDeclaredSeeds = 0/),
    });
    // It registers for every task it is triggered for: its announces are not rate limited.
    for (let i = 0; i < 4; i++) await unary(fromSeed, "announceHost", announce("127.0.0.7-seed-x-seed"));
    expect(scheduler.resources.hosts.get("127.0.0.7-seed-x-seed")).toMatchObject({ listedByManager: true, boundAddress: "127.0.0.7" });
    expect([...scheduler.resources.seedHosts.keys()]).toEqual(["127.0.0.7-seed-x-seed"]);
  });
});
