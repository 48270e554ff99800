import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetStore } from "../fleet/store.js";
import { DB_KINDS, freshPostgres, openTestDatabase } from "../test-support/databases.js";
import { openDatabase, parseDatabaseUrl, redactUrl, type Database } from "./database.js";
import { migrate, MIGRATIONS, SCHEMA_VERSION } from "./migrations.js";

const registration = (hostname: string, clusterId = 1) => ({
  hostname,
  ip: "10.0.0.1",
  port: 8002,
  idc: "idc-a",
  location: "cn|hz",
  features: ["schedule"],
  version: "1.0.0",
  clusterId,
});

describe.each(DB_KINDS)("data layer on %s", (kind) => {
  let database: Database & { drop(): Promise<void> };
  let store: FleetStore;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    store = new FleetStore(database);
    await store.seedDefaults();
  });
  afterAll(() => database?.drop());

  it("migrates to the newest version, and migrating again changes nothing", async () => {
    expect(database.kind).toBe(kind);
    const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db);
    expect(rows.rows.map((r) => r.name).at(-1)).toBe(SCHEMA_VERSION);
    expect(await migrate(database.db)).toEqual([]);
    await store.seedDefaults();
    const clusters = await database.db.selectFrom("scheduler_clusters").select(["name", "is_default"]).execute();
    expect(clusters).toEqual([{ name: "cluster-1", is_default: true }]);
  });

  it("upserts a scheduler: the same (hostname, ip, cluster) is one row, even when registered concurrently", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.upsertScheduler({ ...registration("sched-race"), port: 9000 + i })));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    const rows = await database.db.selectFrom("schedulers").selectAll().where("hostname", "=", "sched-race").execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: "inactive", idc: "idc-a", features: ["schedule"], scheduler_cluster_id: 1 });
    // Cluster 0 means the default cluster.
    const again = await store.upsertScheduler({ ...registration("sched-race", 0), port: 1234 });
    expect(again).toMatchObject({ id: rows[0]!.id, port: 1234 });
  });

  it("refuses a scheduler of a cluster that does not exist", async () => {
    await expect(store.upsertScheduler(registration("nowhere", 999))).rejects.toMatchObject({ code: "NOT_FOUND", reason: "scheduler-cluster-not-found" });
  });

  it("tracks liveness: touch makes active, deactivate respects a newer keepalive, sweep catches silent members", async () => {
    await store.upsertScheduler(registration("live"));
    const key = { kind: "scheduler" as const, hostname: "live", ip: "10.0.0.1", clusterId: 1 };
    const first = await store.touch(key);
    expect(first).toMatchObject({ clusterId: 1, wasInactive: true });
    expect((await store.touch(key))!.wasInactive).toBe(false);
    expect((await store.activeSchedulers(1)).map((s) => s.hostname)).toContain("live");
    // A stream that ended before a newer keepalive must not mark the member inactive.
    expect(await store.deactivate("scheduler", first!.id, new Date(first!.at.getTime() - 1))).toBe(false);
    const latest = await store.touch(key);
    expect(await store.deactivate("scheduler", latest!.id, latest!.at)).toBe(true);
    await store.touch(key);
    await new Promise((r) => setTimeout(r, 60));
    const swept = await store.sweep(50);
    expect(swept.schedulerClusters).toEqual([1]);
    expect((await store.activeSchedulers(1)).map((s) => s.hostname)).not.toContain("live");
    expect(await store.touch({ ...key, hostname: "never-registered" })).toBeUndefined();
  });

  it("maps constraint violations to DfError codes naming the field", async () => {
    const insert = () =>
      database.transaction((tx) => tx.insertInto("configs").values({ name: "dup", value: "1" }).execute());
    await insert();
    await expect(insert()).rejects.toMatchObject({ code: "ALREADY_EXISTS", details: { field: "name" } });
    await expect(
      database.transaction((tx) =>
        tx.insertInto("schedulers").values({ hostname: "h", ip: "1.1.1.1", port: 1, features: "[]", scheduler_cluster_id: 424242 }).execute(),
      ),
    ).rejects.toMatchObject({ code: "FAILED_PRECONDITION", reason: "foreign-key-violation", details: { field: "scheduler_cluster_id" } });
  });

  it("rolls a failed transaction back entirely", async () => {
    await expect(
      database.transaction(async (tx) => {
        await tx.insertInto("configs").values({ name: "half", value: "1" }).execute();
        await tx.insertInto("configs").values({ name: "half", value: "2" }).execute();
      }),
    ).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    expect(await database.db.selectFrom("configs").selectAll().where("name", "=", "half").execute()).toEqual([]);
  });

  it("stores text and JSON exactly, SQL-looking or not", async () => {
    const evil = `x'); drop table users; -- "\\ \u0000`.replace("\u0000", "");
    const row = await database.transaction((tx) =>
      tx.insertInto("applications").values({ name: evil, url: evil, bio: evil, priority: JSON.stringify({ value: 1, urls: [{ regex: evil, value: 2 }] }), user_id: null }).returningAll().executeTakeFirstOrThrow(),
    );
    expect(row).toMatchObject({ name: evil, url: evil, bio: evil, priority: { value: 1, urls: [{ regex: evil, value: 2 }] } });
    expect(await database.db.selectFrom("users").select("id").execute()).toBeDefined();
  });

  it("records peers seen with one row per (hostname, ip)", async () => {
    const peer = { hostname: "p1", ip: "10.1.1.1", type: "normal", idc: "", location: "", version: "1", commit: "c", clusterId: 1 };
    await Promise.all([store.recordPeers([peer]), store.recordPeers([{ ...peer, version: "2" }])]);
    const rows = await database.db.selectFrom("peers").selectAll().where("hostname", "=", "p1").execute();
    expect(rows).toHaveLength(1);
    // Columns travel as arrays: quotes, commas, braces and NULL-looking text stay text.
    const odd = { ...peer, hostname: `p2,"{x}"\\ 'NULL'`, idc: "NULL", location: "", clusterId: undefined };
    await store.recordPeers([odd, { ...peer, hostname: "p3" }]);
    const stored = await database.db.selectFrom("peers").select(["hostname", "idc", "location", "scheduler_cluster_id"]).where("hostname", "in", [odd.hostname, "p3"]).orderBy("hostname").execute();
    expect(stored).toEqual([
      { hostname: odd.hostname, idc: "NULL", location: "", scheduler_cluster_id: null },
      { hostname: "p3", idc: "", location: "", scheduler_cluster_id: 1 },
    ]);
  });
});

describe("two managers' databases on one PostgreSQL", () => {
  it("migrate concurrently without conflict and never duplicate an upserted row", async () => {
    const { url, drop } = await freshPostgres();
    try {
      const [a, b] = await Promise.all([openDatabase({ url }), openDatabase({ url })]);
      try {
        // Between them, each migration once.
        expect([...a.applied, ...b.applied].sort()).toEqual(Object.keys(MIGRATIONS).sort());
        const [sa, sb] = [new FleetStore(a), new FleetStore(b)];
        await Promise.all([sa.seedDefaults(), sb.seedDefaults()]);
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? sa : sb).upsertScheduler(registration("shared"))),
        );
        const rows = await a.db.selectFrom("schedulers").select("id").where("hostname", "=", "shared").execute();
        expect(rows).toHaveLength(1);
        expect(await a.db.selectFrom("scheduler_clusters").select("id").execute()).toHaveLength(1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    } finally {
      await drop();
    }
  });
});

describe("opening a database", () => {
  it("parses URLs and hides passwords", () => {
    expect(parseDatabaseUrl("pglite:")).toEqual({ kind: "pglite", dir: undefined });
    expect(parseDatabaseUrl("pglite:///var/lib/x")).toEqual({ kind: "pglite", dir: "/var/lib/x" });
    expect(parseDatabaseUrl("postgres://u:p@h:5/d")).toEqual({ kind: "postgres", url: "postgres://u:p@h:5/d" });
    expect(() => parseDatabaseUrl("mysql://x")).toThrow(/neither pglite/);
    expect(redactUrl("postgres://df:secret@db:5432/df")).toBe("postgres://df:***@db:5432/df");
  });

  it("retries an unreachable PostgreSQL with backoff, then fails naming the URL (password hidden)", async () => {
    const started = Date.now();
    const error = await openDatabase({ url: "postgres://df:hunter2@127.0.0.1:1/df", connectAttempts: 3, retryDelayMs: 50 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "UNAVAILABLE", details: { url: "postgres://df:***@127.0.0.1:1/df", attempts: 3 } });
    expect((error as Error).message).toMatch(/^cannot open the database postgres:\/\/df:\*\*\*@127\.0\.0\.1:1\/df after 3 attempts: /);
    expect((error as Error).message).not.toContain("hunter2");
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});
