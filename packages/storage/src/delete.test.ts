import { stat } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { bytes, collect, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

async function setup() {
  const storage = await openStorage({ dir: await tempDir() });
  const task = await storage.createTask({ taskId: taskIdOf(1), contentLength: 3000, pieceLength: 1000 });
  for (let n = 0; n < 3; n++) await task.writePiece(n, bytes(1000, n));
  return { storage, task };
}

async function gone(...files: string[]) {
  for (const file of files) await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
}

describe("delete", () => {
  it("removes the task and its files", async () => {
    const { storage, task } = await setup();
    await storage.deleteTask(task.id);
    expect(storage.getTask(task.id)).toBeUndefined();
    await gone(task.paths.content, task.paths.metadata, task.paths.pieceLog);
    await expect(task.writePiece(0, bytes(1000))).rejects.toMatchObject({ code: "NOT_FOUND", reason: "task-deleted" });
  });

  it("refuses a task in use, and with defer removes it when the last lease ends", async () => {
    const { storage, task } = await setup();
    const lease = storage.acquire(task.id);
    await expect(storage.deleteTask(task.id)).rejects.toMatchObject({ code: "FAILED_PRECONDITION", reason: "task-in-use" });
    await storage.deleteTask(task.id, { defer: true });
    expect(storage.getTask(task.id)).toBeUndefined();
    // The holder may still finish reading what is there.
    await stat(task.paths.content);
    lease.release();
    lease.release();
    await storage.createTask({ taskId: task.id, contentLength: 10, pieceLength: 10 });
    expect(storage.getTask(task.id)!.contentLength).toBe(10);
  });

  it("lets a reader that started before a deferred delete finish", async () => {
    const { storage, task } = await setup();
    const reading = task.read(undefined, { chunkSize: 500 });
    const first = await reading.next();
    await storage.deleteTask(task.id, { defer: true });
    const rest = await collect(reading);
    expect(Buffer.concat([first.value as Buffer, rest])).toHaveLength(3000);
    expect(task.inUse).toBe(0);
    await storage.close();
    await gone(task.paths.content, task.paths.metadata);
  });

  it("a re-created task starts empty, not with the old pieces", async () => {
    const { storage, task } = await setup();
    await storage.deleteTask(task.id);
    const again = await storage.createTask({ taskId: task.id, contentLength: 3000, pieceLength: 1000 });
    expect(again).not.toBe(task);
    expect(again.finishedPieces.size).toBe(0);
  });

  it("fails everything after close with FAILED_PRECONDITION", async () => {
    const { storage, task } = await setup();
    await storage.close();
    await expect(storage.createTask({ taskId: taskIdOf(2), contentLength: 1 })).rejects.toMatchObject({ reason: "storage-closed" });
    await expect(task.readPiece(0)).rejects.toMatchObject({ code: "FAILED_PRECONDITION", reason: "storage-closed" });
    await storage.close();
  });
});
