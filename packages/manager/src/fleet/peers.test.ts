import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noopLogger } from "@df/interface";
import { manager as m } from "@df/rpc";
import type { Database } from "../db/database.js";
import { openTestDatabase } from "../test-support/databases.js";
import { PeerRecorder } from "./peers.js";
import { FleetStore } from "./store.js";

describe("the peer recorder", () => {
  let database: Database & { drop(): Promise<void> };
  let recorder: PeerRecorder;

  beforeAll(async () => {
    database = await openTestDatabase("pglite");
    const store = new FleetStore(database);
    await store.seedDefaults();
    recorder = new PeerRecorder(store, noopLogger);
  });
  afterAll(() => database?.drop());

  it("keeps writing after a flush that had nothing to write", async () => {
    await recorder.flush();
    recorder.seen(m.ListSchedulersRequest.create({ hostname: "peer-a", ip: "10.4.0.1", version: "1" }), 1);
    await recorder.flush();
    recorder.seen(m.ListSchedulersRequest.create({ hostname: "peer-b", ip: "10.4.0.2", version: "1" }), undefined);
    await recorder.flush();
    const rows = await database.db.selectFrom("peers").select(["hostname", "scheduler_cluster_id"]).orderBy("hostname").execute();
    expect(rows).toEqual([
      { hostname: "peer-a", scheduler_cluster_id: 1 },
      { hostname: "peer-b", scheduler_cluster_id: null },
    ]);
  });
});
