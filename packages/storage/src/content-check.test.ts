import { open, readFile, truncate, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeTaskRecord } from "./metadata.js";
import { bytes, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

async function completeTask(dir?: string) {
  const storeDir = dir ?? path.join(await tempDir(), "store");
  const storage = await openStorage({ dir: storeDir });
  const content = bytes(10_000, 7);
  const task = await storage.createTask({ taskId: taskIdOf(3), contentLength: content.length, pieceLength: 4096 });
  for (let n = 0; n < task.pieceCount; n++) await task.writePiece(n, content.subarray(n * 4096, (n + 1) * 4096));
  await task.markComplete();
  return { storeDir, storage, task, content };
}

describe("the content check of a local hit", () => {
  it("records the content file's stat at completion and trusts an untouched file by it", async () => {
    const { storage, task } = await completeTask();
    const record = decodeTaskRecord(await readFile(task.paths.metadata, "utf8"), task.id);
    expect(record.contentStat).toMatchObject({ size: 10_000 });
    expect(task.contentUnchanged()).toBe(true);
    expect(await storage.checkLocalContent(task.id)).toBe(true);
    expect(storage.getTask(task.id)).toBe(task);
  });

  it("notices bytes written into the store file directly, even with mtime set back, and drops the task", async () => {
    const { storage, task } = await completeTask();
    const before = await import("node:fs/promises").then((fs) => fs.stat(task.paths.content));
    const handle = await open(task.paths.content, "r+");
    await handle.write(Buffer.from("tampered"), 0, 8, 5000);
    await handle.close();
    // mtime can be forged; ctime cannot.
    await utimes(task.paths.content, before.atime, before.mtime);
    expect(task.contentUnchanged()).toBe(false);
    expect(await storage.checkLocalContent(task.id)).toBe(false);
    expect(storage.getTask(task.id)).toBeUndefined();
  });

  it("notices a truncated store file", async () => {
    const { storage, task } = await completeTask();
    await truncate(task.paths.content, 0);
    const heard: unknown[] = [];
    storage.onEvicted((eviction) => heard.push(eviction));
    expect(await storage.checkLocalContent(task.id)).toBe(false);
    expect(heard).toEqual([{ taskId: task.id, reason: "content-changed", bytes: 10_000 }]);
    expect(storage.getTask(task.id)).toBeUndefined();
  });

  it("keeps a task whose file was touched but whose pieces still match, and trusts the new stat from then on", async () => {
    const { storage, task, content } = await completeTask();
    // Same bytes written back: the stat changes, the content does not.
    await writeFile(task.paths.content, content);
    expect(task.contentUnchanged()).toBe(false);
    expect(await storage.checkLocalContent(task.id)).toBe(true);
    expect(storage.getTask(task.id)).toBe(task);
    expect(task.contentUnchanged()).toBe(true);
  });

  it("keeps the stat across a restart, so a change made while the daemon was down is caught", async () => {
    const { storeDir, storage, task } = await completeTask();
    await storage.close();
    const handle = await open(task.paths.content, "r+");
    await handle.write(Buffer.from("x"), 0, 1, 0);
    await handle.close();
    const reopened = await openStorage({ dir: storeDir });
    const again = reopened.getTask(task.id)!;
    expect(again.complete).toBe(true);
    expect(again.contentUnchanged()).toBe(false);
    expect(await reopened.checkLocalContent(task.id)).toBe(false);
    expect(reopened.getTask(task.id)).toBeUndefined();
  });

  it("reads a task once for concurrent hits", async () => {
    const { storage, task, content } = await completeTask();
    await writeFile(task.paths.content, content);
    const results = await Promise.all([storage.checkLocalContent(task.id), storage.checkLocalContent(task.id), storage.checkLocalContent(task.id)]);
    expect(results).toEqual([true, true, true]);
  });
});
