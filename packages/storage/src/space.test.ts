import { rm, stat, symlink } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { DiskUsage } from "./disk-usage.js";
import type { Storage } from "./storage.js";
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

/** A complete task of `length` bytes, written piece by piece. */
async function storedTask(storage: Storage, seed: number, length: number) {
  const task = await storage.createTask({ taskId: taskIdOf(seed), contentLength: length, pieceLength: 1000 });
  const content = bytes(length, seed);
  for (let n = 0; n < task.pieceCount; n++) await task.writePiece(n, content.subarray(n * 1000, (n + 1) * 1000));
  await task.markComplete();
  return task;
}

describe("eviction on demand, in a real store with a small quota", () => {
  it("evicts idle tasks, least recently used first, to make room for a new one", async () => {
    let now = 1_000_000;
    const storage = await openStorage({ dir: await tempDir(), quotaBytes: 10_000, clock: () => now });
    const oldest = await storedTask(storage, 1, 4000);
    now += 1000;
    const middle = await storedTask(storage, 2, 4000);
    now += 1000;
    // The oldest is used again: now the middle one is the least recently used.
    oldest.acquire().release();
    expect((await storage.diskUsage()).available).toBe(2000);
    const heard: unknown[] = [];
    storage.onEvicted((eviction) => heard.push(eviction));
    const fresh = await storage.createTask({ taskId: taskIdOf(3), contentLength: 5000, pieceLength: 1000 });
    expect(heard).toEqual([{ taskId: middle.id, reason: "make-room", bytes: 4000 }]);
    expect(storage.getTask(middle.id)).toBeUndefined();
    await expect(stat(middle.paths.content)).rejects.toMatchObject({ code: "ENOENT" });
    expect(storage.getTask(oldest.id)).toBe(oldest);
    expect(storage.getTask(fresh.id)).toBe(fresh);
  });

  it("never evicts a task in use, and says what it needs and what eviction could free when that is not enough", async () => {
    const storage = await openStorage({ dir: await tempDir(), quotaBytes: 10_000 });
    const leased = await storedTask(storage, 1, 6000);
    const lease = leased.acquire();
    const idle = await storedTask(storage, 2, 3000);
    const error = await storage.createTask({ taskId: taskIdOf(3), contentLength: 5000, pieceLength: 1000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      reason: "insufficient-space",
      details: { needed: 5000, free: 1000, evictable: 3000 },
    });
    expect((error as Error).message).toMatch(/needs 4.9 KiB \(5000 bytes\) but only 1000 B are free .*quota.*evicting every idle task would free only 2.9 KiB \(3000 bytes\)/);
    // Nothing was evicted for a task that could not fit anyway.
    expect(storage.getTask(idle.id)).toBe(idle);
    expect(storage.getTask(leased.id)).toBe(leased);
    lease.release();
    // Released, the big one may go now.
    await storage.createTask({ taskId: taskIdOf(3), contentLength: 5000, pieceLength: 1000 });
    expect(storage.getTask(leased.id)).toBeUndefined();
    expect(storage.getTask(idle.id)).toBe(idle);
  });

  it("lets two creations at once not count the same freed bytes", async () => {
    const storage = await openStorage({ dir: await tempDir(), quotaBytes: 10_000 });
    await storedTask(storage, 1, 5000);
    await storedTask(storage, 2, 5000);
    const a = storage.createTask({ taskId: taskIdOf(3), contentLength: 5000, pieceLength: 1000 });
    const b = storage.createTask({ taskId: taskIdOf(4), contentLength: 5000, pieceLength: 1000 });
    const [ta, tb] = await Promise.all([a, b]);
    // Both fit only because both old tasks went; the new ones (not yet written) are not evictable.
    expect(storage.listTasks().map((t) => t.id).sort()).toEqual([ta.id, tb.id].sort());
  });

  it("refuses a quota that is not a positive number of bytes", async () => {
    await expect(openStorage({ dir: await tempDir(), quotaBytes: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
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
