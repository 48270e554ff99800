import { DfError } from "@df/interface";
import { common, createRpcClient, daemonUpload, serverStream, unary } from "@df/rpc";
import { describe, expect, it, onTestFinished } from "vitest";
import { Content, bytes, startPeer, taskIdOf, tempStorage, until, type TestPeer } from "../transfer/test-support/peers.js";

const PIECE = 64 * 1024;

function client(peer: TestPeer) {
  const rpc = createRpcClient(daemonUpload.DfdaemonUploadClient, `127.0.0.1:${peer.ref.port}`, { defaultDeadlineMs: 10_000 });
  onTestFinished(() => rpc.close());
  return rpc;
}

function sync(peer: TestPeer, taskId: string, interested: number[] = [], signal?: AbortSignal, batched = false, arriving = false) {
  return serverStream(
    client(peer),
    "syncPieces",
    daemonUpload.SyncPiecesRequest.create({ hostId: "child-host", peerId: "child-peer", taskId, interestedPieceNumbers: interested, batched, arriving }),
    { deadlineMs: 10_000, ...(signal ? { signal } : {}) },
  );
}

describe("SyncPieces", () => {
  it("streams the pieces already held, then each new one as it lands, and ends", async () => {
    const content = new Content(taskIdOf(1), bytes(4 * PIECE + 100, 1), PIECE);
    const storage = await tempStorage();
    const task = await content.store(storage, [0, 2]);
    const peer = await startPeer(storage, { peerId: "parent-peer" });
    const stream = sync(peer, content.taskId);
    const seen: daemonUpload.SyncPiecesResponse[] = [];
    for (let i = 0; i < 2; i++) seen.push((await stream.next()).value as daemonUpload.SyncPiecesResponse);
    expect(seen.map((piece) => piece.number)).toEqual([0, 2]);
    // The parent is still downloading: what lands now is announced on the open stream.
    for (const n of [4, 1, 3]) {
      await content.write(task, n);
      const next = await stream.next();
      expect(next.done).toBe(false);
      seen.push(next.value as daemonUpload.SyncPiecesResponse);
    }
    expect((await stream.next()).done).toBe(true);
    expect(seen.map((piece) => piece.number)).toEqual([0, 2, 4, 1, 3]);
    for (const piece of seen) {
      expect(piece).toMatchObject({
        offset: piece.number * PIECE,
        length: content.piece(piece.number).length,
        digest: content.digest(piece.number),
        ip: "127.0.0.1",
        tcpPort: peer.ref.downloadPort,
        parentId: "parent-peer",
      });
    }
  });

  it("sends only the interested pieces and ends once they were all sent", async () => {
    const content = new Content(taskIdOf(2), bytes(6 * PIECE, 2), PIECE);
    const storage = await tempStorage();
    const task = await content.store(storage, [0, 1, 2]);
    const peer = await startPeer(storage);
    const stream = sync(peer, content.taskId, [1, 4]);
    expect((await stream.next()).value?.number).toBe(1);
    await content.write(task, 3);
    await content.write(task, 4);
    expect((await stream.next()).value?.number).toBe(4);
    expect((await stream.next()).done).toBe(true);
  });

  it("batched: sends the held pieces in one message at once, gathers new ones over the window, and ends", async () => {
    const content = new Content(taskIdOf(4), bytes(8 * PIECE, 4), PIECE);
    const storage = await tempStorage();
    const task = await content.store(storage, [0, 2, 3]);
    // A window far longer than the writes below take, so what lands together is sent together.
    const peer = await startPeer(storage, { peerId: "parent-peer", announceWindowMs: 1000 });
    const stream = sync(peer, content.taskId, [0, 1, 3, 4, 5, 6], undefined, true);
    const opened = Date.now();
    const held = (await stream.next()).value as daemonUpload.SyncPiecesResponse;
    // The opening message does not wait out the window.
    expect(Date.now() - opened).toBeLessThan(1000);
    expect(held).toMatchObject({ ip: "127.0.0.1", tcpPort: peer.ref.downloadPort, parentId: "parent-peer", number: 0, digest: "" });
    expect(held.pieces).toEqual([0, 3].map((n) => ({ number: n, offset: n * PIECE, length: PIECE, digest: content.digest(n), arriving: false })));
    // Three land close together (one not asked for): one message.
    const gathered = stream.next();
    for (const n of [4, 7, 1]) await content.write(task, n);
    expect(((await gathered).value as daemonUpload.SyncPiecesResponse).pieces.map((piece) => piece.number)).toEqual([4, 1]);
    // One landing after that message went out starts a message of its own.
    const later = stream.next();
    await content.write(task, 5);
    expect(((await later).value as daemonUpload.SyncPiecesResponse).pieces.map((piece) => piece.number)).toEqual([5]);
    const last = stream.next();
    await content.write(task, 6);
    expect(((await last).value as daemonUpload.SyncPiecesResponse).pieces.map((piece) => piece.number)).toEqual([6]);
    expect((await stream.next()).done).toBe(true);
  });

  it("with arrivals: announces pieces arriving here (those arriving now first), not again once they are stored, and ends on the held ones", async () => {
    const content = new Content(taskIdOf(5), bytes(5 * PIECE, 5), PIECE);
    const storage = await tempStorage();
    const task = await content.store(storage, [0]);
    const early = content.arrive(task, 1);
    await until(() => task.arrivingPiece(1) !== undefined);
    const peer = await startPeer(storage);
    const stream = sync(peer, content.taskId, [], undefined, true, true);
    const announced: Array<[number, boolean]> = [];
    const next = async (): Promise<boolean> => {
      const result = await stream.next();
      if (result.done) return false;
      for (const piece of (result.value as daemonUpload.SyncPiecesResponse).pieces) {
        expect(piece).toMatchObject({ offset: piece.number * PIECE, length: PIECE, digest: content.digest(piece.number) });
        announced.push([piece.number, piece.arriving]);
      }
      return true;
    };
    await next();
    while (announced.length < 2) await next();
    expect(announced).toEqual([
      [1, true],
      [0, false],
    ]);
    const late = content.arrive(task, 3);
    await next();
    expect(announced.at(-1)).toEqual([3, true]);
    early.send(content.piece(1));
    late.send(content.piece(3));
    early.end();
    late.end();
    await Promise.all([early.done, late.done]);
    // An arrival that fails here is announced anew when the piece comes another way.
    const failing = content.arrive(task, 4);
    await next();
    expect(announced.at(-1)).toEqual([4, true]);
    failing.fail();
    await expect(failing.done).rejects.toThrow();
    await content.write(task, 4);
    await content.write(task, 2);
    while (await next());
    // Pieces 1 and 3 went from arriving to held without another message; the stream
    // still ended only once all five were held.
    expect(announced.slice(4)).toEqual([
      [4, false],
      [2, false],
    ]);
    // A child that does not ask for arrivals hears of held pieces only.
    const plain = sync(peer, content.taskId, [], undefined, true);
    expect(((await plain.next()).value as daemonUpload.SyncPiecesResponse).pieces.map((piece) => [piece.number, piece.arriving])).toEqual(
      [0, 1, 2, 3, 4].map((n) => [n, false]),
    );
  });

  it("with upload.cutThrough off, answers a child that asks for arrivals with held pieces only", async () => {
    const content = new Content(taskIdOf(6), bytes(2 * PIECE, 6), PIECE);
    const storage = await tempStorage();
    const task = await content.store(storage, [0]);
    const arrival = content.arrive(task, 1);
    await until(() => task.arrivingPiece(1) !== undefined);
    const peer = await startPeer(storage, { cutThrough: false });
    const stream = sync(peer, content.taskId, [], undefined, true, true);
    const first = (await stream.next()).value as daemonUpload.SyncPiecesResponse;
    expect(first.pieces.map((piece) => [piece.number, piece.arriving])).toEqual([[0, false]]);
    arrival.send(content.piece(1));
    arrival.end();
    await arrival.done;
    const second = (await stream.next()).value as daemonUpload.SyncPiecesResponse;
    expect(second.pieces.map((piece) => [piece.number, piece.arriving])).toEqual([[1, false]]);
    expect((await stream.next()).done).toBe(true);
  });

  it("leaves tcpPort unset when the host serves bytes over gRPC only", async () => {
    const content = new Content(taskIdOf(3), bytes(PIECE, 3), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const peer = await startPeer(storage, { bytes: "grpc" });
    const all = [];
    for await (const piece of sync(peer, content.taskId)) all.push(piece);
    expect(all).toHaveLength(1);
    expect(all[0]?.tcpPort).toBeUndefined();
  });

  it("answers NOT_FOUND for a task it does not hold, OUT_OF_RANGE for a piece past the end", async () => {
    const content = new Content(taskIdOf(4), bytes(2 * PIECE, 4), PIECE);
    const storage = await tempStorage();
    await content.store(storage, [0]);
    const peer = await startPeer(storage);
    await expect(sync(peer, taskIdOf(99)).next()).rejects.toMatchObject({ code: "NOT_FOUND", reason: "task-not-found" });
    await expect(sync(peer, content.taskId, [0, 2]).next()).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
  });

  it("stops cleanly when the child cancels, and fails open streams when the task fails here", async () => {
    const content = new Content(taskIdOf(5), bytes(3 * PIECE, 5), PIECE);
    const storage = await tempStorage();
    await content.store(storage, [0]);
    const peer = await startPeer(storage);
    const abort = new AbortController();
    const cancelled = sync(peer, content.taskId, [], abort.signal);
    expect((await cancelled.next()).value?.number).toBe(0);
    const pending = cancelled.next();
    abort.abort();
    await expect(pending).rejects.toMatchObject({ code: "CANCELLED" });

    const failing = sync(peer, content.taskId);
    expect((await failing.next()).value?.number).toBe(0);
    const next = failing.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    peer.failures.fail(content.taskId, new DfError("UNAVAILABLE", "the origin went away"));
    await expect(next).rejects.toMatchObject({ code: "UNAVAILABLE", reason: "parent-download-failed" });
  });
});

describe("DownloadPiece, StatTask, SyncHost", () => {
  it("DownloadPiece returns the exact bytes and digest", async () => {
    const content = new Content(taskIdOf(6), bytes(3 * PIECE + 7, 6), PIECE);
    const storage = await tempStorage();
    await content.store(storage, [0, 3]);
    const peer = await startPeer(storage, { peerId: "parent-6" });
    const rpc = client(peer);
    for (const n of [0, 3]) {
      const { piece } = await unary(rpc, "downloadPiece", daemonUpload.DownloadPieceRequest.create({ hostId: "h", taskId: content.taskId, pieceNumber: n }));
      expect(Buffer.from(piece?.content ?? new Uint8Array()).equals(content.piece(n))).toBe(true);
      expect(piece).toMatchObject({ number: n, offset: n * PIECE, length: content.piece(n).length, digest: content.digest(n), parentId: "parent-6" });
    }
    const ask = (taskId: string, pieceNumber: number) =>
      unary(rpc, "downloadPiece", daemonUpload.DownloadPieceRequest.create({ hostId: "h", taskId, pieceNumber }));
    await expect(ask(taskIdOf(98), 0)).rejects.toMatchObject({ code: "NOT_FOUND", reason: "task-not-found" });
    await expect(ask(content.taskId, 1)).rejects.toMatchObject({ code: "NOT_FOUND", reason: "piece-not-found" });
    await expect(ask(content.taskId, 4)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    expect(peer.limiter.load()).toMatchObject({ uploadCount: 2, concurrentUploadCount: 0 });
  });

  it("DownloadPiece of a piece still arriving answers once it is stored, holding one upload slot meanwhile", async () => {
    const content = new Content(taskIdOf(7), bytes(2 * PIECE, 7), PIECE);
    const storage = await tempStorage();
    const task = await content.store(storage, [0]);
    const arrival = content.arrive(task, 1);
    await until(() => task.arrivingPiece(1) !== undefined);
    const peer = await startPeer(storage);
    const asked = unary(client(peer), "downloadPiece", daemonUpload.DownloadPieceRequest.create({ hostId: "h", taskId: content.taskId, pieceNumber: 1 }));
    await until(() => peer.limiter.load().concurrentUploadCount === 1);
    arrival.send(content.piece(1));
    arrival.end();
    const { piece } = await asked;
    expect(Buffer.from(piece?.content ?? new Uint8Array()).equals(content.piece(1))).toBe(true);
    expect(piece?.digest).toBe(content.digest(1));
    expect(peer.limiter.load()).toMatchObject({ uploadCount: 1, concurrentUploadCount: 0 });
  });

  it("StatTask describes the task and its finished pieces", async () => {
    const content = new Content(taskIdOf(7), bytes(5 * PIECE, 7), PIECE);
    const storage = await tempStorage();
    await content.store(storage, [1, 3]);
    const peer = await startPeer(storage);
    const { task } = await unary(client(peer), "statTask", daemonUpload.StatTaskRequest.create({ taskId: content.taskId }));
    expect(task).toMatchObject({ id: content.taskId, contentLength: 5 * PIECE, pieceLength: PIECE, pieceCount: 5, state: common.TaskState.RUNNING });
    expect(task?.pieces.map((piece) => [piece.number, piece.digest])).toEqual([
      [1, content.digest(1)],
      [3, content.digest(3)],
    ]);
    await expect(unary(client(peer), "statTask", daemonUpload.StatTaskRequest.create({ taskId: taskIdOf(97) }))).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("SyncHost streams the host with its live upload load until cancelled", async () => {
    const storage = await tempStorage();
    const peer = await startPeer(storage, { limiter: { concurrency: 7, rateLimit: 1_000_000 } });
    const abort = new AbortController();
    const stream = serverStream(client(peer), "syncHost", daemonUpload.SyncHostRequest.create({ hostId: "h", peerId: "p", intervalMs: 100 }), { signal: abort.signal });
    const started = Date.now();
    const first = (await stream.next()).value?.host;
    const second = (await stream.next()).value?.host;
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(first).toMatchObject({ id: peer.ref.hostId, ip: "127.0.0.1", concurrentUploadLimit: 7, concurrentUploadCount: 0 });
    expect(first?.network?.maxTxBandwidth).toBe(8_000_000);
    expect(second?.id).toBe(peer.ref.hostId);
    abort.abort();
    await expect(stream.next()).rejects.toMatchObject({ code: "CANCELLED" });
  });
});
