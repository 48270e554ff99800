import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noopLogger } from "@df/interface";
import { bidiStream, createRpcServer, manager as m, scheduler, unary, type RpcServer } from "@df/rpc";
import { openDatabase, type Database } from "../db/database.js";
import { JobStore } from "../jobs.js";
import type { Manager } from "../manager.js";
import { DB_KINDS, fleetClient, freshPostgres, restClient, signin, startTestManager, waitFor } from "../test-support/databases.js";

const INTERVAL = 300;

/**
 * A scheduler's PreheatTask on a real gRPC server: it holds each call until `release`
 * (or the caller gives up), then answers that one seed peer holds the task.
 */
async function startScheduler(): Promise<{ server: RpcServer; port: number; calls: number; release(): void }> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const state = {
    calls: 0,
    release: () => release(),
  };
  const server = createRpcServer({ address: "127.0.0.1:0" });
  server.addService(scheduler.SchedulerService, {
    async preheatTask(request, context) {
      state.calls++;
      await Promise.race([released, new Promise((_, reject) => context.signal.addEventListener("abort", () => reject(context.signal.reason), { once: true }))]);
      return scheduler.PreheatTaskResponse.create({
        taskId: "a".repeat(64),
        contentLength: 42,
        seedPeers: [{ hostId: "seed-1", hostname: "seed-1", ip: "127.0.0.1", success: true, costMs: 3 }],
      });
    },
  });
  const address = await server.start();
  return Object.assign(state, { server, port: (address as { port: number }).port });
}

/** Registers the scheduler with the manager and keeps it alive until the returned stop. */
async function register(manager: Manager, port: number, features = ["schedule", "preheat"]): Promise<() => void> {
  const client = fleetClient(manager);
  const identity = { sourceType: m.SourceType.SCHEDULER, hostname: `sched-${port}`, ip: "127.0.0.1" };
  await unary(client, "updateScheduler", m.UpdateSchedulerRequest.create({ ...identity, port, schedulerClusterId: 1, features }));
  const stream = bidiStream(client, "keepAlive");
  const beat = () => void stream.write(m.KeepAliveRequest.create({ ...identity, clusterId: 1 })).catch(() => {});
  beat();
  const timer = setInterval(beat, INTERVAL / 2);
  return () => {
    clearInterval(timer);
    client.close();
  };
}

describe.each(DB_KINDS)("preheat job runner on %s", (kind) => {
  let url: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (kind === "postgres") {
      const db = await freshPostgres();
      url = db.url;
      cleanup = db.drop;
    } else {
      const dir = await mkdtemp(join(tmpdir(), "df-preheat-runner-"));
      url = `pglite://${dir}`;
      cleanup = () => rm(dir, { recursive: true, force: true });
    }
  });
  afterAll(async () => cleanup?.());

  const start = () => startTestManager(url, { keepalive: { interval: INTERVAL }, cache: { ttl: 20 } });

  it("lets exactly one of two claims take a PENDING job, and only a stale RUNNING one be taken again", async () => {
    const database: Database = await openDatabase({ url });
    try {
      const jobs = [new JobStore(database, noopLogger), new JobStore(database, noopLogger)];
      const { id } = await database.run((db) =>
        db
          .insertInto("jobs")
          .values({ type: "preheat", state: "PENDING", args: JSON.stringify({ urls: ["http://x/y"] }), result: JSON.stringify(null), scheduler_cluster_ids: JSON.stringify([]), user_id: null })
          .returning("id")
          .executeTakeFirstOrThrow(),
      );
      const claims = await Promise.all([jobs[0]!.claim(id), jobs[1]!.claim(id)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      // Freshly written: not stale after a minute, and not claimable as PENDING.
      expect(await jobs[0]!.claim(id, 60_000)).toBe(false);
      expect(await jobs[0]!.claimableIds("preheat", 60_000)).not.toContain(id);
      await new Promise((r) => setTimeout(r, 30));
      expect(await jobs[1]!.claimableIds("preheat", 10)).toContain(id);
      expect(await jobs[1]!.claim(id, 10)).toBe(true);
      expect(await jobs[0]!.release(id, { total: 1, succeeded: 0, failed: 0, urls: [] })).toBe(true);
      expect(await jobs[0]!.get(id)).toMatchObject({ state: "PENDING", result: { total: 1 } });
      await database.run((db) => db.deleteFrom("jobs").where("id", "=", id).execute());
    } finally {
      await database.close();
    }
  });

  it("hands a job back when its manager stops mid-preheat; the next manager finishes it", async () => {
    const fake = await startScheduler();
    let manager = await start();
    let stopKeepAlive = await register(manager, fake.port);
    try {
      const token = await signin(manager);
      const created = await restClient(manager)("POST", "/api/v1/jobs", { token, body: { type: "preheat", args: { urls: ["http://origin.example/a"] } } });
      expect(created.status).toBe(201);
      const id = created.body.id as number;
      await waitFor(() => fake.calls === 1, 10_000, "the scheduler asked to preheat");
      stopKeepAlive();
      await manager.stop();

      const database = await openDatabase({ url });
      expect(await new JobStore(database, noopLogger).get(id)).toMatchObject({ state: "PENDING" });
      await database.close();

      fake.release();
      manager = await start();
      stopKeepAlive = await register(manager, fake.port);
      const jobs = new JobStore(manager.database, noopLogger);
      await waitFor(async () => (await jobs.get(id))?.state === "SUCCESS", 10_000, "the job resumed and finished");
      expect(await jobs.get(id)).toMatchObject({
        result: { total: 1, succeeded: 1, failed: 0, urls: [{ url: "http://origin.example/a", state: "SUCCESS", task_id: "a".repeat(64) }] },
      });
      expect(fake.calls).toBe(2);
    } finally {
      stopKeepAlive();
      await manager.stop();
      await fake.server.stop({ graceMs: 0 });
    }
  });

  it("asks only schedulers that registered the preheat feature, and fails the URL with the reason when none did", async () => {
    const fake = await startScheduler();
    fake.release();
    const manager = await start();
    const stopKeepAlive = await register(manager, fake.port, ["schedule"]);
    try {
      const token = await signin(manager);
      const created = await restClient(manager)("POST", "/api/v1/jobs", { token, body: { type: "preheat", args: { urls: ["http://origin.example/b"] } } });
      const jobs = new JobStore(manager.database, noopLogger);
      await waitFor(async () => (await jobs.get(created.body.id))?.state === "FAILURE", 10_000, "the job failed");
      const job = await jobs.get(created.body.id);
      expect(job?.result).toMatchObject({ failed: 1, urls: [{ state: "FAILURE", description: expect.stringMatching(/no active scheduler with the preheat feature/) }] });
      expect(fake.calls).toBe(0);
    } finally {
      stopKeepAlive();
      await manager.stop();
      await fake.server.stop({ graceMs: 0 });
    }
  });
});
