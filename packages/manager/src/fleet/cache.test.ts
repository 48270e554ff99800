import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clock } from "@df/interface";
import { parseConfig } from "@df/service-kit";
import { managerConfigSchema } from "../config.js";
import type { Database } from "../db/database.js";
import type { SchedulerClusterRow } from "../db/schema.js";
import { openTestDatabase, waitFor } from "../test-support/databases.js";
import { FleetCache } from "./cache.js";
import { FleetStore } from "./store.js";

/** A real store that counts the fills (each fill reads the cluster list once). */
class CountingStore extends FleetStore {
  fills = 0;
  override clusters(): Promise<SchedulerClusterRow[]> {
    this.fills++;
    return super.clusters();
  }
}

describe("the fleet cache", () => {
  let database: Database & { drop(): Promise<void> };
  let store: CountingStore;
  let now = 0;
  const clock: Clock = { now: () => now };
  const config = parseConfig(managerConfigSchema, { cache: { ttl: 1000 } }, "manager");

  const activate = async (hostname: string, clusterId: number) => {
    await store.upsertScheduler({ hostname, ip: "10.3.0.1", port: 8002, idc: "", location: "", features: ["schedule"], version: "1", clusterId });
    await store.touch({ kind: "scheduler", hostname, ip: "10.3.0.1", clusterId });
  };
  const listed = async (cache: FleetCache, clusterId: number) => (await cache.view(clusterId))?.schedulers.map((s) => s.hostname);

  beforeAll(async () => {
    database = await openTestDatabase("pglite");
    store = new CountingStore(database);
    await store.seedDefaults();
    await database.db
      .insertInto("scheduler_clusters")
      .values({ name: "second", config: "{}", client_config: "{}", seed_client_config: "{}", scopes: JSON.stringify({ idc: "idc-2" }) })
      .execute();
    await database.db.insertInto("scheduler_cluster_seed_peer_clusters").values({ scheduler_cluster_id: 2, seed_peer_cluster_id: 1 }).execute();
  });
  afterAll(() => database?.drop());

  it("answers every cluster from one fill: active schedulers with their cluster and seed peers", async () => {
    const cache = new FleetCache(store, config, clock);
    await activate("a-1", 1);
    await activate("b-1", 2);
    await store.upsertSeedPeer({ hostname: "seed", ip: "10.3.0.9", port: 65000, downloadPort: 65002, type: "super", idc: "", location: "", version: "1", clusterId: 1 });
    await store.touch({ kind: "seed-peer", hostname: "seed", ip: "10.3.0.9", clusterId: 1 });
    const before = store.fills;
    const [one, two] = await Promise.all([cache.view(1), cache.view(2)]);
    expect(store.fills - before).toBe(1);
    expect(one!.schedulers.map((s) => s.hostname)).toEqual(["a-1"]);
    expect(two!.schedulers[0]).toMatchObject({ hostname: "b-1", schedulerCluster: { id: 2, scopes: { idc: "idc-2" } }, seedPeers: [{ hostname: "seed" }] });
    expect(await cache.view(99)).toBeUndefined();
    const snapshot = await cache.snapshot();
    expect(snapshot.candidates.map((c) => c.id)).toEqual([1, 2]);
  });

  it("serves a fill for the TTL, then the old value while one refill runs", async () => {
    const cache = new FleetCache(store, config, clock);
    await cache.snapshot();
    const before = store.fills;
    await activate("a-2", 1);
    expect(await listed(cache, 1)).not.toContain("a-2");
    now += 1000;
    expect(await listed(cache, 1)).not.toContain("a-2");
    await waitFor(async () => (await listed(cache, 1))!.includes("a-2"), 5000, "the refill", 5);
    expect(store.fills - before).toBe(1);
  });

  it("never serves a snapshot from before a change it was told of; changes during a fill share one next fill", async () => {
    const cache = new FleetCache(store, config, clock);
    await cache.snapshot();
    await activate("a-3", 1);
    cache.invalidate();
    expect(await listed(cache, 1)).toContain("a-3");

    const before = store.fills;
    const reads = [];
    for (let i = 0; i < 20; i++) {
      cache.invalidate();
      reads.push(cache.snapshot());
    }
    await Promise.all(reads);
    expect(store.fills - before).toBe(2);
  });

  it("latest() keeps serving a dropped snapshot until its TTL is over", async () => {
    const cache = new FleetCache(store, config, clock);
    const first = await cache.snapshot();
    cache.invalidate();
    expect(await cache.latest()).toBe(first);
    now += 1000;
    expect(await cache.latest()).toBe(first);
    const refilled = await cache.snapshot();
    expect(refilled).not.toBe(first);
    expect(await cache.latest()).toBe(refilled);
  });
});
