import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { crc32Digest } from "@df/piece";
import { bytes, chunked, collect, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

const PIECE = 1024;

async function setup(contentLength = 3 * PIECE + 100) {
  const storage = await openStorage({ dir: await tempDir() });
  const content = bytes(contentLength, 7);
  const task = await storage.createTask({ taskId: taskIdOf(1), contentLength, pieceLength: PIECE });
  const piece = (n: number) => content.subarray(n * PIECE, Math.min((n + 1) * PIECE, contentLength));
  return { storage, task, content, piece };
}

describe("writing and reading pieces", () => {
  it("round-trips every piece, including a short last piece, in any order", async () => {
    const { task, content, piece } = await setup();
    expect(task.pieceCount).toBe(4);
    for (const n of [3, 1, 0, 2]) {
      const record = await task.writePiece(n, piece(n), { digest: crc32Digest(piece(n)) });
      expect(record).toMatchObject({ number: n, offset: n * PIECE, length: piece(n).length, digest: crc32Digest(piece(n)) });
    }
    expect(task.piece(3)?.length).toBe(100);
    expect(await task.readPiece(3)).toEqual(piece(3));
    expect(await collect(task.read())).toEqual(content);
    expect(await collect(task.createReadStream())).toEqual(content);
    await task.markComplete();
    expect(task.complete).toBe(true);
    expect(await readFile(task.paths.content)).toEqual(content);
  });

  it("reads any byte range, across piece boundaries, in small chunks", async () => {
    const { task, content, piece } = await setup();
    for (let n = 0; n < 4; n++) await task.writePiece(n, piece(n));
    const ranges = [
      { start: 0, length: 1 },
      { start: 1000, length: 50 },
      { start: 500, length: 2600 },
      { start: content.length - 1, length: 1 },
      { start: 10, length: 0 },
    ];
    for (const range of ranges) {
      expect(await collect(task.read(range, { chunkSize: 333 }))).toEqual(content.subarray(range.start, range.start + range.length));
    }
  });

  it("accepts a piece as a stream of chunks", async () => {
    const { task, piece } = await setup();
    await task.writePiece(1, chunked(piece(1), 100), { digest: crc32Digest(piece(1)) });
    expect(await task.readPiece(1)).toEqual(piece(1));
  });

  it("handles an empty task: no pieces, complete at once, empty reads", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const task = await storage.createTask({ taskId: taskIdOf(2), contentLength: 0, pieceLength: PIECE });
    expect(task.pieceCount).toBe(0);
    await task.markComplete();
    expect(task.complete).toBe(true);
    expect(await collect(task.read())).toEqual(Buffer.alloc(0));
    await expect(task.writePiece(0, Buffer.alloc(0))).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
  });

  it("uses Dragonfly's piece length when none is given", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const task = await storage.createTask({ taskId: taskIdOf(3), contentLength: 10 });
    expect(task.pieceLength).toBe(4 * 1024 * 1024);
    expect(task.pieceCount).toBe(1);
  });

  it("writes a finished piece only once and keeps the first copy", async () => {
    const { task, piece } = await setup();
    const first = await task.writePiece(0, piece(0));
    const again = await task.writePiece(0, Buffer.alloc(PIECE, 0xee));
    expect(again).toEqual(first);
    expect(await task.readPiece(0)).toEqual(piece(0));
  });

  it("records the task's identity and response header", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const task = await storage.createTask({
      taskId: taskIdOf(4),
      contentLength: 5,
      pieceLength: PIECE,
      url: "https://example.com/a",
      tag: "t",
      application: "app",
      type: "standard",
      filteredQueryParams: ["sig"],
      responseHeader: { "content-type": "text/plain" },
    });
    expect(task.info).toMatchObject({
      url: "https://example.com/a",
      tag: "t",
      application: "app",
      type: "standard",
      filteredQueryParams: ["sig"],
      responseHeader: { "content-type": "text/plain" },
      complete: false,
      finishedPieceCount: 0,
    });
  });
});

describe("bad input", () => {
  it("rejects a piece whose bytes do not match the sender's CRC and records nothing", async () => {
    const { task, piece } = await setup();
    const events: number[] = [];
    task.onPiece((p) => events.push(p.number));
    await expect(task.writePiece(0, piece(0), { digest: crc32Digest(piece(1)) })).rejects.toMatchObject({
      code: "DATA_LOSS",
      reason: "piece-digest-mismatch",
    });
    await expect(task.writePiece(1, chunked(piece(0), 300), { digest: crc32Digest(piece(1)) })).rejects.toMatchObject({
      reason: "piece-digest-mismatch",
    });
    expect(task.hasPiece(0)).toBe(false);
    expect(task.hasPiece(1)).toBe(false);
    expect(events).toEqual([]);
    // The right bytes are accepted afterwards.
    await task.writePiece(0, piece(0), { digest: crc32Digest(piece(0)) });
    expect(task.hasPiece(0)).toBe(true);
  });

  it("checks sha256 piece digests too", async () => {
    const { task, piece } = await setup();
    const sha = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
    await expect(task.writePiece(0, piece(0), { digest: sha(piece(1)) })).rejects.toMatchObject({ reason: "piece-digest-mismatch" });
    const record = await task.writePiece(0, piece(0), { digest: sha(piece(0)) });
    expect(record.digest).toBe(crc32Digest(piece(0)));
  });

  it("refuses malformed digests, wrong lengths and sources that send too much or too little", async () => {
    const { task, piece } = await setup();
    await expect(task.writePiece(0, piece(0), { digest: "md5:abc" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(task.writePiece(0, piece(0).subarray(1))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(task.writePiece(0, chunked(bytes(PIECE + 1), 256))).rejects.toMatchObject({ reason: "piece-length-mismatch" });
    await expect(task.writePiece(0, chunked(bytes(PIECE - 1), 256))).rejects.toMatchObject({ reason: "piece-length-mismatch" });
    expect(task.hasPiece(0)).toBe(false);
  });

  it("never lets an oversized stream overwrite the next piece", async () => {
    const { task, piece } = await setup();
    await task.writePiece(1, piece(1));
    await expect(task.writePiece(0, chunked(bytes(PIECE + 500, 9), 700))).rejects.toMatchObject({ reason: "piece-length-mismatch" });
    expect(await task.readPiece(1)).toEqual(piece(1));
  });

  it("an abort stops a write whose source has stalled, records nothing and frees the task", async () => {
    const { storage, task, piece } = await setup();
    let finish: () => void = () => {};
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield piece(0).subarray(0, 100);
      await new Promise<void>((resolve) => (finish = resolve));
    }
    const stop = new AbortController();
    const writing = task.writePiece(0, stalled(), { signal: stop.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(task.inUse).toBe(1);
    stop.abort();
    await expect(writing).rejects.toMatchObject({ code: "CANCELLED" });
    expect(task.hasPiece(0)).toBe(false);
    expect(task.inUse).toBe(0);
    await storage.close(); // would wait forever on the stalled write
    finish();
  });

  it("says OUT_OF_RANGE for a piece number or byte range past the end", async () => {
    const { task } = await setup();
    expect(() => task.hasPiece(4)).toThrow(expect.objectContaining({ code: "OUT_OF_RANGE" }));
    await expect(task.writePiece(4, Buffer.alloc(1))).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    await expect(task.readPiece(-1)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    await expect(task.waitForPiece(99)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    expect(() => task.read({ start: 3000, length: 200 })).toThrow(expect.objectContaining({ code: "OUT_OF_RANGE" }));
    expect(() => task.createReadStream({ start: task.contentLength + 1, length: 0 })).toThrow(
      expect.objectContaining({ code: "OUT_OF_RANGE" }),
    );
  });

  it("fails reading a piece that is not there yet unless told to wait", async () => {
    const { task } = await setup();
    await expect(task.readPiece(0)).rejects.toMatchObject({ code: "NOT_FOUND", reason: "piece-not-finished" });
    await expect(collect(task.read({ start: 0, length: 10 }))).rejects.toMatchObject({ reason: "piece-not-finished" });
  });

  it("reads into a caller's buffer: any span, the same buffer reused, no bytes outside it touched", async () => {
    const { task, content, piece } = await setup();
    for (let n = 0; n < 4; n++) await task.writePiece(n, piece(n));
    const backing = Buffer.alloc(3000, 0xee);
    for (const { start, length } of [
      { start: 0, length: 1 },
      { start: 1000, length: 50 },
      { start: 500, length: 2600 },
      { start: 3 * PIECE, length: 100 },
      { start: 0, length: 0 },
    ]) {
      backing.fill(0xee);
      const target = backing.subarray(10, 10 + length);
      expect(await task.readInto(target, start)).toBe(target);
      expect(target).toEqual(content.subarray(start, start + length));
      expect(backing[9]).toBe(0xee);
      expect(backing[10 + length]).toBe(0xee);
    }
  });

  it("reads into a buffer only from finished pieces, or waits for them when told to", async () => {
    const { task, content, piece } = await setup();
    await task.writePiece(0, piece(0));
    const target = Buffer.alloc(200);
    await expect(task.readInto(target, PIECE - 100)).rejects.toMatchObject({ code: "NOT_FOUND", reason: "piece-not-finished" });
    await expect(task.readInto(Buffer.alloc(200), task.contentLength - 100)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    const waiting = task.readInto(target, PIECE - 100, { wait: true });
    await task.writePiece(1, piece(1));
    expect(await waiting).toEqual(content.subarray(PIECE - 100, PIECE + 100));
    const stop = new AbortController();
    const stopped = task.readInto(Buffer.alloc(10), 2 * PIECE, { wait: true, signal: stop.signal });
    stop.abort();
    await expect(stopped).rejects.toMatchObject({ code: "CANCELLED" });
    expect(task.inUse).toBe(0);
  });

  it("cannot complete a task with missing pieces", async () => {
    const { task, piece } = await setup();
    await task.writePiece(0, piece(0));
    await expect(task.markComplete()).rejects.toMatchObject({ code: "FAILED_PRECONDITION", reason: "pieces-missing" });
    expect(task.complete).toBe(false);
  });

  it("refuses task IDs that could leave the store and conflicting re-creation", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    await expect(storage.createTask({ taskId: "../../etc", contentLength: 1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(storage.createTask({ taskId: "abc/def", contentLength: 1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(storage.createTask({ taskId: taskIdOf(5), contentLength: -1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await storage.createTask({ taskId: taskIdOf(5), contentLength: 10, pieceLength: 4 });
    await expect(storage.createTask({ taskId: taskIdOf(5), contentLength: 11 })).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "task-conflict",
    });
    await expect(storage.createTask({ taskId: taskIdOf(5), contentLength: 10, pieceLength: 5 })).rejects.toMatchObject({
      reason: "task-conflict",
    });
    expect((await storage.createTask({ taskId: taskIdOf(5), contentLength: 10 })).pieceLength).toBe(4);
  });

  it("says NOT_FOUND for an unknown task", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    expect(storage.getTask(taskIdOf(6))).toBeUndefined();
    expect(() => storage.acquire(taskIdOf(6))).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    await expect(storage.deleteTask(taskIdOf(6))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(storage.exportTask(taskIdOf(6), "/tmp/x")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
