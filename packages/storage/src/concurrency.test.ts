import { setImmediate as tick } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { crc32Digest } from "@df/piece";
import { bytes, chunked, collect, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

const PIECE = 2048;

async function setup(contentLength = 6 * PIECE - 7) {
  const storage = await openStorage({ dir: await tempDir() });
  const content = bytes(contentLength, 11);
  const task = await storage.createTask({ taskId: taskIdOf(1), contentLength, pieceLength: PIECE });
  const piece = (n: number) => content.subarray(n * PIECE, Math.min((n + 1) * PIECE, contentLength));
  return { storage, task, content, piece };
}

describe("readers while the task is still downloading", () => {
  it("a waiting reader streams every piece as the writer lands it, in any order", async () => {
    const { task, content, piece } = await setup();
    const whole = collect(task.createReadStream(undefined, { wait: true, chunkSize: 1000 }));
    const tail = collect(task.read({ start: 3 * PIECE + 5, length: 2 * PIECE }, { wait: true }));
    for (const n of [5, 2, 0, 4, 1, 3]) {
      await tick();
      await task.writePiece(n, piece(n));
    }
    expect(await whole).toEqual(content);
    expect(await tail).toEqual(content.subarray(3 * PIECE + 5, 5 * PIECE + 5));
    expect(task.inUse).toBe(0);
  });

  it("waitForPiece resolves when the piece lands, and honours its signal", async () => {
    const { task, piece } = await setup();
    const waiting = task.waitForPiece(2);
    const controller = new AbortController();
    const cancelled = task.waitForPiece(3, { signal: controller.signal });
    const timedOut = task.waitForPiece(4, { signal: AbortSignal.timeout(5) });
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: "CANCELLED" });
    await expect(timedOut).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
    await task.writePiece(2, piece(2));
    expect(await waiting).toMatchObject({ number: 2, digest: crc32Digest(piece(2)) });
    expect(await task.waitForPiece(2)).toMatchObject({ number: 2 });
  });

  it("watchPieces gives the pieces already there, then each new one, and ends when all are in", async () => {
    const { task, piece } = await setup();
    await task.writePiece(4, piece(4));
    await task.writePiece(1, piece(1));
    const seen: number[] = [];
    const watching = (async () => {
      for await (const p of task.watchPieces()) seen.push(p.number);
    })();
    const heard: number[] = [];
    const unsubscribe = task.onPiece((p) => heard.push(p.number));
    for (const n of [0, 5, 2, 3]) {
      await tick();
      await task.writePiece(n, piece(n));
    }
    await watching;
    unsubscribe();
    expect(seen.slice(0, 2)).toEqual([1, 4]);
    expect(seen.slice(2)).toEqual([0, 5, 2, 3]);
    expect(heard).toEqual([0, 5, 2, 3]);
  });

  it("a destroyed stream stops waiting and lets go of the task", async () => {
    const { task } = await setup();
    const stream = task.createReadStream(undefined, { wait: true });
    stream.on("error", () => {});
    stream.resume();
    await tick();
    await tick();
    expect(task.inUse).toBe(1);
    stream.destroy();
    await new Promise((resolve) => stream.once("close", resolve));
    await tick();
    expect(task.inUse).toBe(0);
  });

  it("waiters learn at once when the task is deleted", async () => {
    const { storage, task } = await setup();
    const waiting = task.waitForPiece(0);
    const watching = collect((async function* () {
      for await (const p of task.watchPieces()) yield Buffer.from([p.number]);
    })());
    const outcomes = Promise.allSettled([waiting, watching]);
    await tick();
    await storage.deleteTask(task.id);
    const [waited, watched] = await outcomes;
    expect(waited).toMatchObject({ status: "rejected", reason: { code: "NOT_FOUND", reason: "task-deleted" } });
    expect(watched).toMatchObject({ status: "rejected", reason: { code: "NOT_FOUND" } });
  });
});

describe("concurrent writers and creators", () => {
  it("two writers of one piece: one copy wins whole, the other gets its record", async () => {
    const { task } = await setup();
    const a = bytes(PIECE, 100);
    const b = bytes(PIECE, 200);
    const [first, second] = await Promise.all([task.writePiece(0, chunked(a, 64)), task.writePiece(0, chunked(b, 64))]);
    expect(second).toEqual(first);
    const stored = await task.readPiece(0);
    expect([crc32Digest(a), crc32Digest(b)]).toContain(crc32Digest(stored));
    expect(first.digest).toBe(crc32Digest(stored));
  });

  it("a bad copy racing a good one never wins", async () => {
    const { task, piece } = await setup();
    const bad = bytes(PIECE, 300);
    const results = await Promise.allSettled([
      task.writePiece(1, chunked(bad, 100), { digest: crc32Digest(piece(1)) }),
      task.writePiece(1, chunked(piece(1), 100), { digest: crc32Digest(piece(1)) }),
      task.writePiece(1, chunked(bad, 100), { digest: crc32Digest(piece(1)) }),
    ]);
    expect(results[1].status).toBe("fulfilled");
    expect(await task.readPiece(1)).toEqual(piece(1));
  });

  it("the same task created many times at once is created once", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const tasks = await Promise.all(
      Array.from({ length: 20 }, () => storage.createTask({ taskId: taskIdOf(9), contentLength: 5000, pieceLength: PIECE })),
    );
    expect(new Set(tasks).size).toBe(1);
    expect(storage.listTasks()).toHaveLength(1);
  });

  it("many tasks, many writers and many readers at once", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const contents = Array.from({ length: 12 }, (_, i) => bytes(5 * PIECE + i, i + 1));
    await Promise.all(
      contents.map(async (content, i) => {
        const task = await storage.createTask({ taskId: taskIdOf(100 + i), contentLength: content.length, pieceLength: PIECE });
        const readers = Array.from({ length: 4 }, () => collect(task.read(undefined, { wait: true, chunkSize: 700 })));
        await Promise.all(
          Array.from({ length: task.pieceCount }, (_, n) =>
            task.writePiece(n, chunked(content.subarray(n * PIECE, (n + 1) * PIECE), 512), {
              digest: crc32Digest(content.subarray(n * PIECE, (n + 1) * PIECE)),
            }),
          ),
        );
        await task.markComplete();
        for (const read of await Promise.all(readers)) expect(read).toEqual(content);
      }),
    );
    expect(storage.listTasks().every((task) => task.complete && task.inUse === 0)).toBe(true);
  });
});
