import { rm, symlink } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { DiskUsage } from "./disk-usage.js";
import { statfsDiskUsage, usagePercent } from "./disk-usage.js";
import { bytes, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

const disk = (available: number): DiskUsage => ({ total: 1_000_000, used: 1_000_000 - available, available });

describe("free space", () => {
  it("refuses a new task that does not fit, saying how much is needed and free", async () => {
    const storage = await openStorage({ dir: await tempDir(), diskUsage: async () => disk(1000) });
    const error = await storage.createTask({ taskId: taskIdOf(1), contentLength: 2000, pieceLength: 500 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      reason: "insufficient-space",
      details: { needed: 2000, free: 1000 },
    });
    expect((error as Error).message).toMatch(/needs 2.0 KiB \(2000 bytes\) but only 1000 B are free/);
    expect(storage.listTasks()).toEqual([]);
    await storage.createTask({ taskId: taskIdOf(2), contentLength: 1000, pieceLength: 500 });
  });

  it("counts what downloads in progress still need as taken", async () => {
    const storage = await openStorage({ dir: await tempDir(), diskUsage: async () => disk(10_000) });
    const downloading = await storage.createTask({ taskId: taskIdOf(1), contentLength: 8000, pieceLength: 4000 });
    const lease = downloading.acquire();
    await expect(storage.createTask({ taskId: taskIdOf(2), contentLength: 3000 })).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      details: { reserved: 8000 },
    });
    await downloading.writePiece(0, bytes(4000));
    await storage.createTask({ taskId: taskIdOf(2), contentLength: 3000, pieceLength: 1000 });
    lease.release();
  });

  it("reads real figures from statfs by default", async () => {
    const usage = await statfsDiskUsage(await tempDir());
    expect(usage.total).toBeGreaterThan(0);
    expect(usage.used + usage.available).toBe(usage.total);
    expect(usagePercent(usage)).toBeGreaterThanOrEqual(0);
    expect(usagePercent(usage)).toBeLessThanOrEqual(100);
  });
});

describe("a full disk while writing", () => {
  // /dev/full answers every write with ENOSPC: a real full device, no mocking.
  it("turns ENOSPC on the content into RESOURCE_EXHAUSTED and records nothing", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const task = await storage.createTask({ taskId: taskIdOf(1), contentLength: 4096, pieceLength: 1024 });
    await rm(task.paths.content);
    await symlink("/dev/full", task.paths.content);
    const heard: number[] = [];
    task.onPiece((p) => heard.push(p.number));
    await expect(task.writePiece(0, bytes(1024))).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED", reason: "enospc" });
    expect(task.hasPiece(0)).toBe(false);
    expect(heard).toEqual([]);
  });

  it("turns ENOSPC on the piece log into RESOURCE_EXHAUSTED and records nothing", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const task = await storage.createTask({ taskId: taskIdOf(1), contentLength: 4096, pieceLength: 1024 });
    await symlink("/dev/full", task.paths.pieceLog);
    await expect(task.writePiece(1, bytes(1024))).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    expect(task.hasPiece(1)).toBe(false);
    await expect(task.readPiece(1)).rejects.toMatchObject({ reason: "piece-not-finished" });
  });
});
