import { describe, expect, it } from "vitest";
import { crc32Digest } from "@df/piece";
import { bytes, handFed, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

const PIECE = 4096;

async function setup() {
  const storage = await openStorage({ dir: await tempDir() });
  const content = bytes(3 * PIECE, 5);
  const task = await storage.createTask({ taskId: taskIdOf(3), contentLength: content.byteLength, pieceLength: PIECE });
  const piece = (n: number) => content.subarray(n * PIECE, (n + 1) * PIECE);
  return { storage, task, piece };
}

/** Lets the write of a pushed chunk reach the disk (it goes through the thread pool). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Waits (at most 5 s) for a write to have landed. */
async function landed(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5000; !condition(); ) {
    if (Date.now() > deadline) throw new Error("the write did not land within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("a piece arriving with cut-through", () => {
  it("is readable as its bytes land, its last bytes only once it is checked and stored, then is an ordinary piece", async () => {
    const { task, piece } = await setup();
    const seen: number[] = [];
    const unsubscribe = task.onArriving((arriving) => seen.push(arriving.number));
    const feed = handFed();
    const writing = task.writePiece(1, feed.source, { digest: crc32Digest(piece(1)), cutThrough: true });
    await settle();
    const arriving = task.arrivingPiece(1);
    expect(arriving).toMatchObject({ number: 1, offset: PIECE, length: PIECE, digest: crc32Digest(piece(1)), written: 0, stored: false });
    expect(task.arrivingPieces()).toEqual([arriving]);
    expect(seen).toEqual([1]);
    expect(task.piece(1)).toBeUndefined();

    feed.push(piece(1).subarray(0, 1000));
    const head = task.readArriving(arriving!, Buffer.alloc(1000), PIECE);
    expect(Buffer.from(await head).equals(piece(1).subarray(0, 1000))).toBe(true);
    // The rest waits for bytes that are not there yet.
    const tail = task.readArriving(arriving!, Buffer.alloc(PIECE - 1000), PIECE + 1000);
    let tailDone = false;
    void tail.then(() => (tailDone = true));
    feed.push(piece(1).subarray(1000));
    await landed(() => arriving!.written === PIECE);
    // Every byte is on disk, but the piece is not checked yet: the last bytes stay back.
    await settle();
    expect(tailDone).toBe(false);
    feed.end();
    await writing;
    expect(Buffer.from(await tail).equals(piece(1).subarray(1000))).toBe(true);
    expect(arriving!.stored).toBe(true);
    expect(task.arrivingPiece(1)).toBeUndefined();
    expect(task.piece(1)?.digest).toBe(crc32Digest(piece(1)));
    unsubscribe();
  });

  it("fails its readers when the arrival fails (a bad digest included) and leaves nothing behind", async () => {
    const { task, piece } = await setup();
    const feed = handFed();
    const wrong = crc32Digest(piece(0));
    const writing = task.writePiece(2, feed.source, { digest: wrong, cutThrough: true });
    await settle();
    const arriving = task.arrivingPiece(2)!;
    feed.push(piece(2));
    await settle();
    // All bytes are there, but they do not match the digest: the end never leaves.
    const whole = task.readArriving(arriving, Buffer.alloc(PIECE), 2 * PIECE);
    feed.end();
    await expect(writing).rejects.toMatchObject({ code: "DATA_LOSS", reason: "piece-digest-mismatch" });
    await expect(whole).rejects.toMatchObject({ reason: "piece-digest-mismatch" });
    expect(arriving.failure?.reason).toBe("piece-digest-mismatch");
    expect(task.arrivingPiece(2)).toBeUndefined();

    const broken = handFed();
    const second = task.writePiece(2, broken.source, { digest: crc32Digest(piece(2)), cutThrough: true });
    await settle();
    const again = task.arrivingPiece(2)!;
    expect(again).not.toBe(arriving);
    const waiting = task.readArriving(again, Buffer.alloc(10), 2 * PIECE);
    broken.fail(new Error("the parent went away"));
    await expect(second).rejects.toThrow();
    await expect(waiting).rejects.toThrow();
    // Bytes outside the piece are refused, not read.
    await expect(task.readArriving(again, Buffer.alloc(10), 0)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    expect(task.piece(2)).toBeUndefined();
  });

  it("happens only when asked, for a stream whose CRC-32 is known up front", async () => {
    const { task, piece } = await setup();
    const seen: number[] = [];
    task.onArriving((arriving) => seen.push(arriving.number));
    const plain = handFed();
    const writing = task.writePiece(0, plain.source, { digest: crc32Digest(piece(0)) });
    const unknown = handFed();
    const noDigest = task.writePiece(1, unknown.source, { cutThrough: true });
    await settle();
    // Bytes at once have nothing to cut through.
    await task.writePiece(2, piece(2), { digest: crc32Digest(piece(2)), cutThrough: true });
    expect(task.arrivingPieces()).toEqual([]);
    for (const [feed, n] of [[plain, 0], [unknown, 1]] as const) {
      feed.push(piece(n));
      feed.end();
    }
    await Promise.all([writing, noDigest]);
    expect(seen).toEqual([]);
  });
});
