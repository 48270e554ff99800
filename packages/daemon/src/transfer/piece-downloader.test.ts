import { DfError } from "@df/interface";
import { daemonUpload } from "@df/rpc";
import { describe, expect, it, onTestFinished } from "vitest";
import { PeerClientPool } from "./peer-client-pool.js";
import { PeerPieceDownloader, type PeerPieceDownloaderOptions } from "./piece-downloader.js";
import { isBadContent } from "../conductor/piece-report.js";
import { PieceSpread } from "../upload/spread.js";
import {
  Content,
  bytes,
  readAll,
  recorder,
  sha256,
  startCorruptByteServer,
  startPeer,
  startStallingByteServer,
  taskIdOf,
  tempStorage,
  until,
} from "./test-support/peers.js";
import type { ParentRef, PieceDownloadOutcome } from "./types.js";

const PIECE = 64 * 1024;

function downloader(options: Partial<PeerPieceDownloaderOptions> = {}): PeerPieceDownloader {
  const pool = new PeerClientPool();
  onTestFinished(() => pool.close());
  return new PeerPieceDownloader({ pool, pieceTimeoutMs: 5000, stallTimeoutMs: 5000, ...options });
}

async function child(content: Content) {
  const storage = await tempStorage();
  const task = await content.store(storage, []);
  return { storage, task };
}

/** Runs a download that must settle within `ms`. */
async function settle<T>(promise: Promise<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe("PeerPieceDownloader", () => {
  it("fills a task from two parents that each hold half of it", async () => {
    const content = new Content(taskIdOf(21), bytes(20 * PIECE + 999, 21), PIECE);
    const evens = content.all().filter((n) => n % 2 === 0);
    const odds = content.all().filter((n) => n % 2 === 1);
    const a = await startPeer(await tempStorage().then(async (s) => (await content.store(s, evens), s)));
    const b = await startPeer(await tempStorage().then(async (s) => (await content.store(s, odds), s)));
    const { storage, task } = await child(content);
    const seen = recorder();
    const outcome = await settle(downloader().download({ task, hostId: "child", peerId: "child-peer", parents: [a.ref, b.ref], events: seen.events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
    // Whole pieces arrive in page-aligned buffers and go down with direct I/O; only the
    // last piece's 999 bytes are not a multiple of the block and take the page cache.
    expect(storage.directIO).toBe(true);
    expect(storage.writtenBytes()).toEqual({ direct: 20 * PIECE, cached: 999 });
    expect(seen.failed).toEqual([]);
    expect(seen.finished.map((piece) => piece.number).sort((x, y) => x - y)).toEqual(content.all());
    for (const piece of seen.finished) {
      expect(piece.parentId).toBe(piece.number % 2 === 0 ? a.ref.peerId : b.ref.peerId);
      expect(piece.digest).toBe(content.digest(piece.number));
    }
    // Kept-alive connections, reused across pieces: never more than the pieces in flight.
    expect(a.limiter.load().connectionCount).toBeLessThanOrEqual(8);
    // Each parent alone never sees more than the child's concurrency. (The two peaks may
    // fall at different moments, so their sum is no bound on pieces in flight; the
    // single-parent test below checks that bound exactly.)
    expect(a.limiter.peak).toBeLessThanOrEqual(8);
    expect(b.limiter.peak).toBeLessThanOrEqual(8);
  });

  it("takes pieces from a parent that announces one piece per message (one that predates batched SyncPieces)", async () => {
    const content = new Content(taskIdOf(29), bytes(9 * PIECE + 5, 29), PIECE);
    const old = await startPeer(await tempStorage().then(async (s) => (await content.store(s, [0, 1, 2, 3, 4]), s)), { unbatched: true });
    const current = await startPeer(await tempStorage().then(async (s) => (await content.store(s, [5, 6, 7, 8, 9]), s)));
    const { task } = await child(content);
    const seen = recorder();
    const outcome = await settle(downloader().download({ task, hostId: "child", peerId: "child-peer", parents: [old.ref, current.ref], events: seen.events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
    const from = (peer: typeof old) => seen.finished.filter((piece) => piece.parentId === peer.ref.peerId).map((piece) => piece.number).sort((a, b) => a - b);
    expect(from(old)).toEqual([0, 1, 2, 3, 4]);
    expect(from(current)).toEqual([5, 6, 7, 8, 9]);
  });

  it("drops a parent whose announcements do not fit the task, batched or not, and takes the pieces from a good one", async () => {
    const content = new Content(taskIdOf(31), bytes(6 * PIECE, 31), PIECE);
    const announced = (number: number, offset: number) => ({ number, offset, length: PIECE, digest: content.digest(number) });
    const lies: daemonUpload.SyncPiecesResponse[][] = [
      // A batch with one piece at the wrong offset.
      [daemonUpload.SyncPiecesResponse.create({ ip: "127.0.0.1", pieces: [announced(0, 0), announced(1, 7)] })],
      // An empty batch: read as the message's own fields, which describe no piece.
      [daemonUpload.SyncPiecesResponse.create({ ip: "127.0.0.1", pieces: [] })],
      // A batch naming a piece past the end of the task.
      [daemonUpload.SyncPiecesResponse.create({ ip: "127.0.0.1", pieces: [announced(99, 99 * PIECE)] })],
    ];
    for (const messages of lies) {
      const liar = await startPeer(await tempStorage().then(async (s) => (await content.store(s), s)), { announce: messages });
      const good = await startPeer(await tempStorage().then(async (s) => (await content.store(s), s)));
      const { task } = await child(content);
      const seen = recorder();
      const outcome = await settle(downloader().download({ task, hostId: "c", peerId: "cp", parents: [liar.ref, good.ref], events: seen.events }));
      expect(outcome).toEqual({ kind: "complete" });
      expect(seen.finished.every((piece) => piece.parentId === good.ref.peerId)).toBe(true);
      expect(sha256(await readAll(task))).toBe(sha256(content.data));
    }
  });

  it("fetches over gRPC DownloadPiece from a parent without a byte port, and honours the concurrency", async () => {
    const content = new Content(taskIdOf(22), bytes(12 * PIECE, 22), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const parent = await startPeer(storage, { bytes: "grpc" });
    const { task } = await child(content);
    const seen = recorder();
    const outcome = await settle(downloader({ concurrency: 3 }).download({ task, hostId: "c", peerId: "cp", parents: [parent.ref], events: seen.events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
    expect(parent.limiter.load().uploadCount).toBe(12);
    expect(parent.limiter.peak).toBeLessThanOrEqual(3);
  });

  it("fetches only the pieces asked for, and returns at once when they are already stored", async () => {
    const content = new Content(taskIdOf(23), bytes(10 * PIECE, 23), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const parent = await startPeer(storage);
    const { task } = await child(content);
    const seen = recorder();
    const pool = downloader();
    expect(await settle(pool.download({ task, hostId: "c", peerId: "cp", parents: [parent.ref], events: seen.events, pieces: [7, 2, 2] }))).toEqual({ kind: "complete" });
    expect(task.pieces().map((piece) => piece.number)).toEqual([2, 7]);
    expect(await pool.download({ task, hostId: "c", peerId: "cp", parents: [], events: seen.events, pieces: [2] })).toEqual({ kind: "complete" });
  });

  it("fetches at once from a parent the scheduler says holds the whole task, without its SyncPieces", async () => {
    const content = new Content(taskIdOf(41), bytes(10 * PIECE + 77, 41), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const parent = await startPeer(storage);
    const { task } = await child(content);
    const seen = recorder();
    const outcome = await settle(downloader().download({ task, hostId: "c", peerId: "cp", parents: [{ ...parent.ref, holdsAll: true }], events: seen.events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
    expect(parent.syncs()).toBe(0);
    expect(seen.failed).toEqual([]);
    for (const piece of seen.finished) expect(piece.digest).toBe(content.digest(piece.number));
  });

  it("asks a parent said to hold everything through SyncPieces once it lacks a piece, and blames it for nothing", async () => {
    const content = new Content(taskIdOf(42), bytes(12 * PIECE, 42), PIECE);
    const evens = content.all().filter((n) => n % 2 === 0);
    const odds = content.all().filter((n) => n % 2 === 1);
    // The scheduler's word is stale: one lost half the task, one lost all of it.
    const partial = await startPeer(await tempStorage().then(async (s) => (await content.store(s, evens), s)), { peerId: "partial" });
    const lost = await startPeer(await tempStorage(), { peerId: "lost" });
    const rest = await startPeer(await tempStorage().then(async (s) => (await content.store(s, odds), s)), { peerId: "rest" });
    const { task } = await child(content);
    const seen = recorder();
    const parents: ParentRef[] = [{ ...partial.ref, holdsAll: true }, { ...lost.ref, holdsAll: true }, rest.ref];
    const outcome = await settle(downloader().download({ task, hostId: "c", peerId: "cp", parents, events: seen.events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
    expect(seen.failed).toEqual([]);
    // `lost` is surely asked for a piece it lacks; `partial` only if it is asked for an
    // odd one (rarest first sends the odds, held by two, to `rest` rather).
    expect(partial.syncs()).toBeLessThanOrEqual(1);
    expect(lost.syncs()).toBe(1);
    for (const piece of seen.finished) expect(piece.parentId).toBe(piece.number % 2 === 0 ? "partial" : "rest");
  });

  it("checks the bytes of a parent said to hold everything against the digest it sends with them", async () => {
    const content = new Content(taskIdOf(43), bytes(8 * PIECE, 43), PIECE);
    const badStorage = await tempStorage();
    await content.store(badStorage);
    const liar = await startCorruptByteServer(badStorage);
    const bad = await startPeer(badStorage, { bytes: liar.port, peerId: "liar" });
    const good = await startPeer(await tempStorage().then(async (s) => (await content.store(s), s)), { peerId: "good" });
    const { task } = await child(content);
    const seen = recorder();
    // Only the liar is taken at its word, so it is asked first.
    const parents: ParentRef[] = [{ ...bad.ref, holdsAll: true }, good.ref];
    expect(await settle(downloader().download({ task, hostId: "c", peerId: "cp", parents, events: seen.events }))).toEqual({ kind: "complete" });
    expect(liar.served()).toBeGreaterThan(0);
    expect(seen.failed.length).toBeGreaterThan(0);
    for (const failure of seen.failed) expect(failure).toMatchObject({ parentId: "liar", code: "DATA_LOSS" });
    expect(seen.finished.every((piece) => piece.parentId === "good")).toBe(true);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("rejects a parent's corrupt bytes, reports it, and takes the pieces from a good parent", async () => {
    const content = new Content(taskIdOf(24), bytes(16 * PIECE, 24), PIECE);
    const badStorage = await tempStorage();
    await content.store(badStorage);
    const liar = await startCorruptByteServer(badStorage);
    const bad = await startPeer(badStorage, { bytes: liar.port, peerId: "bad-parent" });
    // The good parent has the even pieces now and gets the rest once the bad one failed,
    // so the bad parent is certainly asked for some.
    const goodStorage = await tempStorage();
    const goodTask = await content.store(goodStorage, content.all().filter((n) => n % 2 === 0));
    const good = await startPeer(goodStorage, { peerId: "good-parent" });
    const { task } = await child(content);
    const seen = recorder();
    const badContent: boolean[] = [];
    const events = {
      pieceFinished: seen.events.pieceFinished,
      pieceFailed: (number: number, parentId: string, error: DfError, temporary: boolean) => {
        seen.events.pieceFailed(number, parentId, error, temporary);
        badContent.push(isBadContent(error, temporary));
        void Promise.all(content.all().filter((n) => n % 2 === 1).map((n) => content.write(goodTask, n)));
      },
    };
    const outcome = await settle(downloader().download({ task, hostId: "c", peerId: "cp", parents: [bad.ref, good.ref], events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(liar.served()).toBeGreaterThan(0);
    expect(seen.failed.length).toBeGreaterThan(0);
    for (const failure of seen.failed) expect(failure).toMatchObject({ parentId: "bad-parent", code: "DATA_LOSS", temporary: false });
    // What the scheduler is told: wrong bytes, which can block the parent for the whole task.
    expect(badContent.length).toBeGreaterThan(0);
    expect(badContent.every(Boolean)).toBe(true);
    expect(seen.finished.every((piece) => piece.parentId === "good-parent")).toBe(true);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("keeps a parent whose arrival of a piece it was serving on failed there, and takes that piece from it once it holds it", async () => {
    // Larger than a read chunk, so that the child is mid-piece when the arrival fails.
    const big = 2 * 1024 * 1024;
    const content = new Content(taskIdOf(31), bytes(4 * big, 31), big);
    const relayStorage = await tempStorage();
    const relayTask = await content.store(relayStorage, []);
    const arrival = content.arrive(relayTask, 1);
    await until(() => relayTask.arrivingPiece(1) !== undefined);
    arrival.send(content.piece(1).subarray(0, 1024 * 1024));
    const relay = await startPeer(relayStorage, { peerId: "relay" });
    const other = await startPeer(await tempStorage().then(async (s) => (await content.store(s, [0, 2, 3]), s)), { peerId: "other" });
    const { task } = await child(content);
    const seen = recorder();
    const running = downloader().download({ task, hostId: "c", peerId: "cp", parents: [relay.ref, other.ref], events: seen.events });
    // The relay is the only holder of piece 1, announced as arriving: the child takes its first bytes.
    await until(() => relay.limiter.load().concurrentUploadCount > 0);
    arrival.fail();
    await expect(arrival.done).rejects.toThrow();
    await until(() => relay.limiter.load().concurrentUploadCount === 0);
    // Not the relay's fault: once it holds the piece, the child asks it again.
    await content.write(relayTask, 1);
    expect(await settle(running)).toEqual({ kind: "complete" });
    expect(seen.finished.find((piece) => piece.number === 1)?.parentId).toBe("relay");
    expect(seen.failed.filter((failure) => !failure.temporary)).toEqual([]);
    expect(relay.limiter.load().uploadFailedCount).toBe(1);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("drops a parent that keeps cutting off pieces it announced as arriving, and takes them from another", async () => {
    const big = 2 * 1024 * 1024;
    const content = new Content(taskIdOf(32), bytes(2 * big, 32), big);
    const relayStorage = await tempStorage();
    const relayTask = await content.store(relayStorage, []);
    const relay = await startPeer(relayStorage, { peerId: "relay" });
    const otherStorage = await tempStorage();
    const otherTask = await content.store(otherStorage, [0]);
    const other = await startPeer(otherStorage, { peerId: "other" });
    const { task } = await child(content);
    const seen = recorder();
    const running = downloader().download({ task, hostId: "c", peerId: "cp", parents: [relay.ref, other.ref], events: seen.events });
    // Nine arrivals of piece 1 on the relay, each cut off while the child reads it.
    for (let round = 1; round <= 9; round++) {
      const arrival = content.arrive(relayTask, 1);
      arrival.send(content.piece(1).subarray(0, 1024 * 1024));
      await until(() => relay.limiter.load().concurrentUploadCount > 0);
      arrival.fail();
      await expect(arrival.done).rejects.toThrow();
      await until(() => relay.limiter.load().concurrentUploadCount === 0 && relay.limiter.load().uploadFailedCount === round);
    }
    await until(() => seen.failed.some((failure) => failure.parentId === "relay" && !failure.temporary));
    await content.write(otherTask, 1);
    expect(await settle(running)).toEqual({ kind: "complete" });
    expect(seen.finished.find((piece) => piece.number === 1)?.parentId).toBe("other");
    expect(seen.failed.filter((failure) => !failure.temporary)).toEqual([{ number: 1, parentId: "relay", code: "UNAVAILABLE", temporary: false }]);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("takes the rest from another parent when one dies mid-download", async () => {
    const content = new Content(taskIdOf(25), bytes(32 * PIECE, 25), PIECE);
    const dyingStorage = await tempStorage();
    await content.store(dyingStorage);
    // Slow enough that the download is surely unfinished when it dies.
    const dying = await startPeer(dyingStorage, { limiter: { rateLimit: 8 * PIECE }, peerId: "dying" });
    const spareStorage = await tempStorage();
    const spareTask = await content.store(spareStorage, []);
    const spare = await startPeer(spareStorage, { peerId: "spare" });
    const { task } = await child(content);
    const seen = recorder();
    const running = downloader().download({ task, hostId: "c", peerId: "cp", parents: [dying.ref, spare.ref], events: seen.events });
    await until(() => seen.finished.length >= 4);
    await dying.stop();
    const finishedBeforeDeath = seen.finished.length;
    for (const n of content.all()) await content.write(spareTask, n);
    expect(await settle(running)).toEqual({ kind: "complete" });
    expect(finishedBeforeDeath).toBeLessThan(32);
    expect(seen.finished.map((piece) => piece.number).sort((x, y) => x - y)).toEqual(content.all());
    expect(seen.finished.filter((piece) => piece.parentId === "spare").length).toBeGreaterThan(0);
    expect(seen.failed.length).toBeGreaterThan(0);
    expect(seen.failed.every((failure) => failure.parentId === "dying")).toBe(true);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("returns parents-exhausted, not a hang, when only bad parents are given", async () => {
    const content = new Content(taskIdOf(26), bytes(8 * PIECE, 26), PIECE);
    const { task } = await child(content);

    // A parent nobody listens for: its SyncPieces fails at once.
    const gone = await startPeer(await tempStorage());
    await gone.stop();
    // A parent that does not hold the task.
    const stranger = await startPeer(await tempStorage(), { peerId: "stranger" });
    // A parent whose every piece is corrupt.
    const badStorage = await tempStorage();
    await content.store(badStorage);
    const liar = await startCorruptByteServer(badStorage);
    const bad = await startPeer(badStorage, { bytes: liar.port, peerId: "liar" });

    // A parent whose copy of the task is cut into different pieces: its announcements do not fit.
    const otherCut = await tempStorage();
    await new Content(content.taskId, content.data, PIECE / 2).store(otherCut);
    const misfit = await startPeer(otherCut, { peerId: "misfit" });

    const seen = recorder();
    const parents: ParentRef[] = [gone.ref, stranger.ref, bad.ref, misfit.ref];
    const outcome = await settle(downloader().download({ task, hostId: "c", peerId: "cp", parents, events: seen.events }), 10_000);
    expect(outcome).toMatchObject({ kind: "parents-exhausted", missing: 8 });
    expect(new Set((outcome as Extract<PieceDownloadOutcome, { kind: "parents-exhausted" }>).failedParents)).toEqual(
      new Set([gone.ref.peerId, "stranger", "liar", "misfit"]),
    );
    expect(seen.failed.length).toBeGreaterThan(0);
    expect(task.pieces()).toEqual([]);
    expect(await downloader().download({ task, hostId: "c", peerId: "cp", parents: [], events: seen.events })).toMatchObject({ kind: "parents-exhausted", missing: 8 });
  });

  it("returns parents-exhausted after the stall timeout when the parents hold no missing piece and stay silent", async () => {
    const content = new Content(taskIdOf(27), bytes(6 * PIECE, 27), PIECE);
    const storage = await tempStorage();
    await content.store(storage, [0, 1, 2]);
    // The parent holds half and keeps its stream open (it is still downloading).
    const parent = await startPeer(storage);
    const { task } = await child(content);
    const seen = recorder();
    const started = Date.now();
    const outcome = await settle(downloader({ stallTimeoutMs: 400 }).download({ task, hostId: "c", peerId: "cp", parents: [parent.ref], events: seen.events }));
    expect(outcome).toMatchObject({ kind: "parents-exhausted", missing: 3, failedParents: [parent.ref.peerId] });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(task.pieces().map((piece) => piece.number)).toEqual([0, 1, 2]);
  });

  it("returns parents-exhausted at once when a parent's own download fails and ends its stream", async () => {
    const content = new Content(taskIdOf(31), bytes(6 * PIECE, 31), PIECE);
    const storage = await tempStorage();
    await content.store(storage, [0, 1, 2]);
    const parent = await startPeer(storage, { peerId: "failing" });
    const { task } = await child(content);
    const seen = recorder();
    const running = downloader({ stallTimeoutMs: 20_000 }).download({ task, hostId: "c", peerId: "cp", parents: [parent.ref], events: seen.events });
    await until(() => seen.finished.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    parent.failures.fail(content.taskId, new DfError("UNAVAILABLE", "its origin went away"));
    expect(await settle(running, 3000)).toMatchObject({ kind: "parents-exhausted", missing: 3, failedParents: ["failing"] });
  });

  it("keeps a slow but flowing parent, although each piece takes longer than the piece timeout", async () => {
    const big = 8 * PIECE;
    const content = new Content(taskIdOf(28), bytes(4 * big, 28), big);
    const storage = await tempStorage();
    await content.store(storage);
    // One piece a second in 64 KiB chunks, shared by the two requests in flight: each
    // piece takes about two seconds while its bytes come every quarter second or so.
    const slow = await startPeer(storage, { limiter: { rateLimit: big }, peerId: "slow" });
    const { task } = await child(content);
    const seen = recorder();
    const outcome = await settle(downloader({ pieceTimeoutMs: 1000 }).download({ task, hostId: "c", peerId: "cp", parents: [slow.ref], events: seen.events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(seen.failed).toEqual([]);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("cuts a request that goes silent, rests its parent without dropping it, and takes the piece from another", async () => {
    const content = new Content(taskIdOf(32), bytes(8 * PIECE, 32), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const stuck = await startStallingByteServer(storage);
    const quiet = await startPeer(storage, { bytes: stuck.port, peerId: "quiet" });
    const good = await startPeer(await tempStorage().then(async (s) => (await content.store(s), s)), { peerId: "good" });
    const { task } = await child(content);
    const seen = recorder();
    const started = Date.now();
    // Taken at its word, the quiet parent is asked at once (before the good one's stream lists anything).
    const parents: ParentRef[] = [{ ...quiet.ref, holdsAll: true }, good.ref];
    const outcome = await settle(downloader({ pieceTimeoutMs: 300 }).download({ task, hostId: "c", peerId: "cp", parents, events: seen.events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(stuck.served()).toBeGreaterThan(0);
    expect(seen.failed.length).toBeGreaterThan(0);
    for (const failure of seen.failed) expect(failure).toMatchObject({ parentId: "quiet", code: "DEADLINE_EXCEEDED", temporary: true });
    expect(seen.finished.every((piece) => piece.parentId === "good")).toBe(true);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("returns parents-exhausted (silent) long before the stall timeout when the only parent holding the missing pieces goes silent", async () => {
    const content = new Content(taskIdOf(34), bytes(8 * PIECE, 34), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const stuck = await startStallingByteServer(storage);
    const quiet = await startPeer(storage, { bytes: stuck.port, peerId: "quiet" });
    const { task } = await child(content);
    const seen = recorder();
    const started = Date.now();
    const outcome = await settle(
      downloader({ pieceTimeoutMs: 300, stallTimeoutMs: 30_000 }).download({ task, hostId: "c", peerId: "cp", parents: [{ ...quiet.ref, holdsAll: true }], events: seen.events }),
    );
    expect(outcome).toMatchObject({ kind: "parents-exhausted", missing: 8, stalled: true, silent: true, failedParents: ["quiet"] });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(seen.failed.length).toBeGreaterThan(0);
  });

  it("hands a piece stuck on a slow parent to an idle faster one at the end", async () => {
    const content = new Content(taskIdOf(33), bytes(8 * PIECE, 33), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    // A trickle: a piece would take eight seconds from it.
    const slow = await startPeer(storage, { limiter: { rateLimit: PIECE / 8 }, peerId: "slow" });
    const fast = await startPeer(await tempStorage().then(async (s) => (await content.store(s), s)), { peerId: "fast" });
    const { task } = await child(content);
    const seen = recorder();
    const started = Date.now();
    const outcome = await settle(downloader({ pieceTimeoutMs: 20_000 }).download({ task, hostId: "c", peerId: "cp", parents: [slow.ref, fast.ref], events: seen.events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(seen.failed).toEqual([]);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
    await until(() => slow.limiter.active === 0, 3000);
  });

  it("asks for more parents while pieces are missing, keeping the ones it has, and takes pieces from the new ones", async () => {
    const content = new Content(taskIdOf(34), bytes(8 * PIECE, 34), PIECE);
    const evens = content.all().filter((n) => n % 2 === 0);
    // The first parent holds half and keeps its stream open (it is still downloading).
    const half = await startPeer(await tempStorage().then(async (s) => (await content.store(s, evens), s)), { peerId: "half" });
    const whole = await startPeer(await tempStorage().then(async (s) => (await content.store(s), s)), { peerId: "whole" });
    const { task } = await child(content);
    const seen = recorder();
    const asked: string[][] = [];
    const moreParents = async (current: readonly string[]): Promise<ParentRef[]> => {
      asked.push([...current]);
      return asked.length === 1 ? [] : [whole.ref];
    };
    const outcome = await settle(
      downloader({ stallTimeoutMs: 10_000 }).download({ task, hostId: "c", peerId: "cp", parents: [half.ref], events: seen.events, moreParents }),
    );
    expect(outcome).toEqual({ kind: "complete" });
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(asked[0]).toEqual(["half"]);
    expect(seen.finished.filter((piece) => piece.number % 2 === 1).every((piece) => piece.parentId === "whole")).toBe(true);
    expect(seen.failed).toEqual([]);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("asks for more parents soon after it starts, then less often while the asks bring nobody new", async () => {
    const content = new Content(taskIdOf(36), bytes(8 * PIECE, 36), PIECE);
    const evens = content.all().filter((n) => n % 2 === 0);
    const half = await startPeer(await tempStorage().then(async (s) => (await content.store(s, evens), s)), { peerId: "half" });
    const whole = await startPeer(await tempStorage().then(async (s) => (await content.store(s), s)), { peerId: "whole" });
    const { task } = await child(content);
    const started = performance.now();
    const at: number[] = [];
    const moreParents = async (): Promise<ParentRef[]> => {
      at.push(performance.now() - started);
      return at.length < 3 ? [] : [whole.ref];
    };
    const outcome = await settle(downloader({ stallTimeoutMs: 10_000 }).download({ task, hostId: "c", peerId: "cp", parents: [half.ref], events: recorder().events, moreParents }));
    expect(outcome).toEqual({ kind: "complete" });
    // Peers that register together learn of each other only by asking again: the first ask
    // comes well before the 1.5 s of silence that would force one.
    expect(at[0]).toBeLessThan(1200);
    // An ask that brought nobody doubles the wait for the next.
    expect(at[1]! - at[0]!).toBeGreaterThan(800);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("takes a piece a seed is spreading through another child from that child, and other pieces from the seed", async () => {
    const content = new Content(taskIdOf(35), bytes(8 * PIECE, 35), PIECE);
    const first = [0, 1, 2, 3];
    const spread = new PieceSpread(60_000);
    // The seed is sending its first copies of pieces 0–3 to another child just now.
    for (const n of first) spread.admit(content.taskId, n, "other-child-host");
    const seed = await startPeer(await tempStorage().then(async (s) => (await content.store(s), s)), { peerId: "seed", spread });
    const sibling = await startPeer(await tempStorage().then(async (s) => (await content.store(s, first), s)), { peerId: "sibling" });
    const { task } = await child(content);
    const seen = recorder();
    // Only the seed at first: without the spreading it would serve every piece itself.
    const moreParents = async (): Promise<ParentRef[]> => [sibling.ref];
    const outcome = await settle(downloader().download({ task, hostId: "c", peerId: "cp", parents: [{ ...seed.ref, holdsAll: true }], events: seen.events, moreParents }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(seen.failed).toEqual([]);
    for (const piece of seen.finished) expect(piece.parentId).toBe(first.includes(piece.number) ? "sibling" : "seed");
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });

  it("throws CANCELLED promptly on abort and leaves no request behind", async () => {
    const content = new Content(taskIdOf(29), bytes(16 * PIECE, 29), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const parent = await startPeer(storage, { limiter: { rateLimit: 4 * PIECE } });
    const { task } = await child(content);
    const seen = recorder();
    const abort = new AbortController();
    const running = downloader().download({ task, hostId: "c", peerId: "cp", parents: [parent.ref], events: seen.events, signal: abort.signal });
    await until(() => seen.finished.length >= 1);
    const started = Date.now();
    abort.abort();
    await expect(settle(running)).rejects.toMatchObject({ code: "CANCELLED" });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(task.inUse).toBe(0);
    await until(() => parent.limiter.active === 0, 3000);
    expect(seen.failed).toEqual([]);

    const early = new AbortController();
    early.abort();
    await expect(downloader().download({ task, hostId: "c", peerId: "cp", parents: [parent.ref], events: seen.events, signal: early.signal })).rejects.toMatchObject({
      code: "CANCELLED",
    });
  });

  it("waits out a busy parent instead of blaming it", async () => {
    const content = new Content(taskIdOf(30), bytes(6 * PIECE, 30), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    // One upload at a time, and no queue: most requests are refused as busy at first.
    const parent = await startPeer(storage, { limiter: { concurrency: 1, queueTimeoutMs: 0, rateLimit: 16 * PIECE } });
    const { task } = await child(content);
    const seen = recorder();
    const outcome = await settle(downloader().download({ task, hostId: "c", peerId: "cp", parents: [parent.ref], events: seen.events }));
    expect(outcome).toEqual({ kind: "complete" });
    expect(seen.failed).toEqual([]);
    expect(sha256(await readAll(task))).toBe(sha256(content.data));
  });
});
