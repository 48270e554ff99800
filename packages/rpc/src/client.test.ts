import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRpcClient, createRpcServer, scheduler, waitForReady } from "./index.js";
import { withTempDir } from "./test-support/harness.js";

describe("waitForReady", () => {
  it("resolves once a server answers on the socket", async () => {
    await withTempDir(async (dir) => {
      const server = createRpcServer({ address: join(dir, "ready.sock") });
      const client = createRpcClient(scheduler.SchedulerClient, await server.start());
      try {
        await expect(waitForReady(client, { deadlineMs: 5000 })).resolves.toBeUndefined();
      } finally {
        client.close();
        await server.stop();
      }
    });
  });

  it("fails with DEADLINE_EXCEEDED when nothing listens", async () => {
    await withTempDir(async (dir) => {
      const client = createRpcClient(scheduler.SchedulerClient, `unix:${join(dir, "nobody.sock")}`);
      try {
        await expect(waitForReady(client, { deadlineMs: 200 })).rejects.toMatchObject({
          code: "DEADLINE_EXCEEDED",
          reason: "not-ready",
        });
      } finally {
        client.close();
      }
    });
  });

  it("stops waiting when its signal aborts", async () => {
    await withTempDir(async (dir) => {
      const client = createRpcClient(scheduler.SchedulerClient, join(dir, "nobody.sock"));
      try {
        await expect(
          waitForReady(client, { deadlineMs: 10_000, signal: AbortSignal.timeout(50) }),
        ).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
        await expect(waitForReady(client, { signal: AbortSignal.abort() })).rejects.toMatchObject({
          code: "CANCELLED",
        });
      } finally {
        client.close();
      }
    });
  });
});
