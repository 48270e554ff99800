import { stat } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { DiskUsage } from "./disk-usage.js";
import { planGc, resolveGcConfig } from "./gc.js";
import { bytes, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

const MiB = 1024 * 1024;
const DAY = 24 * 3600 * 1000;

/** A disk of 100 MiB that is `percent` full. */
const diskAt = (percent: number): DiskUsage => ({ total: 100 * MiB, used: percent * MiB, available: (100 - percent) * MiB });

async function storeWithTasks(options: { usage?: DiskUsage; ttl?: number } = {}) {
  let now = 1_000_000;
  // Plenty of room while the tasks are created; then the figure the test asks for.
  let usage = diskAt(10);
  const storage = await openStorage({
    dir: await tempDir(),
    clock: () => now,
    diskUsage: async () => usage,
    gc: { taskTtlMs: options.ttl ?? 30 * DAY },
  });
  const ids: string[] = [];
  // Five complete tasks of 10 MiB each, used one second apart.
  for (let i = 0; i < 5; i++) {
    now += 1000;
    const task = await storage.createTask({ taskId: taskIdOf(i + 1), contentLength: 10 * MiB, pieceLength: 10 * MiB });
    await task.writePiece(0, bytes(10 * MiB, i));
    await task.markComplete();
    ids.push(task.id);
  }
  usage = options.usage ?? usage;
  return { storage, ids, advance: (ms: number) => (now += ms) };
}

describe("GC", () => {
  it("evicts tasks unused for longer than the TTL, and only those", async () => {
    const { storage, ids, advance } = await storeWithTasks({ ttl: DAY });
    advance(DAY - 3500);
    // Task 5 was used just now; tasks 1-3 were last used more than a day ago.
    storage.acquire(ids[4]!).release();
    advance(2000);
    const report = await storage.runGc();
    expect(report.evicted.map((e) => e.taskId)).toEqual(ids.slice(0, 3));
    expect(report.evicted.every((e) => e.reason === "ttl")).toBe(true);
    expect(storage.listTasks().map((t) => t.id)).toEqual(ids.slice(3));
  });

  it("above the high watermark, evicts least recently used first down to the low watermark", async () => {
    const { storage, ids } = await storeWithTasks({ usage: diskAt(85) });
    // Using task 1 makes it the most recently used.
    storage.acquire(ids[0]!).release();
    const report = await storage.runGc();
    // 85 % → 60 % of 100 MiB = 25 MiB: three tasks of 10 MiB, oldest first (2, 3, 4).
    expect(report.bytesToFree).toBe(25 * MiB);
    expect(report.evicted.map((e) => e.taskId)).toEqual([ids[1], ids[2], ids[3]]);
    expect(report.evicted.every((e) => e.reason === "disk-pressure")).toBe(true);
    for (const id of [ids[1], ids[2], ids[3]]) expect(storage.getTask(id!)).toBeUndefined();
    expect(storage.listTasks().map((t) => t.id).sort()).toEqual([ids[0], ids[4]].sort());
  });

  it("leaves everything alone below the high watermark", async () => {
    const { storage } = await storeWithTasks({ usage: diskAt(79) });
    expect((await storage.runGc()).evicted).toEqual([]);
    expect(storage.listTasks()).toHaveLength(5);
  });

  it("never evicts a task in use, whatever the pressure or age", async () => {
    const { storage, ids, advance } = await storeWithTasks({ usage: diskAt(99), ttl: DAY });
    const leases = ids.slice(0, 2).map((id) => storage.acquire(id));
    const reading = storage.getTask(ids[2]!)!.read();
    await reading.next();
    advance(10 * DAY);
    const report = await storage.runGc();
    expect(report.evicted.map((e) => e.taskId).sort()).toEqual(ids.slice(3).sort());
    expect(storage.listTasks().map((t) => t.id).sort()).toEqual(ids.slice(0, 3).sort());
    await stat(storage.getTask(ids[0]!)!.paths.content);
    for (const lease of leases) lease.release();
    await reading.return();
    expect((await storage.runGc()).evicted.map((e) => e.taskId).sort()).toEqual(ids.slice(0, 3).sort());
  });

  it("removes an evicted task's files", async () => {
    const { storage, ids, advance } = await storeWithTasks({ ttl: DAY });
    const paths = storage.getTask(ids[0]!)!.paths;
    advance(2 * DAY);
    await storage.runGc();
    for (const file of [paths.content, paths.metadata, paths.pieceLog]) await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("planGc", () => {
  const config = resolveGcConfig({ taskTtlMs: 100 });
  const task = (taskId: string, accessedAt: number, bytes: number, inUse = false) => ({ taskId, accessedAt, bytes, inUse });

  it("counts TTL evictions towards the bytes disk pressure asks for", () => {
    const plan = planGc([task("a", 0, 30), task("b", 950, 30), task("c", 920, 30)], 1000, { total: 100, used: 90, available: 10 }, config);
    expect(plan.bytesToFree).toBe(30);
    expect(plan.evictions).toEqual([{ taskId: "a", reason: "ttl", bytes: 30 }]);
  });

  it("validates watermarks", () => {
    expect(() => resolveGcConfig({ highWatermarkPercent: 50, lowWatermarkPercent: 60 })).toThrow(/watermarks/);
    expect(() => resolveGcConfig({ taskTtlMs: 0 })).toThrow(/taskTtlMs/);
    expect(resolveGcConfig()).toMatchObject({ highWatermarkPercent: 80, lowWatermarkPercent: 60 });
  });
});
