import "reflect-metadata";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noopLogger, systemClock } from "@df/interface";
import { parseConfig } from "@df/service-kit";
import { managerConfigSchema } from "../config.js";
import type { Database } from "../db/database.js";
import { DB_KINDS, openTestDatabase } from "../test-support/databases.js";
import { FleetCache } from "./cache.js";
import { KeepAliveTracker } from "./keepalive.js";
import { FleetStore } from "./store.js";

const config = parseConfig(managerConfigSchema, { keepalive: { interval: 400 }, cache: { ttl: 60_000 } }, "manager");

describe.each(DB_KINDS)("keepalive tracking on %s", (kind) => {
  let database: Database & { drop(): Promise<void> };
  let store: FleetStore;
  let tracker: KeepAliveTracker;
  let cache: FleetCache;

  const register = (hostname: string) =>
    store.upsertScheduler({ hostname, ip: "10.1.0.1", port: 8002, idc: "", location: "", features: ["schedule"], version: "1", clusterId: 1 });
  const key = (hostname: string) => ({ kind: "scheduler" as const, hostname, ip: "10.1.0.1", clusterId: 1 });
  const row = (hostname: string) => database.db.selectFrom("schedulers").select(["state", "last_keepalive_at"]).where("hostname", "=", hostname).executeTakeFirstOrThrow();

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    store = new FleetStore(database);
    await store.seedDefaults();
    cache = new FleetCache(store, config, systemClock);
    tracker = new KeepAliveTracker(store, cache, config, noopLogger);
  });
  afterAll(async () => {
    tracker?.stop();
    await database?.drop();
  });

  it("writes a stream's first keepalive at once and later ones in one statement per flush", async () => {
    const names = Array.from({ length: 60 }, (_, i) => `batch-${i}`);
    for (const name of names) await register(name);
    const sessions = names.map(() => tracker.open());
    for (const [i, session] of sessions.entries()) expect(await session.beat(key(names[i]!))).toMatchObject({ clusterId: 1 });
    const first = await Promise.all(names.map(row));
    expect(first.every((r) => r.state === "active")).toBe(true);

    // One at a time, as messages arrive: with a write each they would get distinct times.
    for (const [i, session] of sessions.entries()) await session.beat(key(names[i]!));
    await tracker.flush();
    const later = await Promise.all(names.map(row));
    expect(new Set(later.map((r) => r.last_keepalive_at!.getTime())).size).toBe(1);
    expect(later[0]!.last_keepalive_at!.getTime()).toBeGreaterThanOrEqual(Math.max(...first.map((r) => r.last_keepalive_at!.getTime())));
    await Promise.all(sessions.map((s) => s.end()));
    expect((await Promise.all(names.map(row))).every((r) => r.state === "inactive")).toBe(true);
  });

  it("marks a member inactive at once when its stream ends with a keepalive still unwritten", async () => {
    await register("ending");
    const session = tracker.open();
    await session.beat(key("ending"));
    await session.beat(key("ending"));
    await session.end();
    expect((await row("ending")).state).toBe("inactive");
    await tracker.flush();
    expect((await row("ending")).state).toBe("inactive");
  });

  it("brings back a member another manager's sweep marked inactive, on its next batched keepalive", async () => {
    await register("swept");
    const session = tracker.open();
    await session.beat(key("swept"));
    await sql`update schedulers set state = 'inactive' where hostname = 'swept'`.execute(database.db);
    const activated: number[] = [];
    tracker.events = { onActive: (_kind, id) => activated.push(id) };
    try {
      const member = await session.beat(key("swept"));
      await tracker.flush();
      expect((await row("swept")).state).toBe("active");
      expect(activated).toEqual([member!.id]);
    } finally {
      tracker.events = {};
      await session.end();
    }
  });

  it("refuses the keepalive after the member's row was deleted", async () => {
    await register("deleted");
    const session = tracker.open();
    await session.beat(key("deleted"));
    await database.db.deleteFrom("schedulers").where("hostname", "=", "deleted").execute();
    await session.beat(key("deleted"));
    await tracker.flush();
    expect(await session.beat(key("deleted"))).toBeUndefined();
    await session.end();
  });
});
