import { appendFile, mkdir, open, readdir, readFile, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createRecordingLogger } from "@df/interface";
import { crc32Digest } from "@df/piece";
import type { Storage } from "./index.js";
import { bytes, collect, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

const PIECE = 4096;
const LENGTH = 4 * PIECE + 10;
const content = bytes(LENGTH, 3);
const piece = (n: number) => content.subarray(n * PIECE, Math.min((n + 1) * PIECE, LENGTH));

async function writeSome(storage: Storage, taskId: string, numbers: number[]) {
  const task = await storage.createTask({ taskId, contentLength: LENGTH, pieceLength: PIECE, url: "https://example.com/f" });
  for (const n of numbers) await task.writePiece(n, piece(n), { digest: crc32Digest(piece(n)) });
  return task;
}

async function overwrite(file: string, position: number, data: Uint8Array) {
  const handle = await open(file, "r+");
  await handle.write(data, 0, data.byteLength, position);
  await handle.close();
}

describe("restart", () => {
  it("reloads a task left by a crash (no close) with its finished pieces, and it resumes", async () => {
    const dir = await tempDir();
    const crashed = await openStorage({ dir });
    const before = await writeSome(crashed, taskIdOf(1), [0, 2]);
    const digests = before.pieces().map((p) => p.digest);
    // `crashed` is never closed before the new store opens: as after a kill -9.

    const storage = await openStorage({ dir });
    const task = storage.getTask(taskIdOf(1));
    expect(task).toBeDefined();
    expect(task!.info).toMatchObject({ contentLength: LENGTH, pieceLength: PIECE, url: "https://example.com/f", complete: false });
    expect([...task!.finishedPieces.present()]).toEqual([0, 2]);
    expect(task!.pieces().map((p) => p.digest)).toEqual(digests);
    expect(await task!.readPiece(2)).toEqual(piece(2));

    for (const n of task!.finishedPieces.missing()) await task!.writePiece(n, piece(n));
    await task!.markComplete();
    expect(await collect(task!.read())).toEqual(content);
  });

  it("ignores a torn last record of the piece log, and keeps appending in step", async () => {
    const dir = await tempDir();
    const crashed = await openStorage({ dir });
    const first = await writeSome(crashed, taskIdOf(2), [0, 1]);
    await appendFile(first.paths.pieceLog, Buffer.from([1, 2, 3, 4, 5, 6, 7]));

    const second = await openStorage({ dir });
    const task = second.getTask(taskIdOf(2))!;
    expect([...task.finishedPieces.present()]).toEqual([0, 1]);
    await task.writePiece(3, piece(3));
    await task.writePiece(4, piece(4));

    const third = await openStorage({ dir });
    expect([...third.getTask(taskIdOf(2))!.finishedPieces.present()]).toEqual([0, 1, 3, 4]);
  });

  it("drops a piece whose bytes were changed behind the store's back (incomplete task)", async () => {
    const dir = await tempDir();
    const logger = createRecordingLogger();
    const crashed = await openStorage({ dir });
    const task = await writeSome(crashed, taskIdOf(3), [0, 1, 2]);
    await overwrite(task.paths.content, PIECE + 17, Buffer.from("garbage"));

    const storage = await openStorage({ dir, logger });
    const reloaded = storage.getTask(taskIdOf(3))!;
    expect([...reloaded.finishedPieces.present()]).toEqual([0, 2]);
    expect(logger.lines.some((line) => line.level === "warn" && (line.fields["pieces"] as number[])?.includes(1))).toBe(true);
    await reloaded.writePiece(1, piece(1));
    expect(await reloaded.readPiece(1)).toEqual(piece(1));
  });

  it("drops a task whose record is corrupt, logs it, and loads the others", async () => {
    const dir = await tempDir();
    const first = await openStorage({ dir });
    await writeSome(first, taskIdOf(4), [0]);
    const bad = await writeSome(first, taskIdOf(5), [1]);
    const done = await writeSome(first, taskIdOf(6), [0, 1, 2, 3, 4]);
    await done.markComplete();
    await first.close();
    await writeFile(bad.paths.metadata, '{"format":"df-storage-task/1","taskId":');

    const logger = createRecordingLogger();
    const storage = await openStorage({ dir, logger });
    expect(storage.listTasks().map((t) => t.id).sort()).toEqual([taskIdOf(4), taskIdOf(6)]);
    const warning = logger.lines.find((line) => line.level === "warn" && line.fields["taskId"] === taskIdOf(5));
    expect(warning?.message).toMatch(/dropping/);
    await expect(stat(bad.paths.content)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await collect(storage.getTask(taskIdOf(6))!.read())).toEqual(content);
  });

  it("reloads complete tasks from their record alone, with every digest", async () => {
    const dir = await tempDir();
    const first = await openStorage({ dir });
    const task = await writeSome(first, taskIdOf(7), [0, 1, 2, 3, 4]);
    await task.markComplete();
    const pieces = task.pieces();
    await first.close();
    await expect(stat(task.paths.pieceLog)).rejects.toMatchObject({ code: "ENOENT" });

    const storage = await openStorage({ dir });
    const reloaded = storage.getTask(taskIdOf(7))!;
    expect(reloaded.complete).toBe(true);
    expect(reloaded.pieces()).toEqual(pieces);
    expect(await collect(reloaded.read({ start: 100, length: 3 * PIECE }))).toEqual(content.subarray(100, 100 + 3 * PIECE));
  });

  it("records at a clean close how many logged pieces were fsynced", async () => {
    const dir = await tempDir();
    const first = await openStorage({ dir });
    const task = await writeSome(first, taskIdOf(8), [0, 3]);
    await first.close();
    const record = JSON.parse(await readFile(task.paths.metadata, "utf8")) as { syncedPieceRecords: number };
    expect(record.syncedPieceRecords).toBe(2);
    const storage = await openStorage({ dir });
    expect([...storage.getTask(taskIdOf(8))!.finishedPieces.present()]).toEqual([0, 3]);
  });

  it("drops a complete task whose content file lost bytes, resizes an incomplete one", async () => {
    const dir = await tempDir();
    const first = await openStorage({ dir });
    const complete = await writeSome(first, taskIdOf(9), [0, 1, 2, 3, 4]);
    await complete.markComplete();
    const partial = await writeSome(first, taskIdOf(10), [0, 4]);
    await first.close();
    await truncate(complete.paths.content, 10);
    await truncate(partial.paths.content, PIECE);

    const storage = await openStorage({ dir });
    expect(storage.getTask(taskIdOf(9))).toBeUndefined();
    const reloaded = storage.getTask(taskIdOf(10))!;
    expect([...reloaded.finishedPieces.present()]).toEqual([0]);
    expect((await stat(partial.paths.content)).size).toBe(LENGTH);
  });

  it("removes what a crash mid-create or mid-delete leaves: content without a record, temp files", async () => {
    const dir = await tempDir();
    const first = await openStorage({ dir });
    const task = await writeSome(first, taskIdOf(11), [0]);
    await first.close();
    const orphan = path.join(dir, "content", "tasks", "fff", "f".repeat(64));
    await mkdir(path.dirname(orphan), { recursive: true });
    await writeFile(orphan, "x");
    const temp = `${task.paths.metadata}.123.4.tmp`;
    await writeFile(temp, "{");
    const strayLog = path.join(dir, "metadata", "tasks", "eee", `${"e".repeat(64)}.pieces`);
    await mkdir(path.dirname(strayLog), { recursive: true });
    await writeFile(strayLog, "");
    // A record in the wrong prefix folder must not be loaded, nor harm the real task.
    const misplaced = path.join(dir, "metadata", "tasks", "eee", `${taskIdOf(11)}.json`);
    await writeFile(misplaced, "not json");

    const storage = await openStorage({ dir });
    expect(storage.listTasks().map((t) => t.id)).toEqual([taskIdOf(11)]);
    await expect(stat(orphan)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(temp)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(strayLog)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(misplaced)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readFile(task.paths.content)).toHaveLength(LENGTH);
  });

  it("does not record a task as complete when its content cannot be synced", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const task = await storage.createTask({ taskId: taskIdOf(13), contentLength: 0, pieceLength: PIECE });
    // fdatasync fails on /dev/full (EINVAL): content that cannot be made durable. The
    // complete record is written meanwhile, but must not take the old one's place.
    await rm(task.paths.content);
    await symlink("/dev/full", task.paths.content);
    await expect(task.markComplete()).rejects.toThrow();
    expect(task.complete).toBe(false);
    expect(JSON.parse(await readFile(task.paths.metadata, "utf8"))).not.toHaveProperty("finishedAt");
    expect((await readdir(path.dirname(task.paths.metadata))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("trusts the complete record over a piece log left beside it", async () => {
    const dir = await tempDir();
    const first = await openStorage({ dir });
    const task = await writeSome(first, taskIdOf(12), [0, 1, 2, 3, 4]);
    await task.markComplete();
    await first.close();
    await writeFile(task.paths.pieceLog, Buffer.alloc(24 * 3, 0xab));

    const storage = await openStorage({ dir });
    expect(storage.getTask(taskIdOf(12))!.complete).toBe(true);
    expect(await readdir(path.dirname(task.paths.pieceLog))).not.toContain(path.basename(task.paths.pieceLog));
  });
});
