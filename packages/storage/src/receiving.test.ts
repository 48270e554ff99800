import { describe, expect, it } from "vitest";
import { bytes, handFed, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

const PIECE = 4096;

/** Waits (at most 5 s) for `condition`. */
async function until(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5000; !condition(); ) {
    if (Date.now() > deadline) throw new Error("not within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("bytes of pieces still arriving (for clients' progress)", () => {
  it("counts a streamed piece's bytes as they come, per piece range, and forgets them once it is stored or failed", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const content = bytes(3 * PIECE, 9);
    const task = await storage.createTask({ taskId: taskIdOf(41), contentLength: content.byteLength, pieceLength: PIECE });
    const piece = (n: number) => content.subarray(n * PIECE, (n + 1) * PIECE);

    const first = handFed();
    const second = handFed();
    const writingFirst = task.writePiece(0, first.source);
    const writingSecond = task.writePiece(2, second.source);
    first.push(piece(0).subarray(0, 1000));
    second.push(piece(2).subarray(0, 300));
    await until(() => task.receivingBytes() === 1300);
    expect(task.receivingBytes(0, 1)).toBe(1000);
    expect(task.receivingBytes(1, 3)).toBe(300);

    first.push(piece(0).subarray(1000));
    first.end();
    await writingFirst;
    expect(task.receivingBytes()).toBe(300);

    second.fail(new Error("the parent went away"));
    await expect(writingSecond).rejects.toThrow();
    expect(task.receivingBytes()).toBe(0);
    await storage.close?.();
  });

  it("takes a count from a writer that gathers the piece itself, cleared by its write or by 0", async () => {
    const storage = await openStorage({ dir: await tempDir() });
    const content = bytes(2 * PIECE, 3);
    const task = await storage.createTask({ taskId: taskIdOf(42), contentLength: content.byteLength, pieceLength: PIECE });
    task.noteReceiving(0, 2048);
    task.noteReceiving(1, 100);
    expect(task.receivingBytes()).toBe(2148);
    await task.writePiece(0, content.subarray(0, PIECE));
    expect(task.receivingBytes()).toBe(100);
    // A stored piece is never "arriving" again.
    task.noteReceiving(0, 10);
    task.noteReceiving(1, 0);
    expect(task.receivingBytes()).toBe(0);
    await storage.close?.();
  });
});
