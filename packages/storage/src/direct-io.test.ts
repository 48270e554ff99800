import { constants } from "node:fs";
import { open, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { crc32Digest } from "@df/piece";
import type { Logger } from "@df/interface";
import { allocateAligned, allocateAlignedSet, DIRECT_IO_ALIGNMENT, directWritable, isAligned, probeDirectIO, trustAsAligned } from "./direct-io.js";
import { bytes, chunked, collect, diskTempDir, openStorage, taskIdOf } from "./test-support/fixtures.js";

const KiB = 1024;

/** `data` copied into aligned chunks of `size`, as the daemon's piece downloader hands them over. */
async function* alignedChunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const buffer = allocateAligned(size);
  for (let offset = 0; offset < data.byteLength; offset += size) {
    const chunk = buffer.subarray(0, Math.min(size, data.byteLength - offset));
    chunk.set(data.subarray(offset, offset + chunk.byteLength));
    await Promise.resolve();
    yield chunk;
  }
}

/**
 * A buffer at a page-multiple offset into plain memory whose address the kernel refuses
 * for O_DIRECT (Node's allocations are 16-byte aligned, rarely 512); tried on a scratch file.
 */
async function refusedChunk(size: number, scratch: string): Promise<Buffer> {
  const handle = await open(scratch, constants.O_RDWR | constants.O_CREAT | (constants.O_DIRECT as number));
  try {
    for (let attempt = 0; attempt < 32; attempt++) {
      const chunk = Buffer.allocUnsafeSlow(size + DIRECT_IO_ALIGNMENT + attempt * 16).subarray(DIRECT_IO_ALIGNMENT, DIRECT_IO_ALIGNMENT + size);
      const refused = await handle.write(chunk, 0, size, 0).then(() => false, (e: NodeJS.ErrnoException) => e.code === "EINVAL");
      if (refused) return chunk;
    }
  } finally {
    await handle.close();
  }
  throw new Error("no plain allocation was refused for O_DIRECT in 32 tries");
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger & { warnings: string[] } = {
    warnings,
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (message) => void warnings.push(message),
    error: () => {},
    fatal: () => {},
    child: () => logger,
  };
  return logger;
}

describe("aligned buffers", () => {
  it("are taken by the kernel for O_DIRECT writes", async () => {
    const file = path.join(await diskTempDir(), "direct");
    const handle = await open(file, constants.O_RDWR | constants.O_CREAT | (constants.O_DIRECT as number));
    try {
      for (const buffer of [allocateAligned(64 * KiB).fill(1), ...allocateAlignedSet(12 * KiB, 3)]) {
        expect(isAligned(buffer)).toBe(true);
        await handle.write(buffer, 0, buffer.byteLength, 0);
      }
    } finally {
      await handle.close();
    }
    expect(await probeDirectIO(path.dirname(file))).toBeUndefined();
  });

  it("come as a set that does not overlap", () => {
    const set = allocateAlignedSet(5000, 4);
    set.forEach((buffer, i) => buffer.fill(i + 1));
    set.forEach((buffer, i) => {
      expect(buffer.byteLength).toBe(5000);
      expect(buffer.every((byte) => byte === i + 1)).toBe(true);
    });
  });

  it("pass the alignment check only whole: aligned memory, offset and length", () => {
    const buffer = allocateAligned(64 * KiB);
    expect(directWritable(buffer, 0)).toBe(true);
    expect(directWritable(buffer.subarray(0, 4 * KiB), 1024 * KiB)).toBe(true);
    expect(directWritable(buffer.subarray(4 * KiB, 12 * KiB), 0)).toBe(true);
    expect(directWritable(buffer, 512)).toBe(false);
    expect(directWritable(buffer.subarray(0, 4 * KiB + 1), 0)).toBe(false);
    expect(directWritable(buffer.subarray(16, 4 * KiB + 16), 0)).toBe(false);
    expect(directWritable(buffer.subarray(0, 0), 0)).toBe(false);
    expect(directWritable(Buffer.alloc(64 * KiB), 0)).toBe(false);
  });

  it("never overlap: buffers carved from one slab stay apart", () => {
    const buffers = Array.from({ length: 12 }, (_, i) => allocateAligned(1000 * KiB + i).fill(i));
    buffers.forEach((buffer, i) => {
      expect(buffer.byteOffset % DIRECT_IO_ALIGNMENT).toBe(0);
      expect(buffer.every((byte) => byte === i)).toBe(true);
    });
  });
});

describe("storage with direct I/O", () => {
  it("writes aligned pieces with O_DIRECT and the unaligned tail through the page cache, bytes intact", async () => {
    const storage = await openStorage({ dir: await diskTempDir() });
    expect(storage.directIO).toBe(true);
    const pieceLength = 256 * KiB;
    const contentLength = 3 * pieceLength + 5000;
    const content = bytes(contentLength, 11);
    const task = await storage.createTask({ taskId: taskIdOf(1), contentLength, pieceLength });
    for (const n of [2, 0, 3, 1]) {
      const piece = content.subarray(n * pieceLength, Math.min((n + 1) * pieceLength, contentLength));
      await task.writePiece(n, alignedChunks(piece, 64 * KiB), { digest: crc32Digest(piece) });
    }
    // The last piece (5000 bytes) comes as one chunk that is not a whole number of blocks.
    expect(storage.writtenBytes()).toEqual({ direct: 3 * pieceLength, cached: 5000 });
    expect((await collect(task.read())).equals(content)).toBe(true);
    await task.markComplete();
    expect((await readFile(task.paths.content)).equals(content)).toBe(true);
  });

  it("never leaves stale page cache behind: pieces read (and read ahead) while their neighbours are written directly read back right", async () => {
    const storage = await openStorage({ dir: await diskTempDir() });
    const pieceLength = 16 * KiB;
    const pieces = 96;
    const content = bytes(pieces * pieceLength, 15);
    const task = await storage.createTask({ taskId: taskIdOf(5), contentLength: content.byteLength, pieceLength });
    const piece = (n: number) => content.subarray(n * pieceLength, (n + 1) * pieceLength);
    // Readers go over every finished piece again and again, so the kernel reads ahead
    // into pieces still unwritten (zeros on disk) while the writer fills them directly.
    let writing = true;
    const readers = Array.from({ length: 3 }, async () => {
      for (let round = 0; writing && round < 10_000; round++) {
        const done = task.pieces().slice(-4).map((p) => p.number);
        for (const n of done) expect((await task.readPiece(n)).equals(piece(n))).toBe(true);
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    for (let n = 0; n < pieces; n++) await task.writePiece(n, alignedChunks(piece(n), 8 * KiB));
    writing = false;
    await Promise.all(readers);
    expect(storage.writtenBytes().direct).toBe(content.byteLength);
    expect((await collect(task.read())).equals(content)).toBe(true);
    expect((await readFile(task.paths.content)).equals(content)).toBe(true);
  });

  it("writes plain buffers through the page cache", async () => {
    const storage = await openStorage({ dir: await diskTempDir() });
    const content = bytes(64 * KiB, 12);
    const task = await storage.createTask({ taskId: taskIdOf(2), contentLength: content.byteLength, pieceLength: 16 * KiB });
    for (let n = 0; n < 4; n++) await task.writePiece(n, chunked(content.subarray(n * 16 * KiB, (n + 1) * 16 * KiB), 4 * KiB));
    expect(storage.writtenBytes()).toEqual({ direct: 0, cached: content.byteLength });
    expect((await collect(task.read())).equals(content)).toBe(true);
  });

  it("stays off when not asked for", async () => {
    const storage = await openStorage({ dir: await diskTempDir(), directIO: false });
    expect(storage.directIO).toBe(false);
    const content = bytes(64 * KiB, 13);
    const task = await storage.createTask({ taskId: taskIdOf(3), contentLength: content.byteLength, pieceLength: 64 * KiB });
    await task.writePiece(0, alignedChunks(content, 16 * KiB));
    expect(storage.writtenBytes()).toEqual({ direct: 0, cached: content.byteLength });
    expect((await collect(task.read())).equals(content)).toBe(true);
  });

  it("turns itself off, once and logged, when the kernel refuses a direct write, and loses no byte", async () => {
    const logger = recordingLogger();
    const storage = await openStorage({ dir: await diskTempDir(), logger });
    const content = bytes(128 * KiB, 14);
    const task = await storage.createTask({ taskId: taskIdOf(4), contentLength: content.byteLength, pieceLength: 64 * KiB });
    // Plain memory passed off as aligned: the kernel answers EINVAL, as a file system without direct I/O would.
    const chunk = await refusedChunk(64 * KiB, path.join(storage.dir, "probe"));
    trustAsAligned(chunk.buffer);
    chunk.set(content.subarray(0, 64 * KiB));
    await task.writePiece(0, chunk);
    expect(storage.directIO).toBe(false);
    await task.writePiece(1, alignedChunks(content.subarray(64 * KiB), 32 * KiB));
    expect(storage.writtenBytes()).toEqual({ direct: 0, cached: content.byteLength });
    expect(logger.warnings.filter((w) => w.startsWith("direct I/O is off"))).toHaveLength(1);
    expect((await collect(task.read())).equals(content)).toBe(true);
  });
});
