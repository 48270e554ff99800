import { connect } from "node:net";
import { request } from "undici";
import { describe, expect, it, onTestFinished } from "vitest";
import { Content, bytes, startPeer, taskIdOf, tempStorage, until } from "../transfer/test-support/peers.js";
import { PieceByteServer } from "./byte-server.js";
import { UploadLimiter } from "./limiter.js";
import { errorFromAnswer, parseSpreading } from "./piece-http.js";
import { PieceSpread } from "./spread.js";
import { TaskUploadGate } from "./task-gate.js";

const PIECE = 64 * 1024;

async function get(port: number, path: string, method: "GET" | "HEAD" | "POST" = "GET") {
  const answer = await request(`http://127.0.0.1:${port}${path}`, { method, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const body = Buffer.from(await answer.body.arrayBuffer());
  return { status: answer.statusCode, headers: answer.headers, body };
}

/** A peer holding piece 0 of two and receiving piece 1 with cut-through, its first MiB in. */
async function arrivingFirstMiB(seed: number, pieceLength: number) {
  const content = new Content(taskIdOf(seed), bytes(2 * pieceLength, seed), pieceLength);
  const storage = await tempStorage();
  const task = await content.store(storage, [0]);
  const peer = await startPeer(storage);
  const arrival = content.arrive(task, 1);
  await until(() => task.arrivingPiece(1) !== undefined);
  arrival.send(content.piece(1).subarray(0, 1024 * 1024));
  return { content, peer, arrival };
}

describe("the HTTP piece-byte server", () => {
  it("serves each piece's exact bytes with its digest, offset and length", async () => {
    const content = new Content(taskIdOf(11), bytes(3 * PIECE + 123, 11), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const peer = await startPeer(storage);
    const port = peer.ref.downloadPort;
    for (const n of content.all()) {
      const answer = await get(port, `/pieces/${content.taskId}/${n}`);
      expect(answer.status).toBe(200);
      expect(answer.body.equals(content.piece(n))).toBe(true);
      expect(answer.headers).toMatchObject({
        "content-length": String(content.piece(n).length),
        "x-df-digest": content.digest(n),
        "x-df-offset": String(n * PIECE),
        "x-df-piece-number": String(n),
      });
    }
    const head = await get(port, `/pieces/${content.taskId}/3`, "HEAD");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(peer.limiter.load()).toMatchObject({ uploadCount: 5, uploadFailedCount: 0, concurrentUploadCount: 0 });
    expect(peer.byteServer?.served).toEqual({ held: 4, arriving: 0 });
  });

  it("streams pieces in several pooled chunks, the buffers reused, exact bytes at once and in turn", async () => {
    const content = new Content(taskIdOf(19), bytes(6 * PIECE + 777, 19), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const limiter = new UploadLimiter({ concurrency: 10 });
    // 10,000 does not divide a piece: every piece ends in a short chunk.
    const server = new PieceByteServer({ storage, limiter, listen: "127.0.0.1:0", chunkSize: 10_000 });
    const port = await server.start();
    onTestFinished(() => server.stop());
    const fetchAll = () => Promise.all(content.all().map((n) => get(port, `/pieces/${content.taskId}/${n}`)));
    for (const answers of [await fetchAll(), await fetchAll()]) {
      answers.forEach((answer, n) => {
        expect(answer.status).toBe(200);
        expect(answer.body.equals(content.piece(n))).toBe(true);
      });
    }
    expect(limiter.load()).toMatchObject({ uploadCount: 14, uploadFailedCount: 0, concurrentUploadCount: 0 });
    expect(storage.getTask(content.taskId)?.inUse).toBe(0);
  });

  it("answers unknown tasks and pieces with 404, pieces past the end with 416, and says why", async () => {
    const content = new Content(taskIdOf(12), bytes(2 * PIECE, 12), PIECE);
    const storage = await tempStorage();
    await content.store(storage, [0]);
    const { ref } = await startPeer(storage);
    const unknownTask = await get(ref.downloadPort, `/pieces/${taskIdOf(90)}/0`);
    expect(unknownTask.status).toBe(404);
    expect(unknownTask.headers).toMatchObject({ "x-df-code": "NOT_FOUND", "x-df-reason": "task-not-found" });
    expect(unknownTask.body.toString()).toContain("holds no task");
    const missing = await get(ref.downloadPort, `/pieces/${content.taskId}/1`);
    expect(missing.status).toBe(404);
    expect(missing.headers["x-df-reason"]).toBe("piece-not-found");
    const past = await get(ref.downloadPort, `/pieces/${content.taskId}/2`);
    expect(past.status).toBe(416);
    expect(past.headers["x-df-code"]).toBe("OUT_OF_RANGE");
    expect((await get(ref.downloadPort, `/pieces/${content.taskId}/x`)).status).toBe(400);
    expect((await get(ref.downloadPort, `/other`)).status).toBe(404);
    expect((await get(ref.downloadPort, `/pieces/${content.taskId}/0`, "POST")).status).toBe(405);
  });

  it("holds uploads to the concurrency limit: queued up to the wait, then refused as busy", async () => {
    const content = new Content(taskIdOf(13), bytes(8 * PIECE, 13), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    // 2 at once, ~4 pieces per second after a one-piece burst: the uploads overlap.
    const queued = await startPeer(storage, { limiter: { concurrency: 2, rateLimit: 4 * PIECE, queueTimeoutMs: 10_000 } });
    const all = await Promise.all(content.all().slice(0, 6).map((n) => get(queued.ref.downloadPort, `/pieces/${content.taskId}/${n}`)));
    expect(all.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(queued.limiter.peak).toBe(2);

    const busy = await startPeer(storage, { limiter: { concurrency: 1, rateLimit: PIECE / 2, queueTimeoutMs: 50 } });
    const answers = await Promise.all([0, 1, 2].map((n) => get(busy.ref.downloadPort, `/pieces/${content.taskId}/${n}`)));
    const refused = answers.filter((answer) => answer.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]?.headers).toMatchObject({ "x-df-code": "RESOURCE_EXHAUSTED", "x-df-reason": "upload-busy", "retry-after": "1" });
    expect(busy.limiter.peak).toBe(1);
  });

  it("serves a few uploads of one task at once and refuses the rest as busy, while another task's upload goes on", async () => {
    const busyTask = new Content(taskIdOf(15), bytes(4 * PIECE, 15), PIECE);
    const otherTask = new Content(taskIdOf(16), bytes(2 * PIECE, 16), PIECE);
    const storage = await tempStorage();
    await busyTask.store(storage);
    await otherTask.store(storage);
    // A piece a second, throttled per 8 KiB chunk, shared by the two running uploads:
    // each holds its slot for about a second, well past the 50 ms wait.
    const limiter = new UploadLimiter({ concurrency: 10, rateLimit: PIECE });
    const taskGate = new TaskUploadGate(1, 50);
    const server = new PieceByteServer({ storage, limiter, taskGate, listen: "127.0.0.1:0", chunkSize: 8192 });
    const port = await server.start();
    onTestFinished(() => server.stop());
    const answers = await Promise.all([
      ...[0, 1, 2].map((n) => get(port, `/pieces/${busyTask.taskId}/${n}`)),
      get(port, `/pieces/${otherTask.taskId}/0`),
    ]);
    const busy = answers.slice(0, 3);
    expect(busy.filter((answer) => answer.status === 200)).toHaveLength(1);
    const refused = busy.filter((answer) => answer.status === 503);
    expect(refused).toHaveLength(2);
    expect(refused[0]?.headers).toMatchObject({ "x-df-code": "RESOURCE_EXHAUSTED", "x-df-reason": "upload-busy" });
    expect(refused[0]?.body.toString()).toContain(busyTask.taskId);
    expect(answers[3]?.status).toBe(200);
    expect(answers[3]?.body.equals(otherTask.piece(0))).toBe(true);
    expect(taskGate.tasks).toBe(0);
  });

  it("cuts an upload whose caller stops reading, so it cannot hold its task's slot", async () => {
    // 16 MiB: more than the kernel buffers of both ends take, so the writes stall.
    const big = 16 * 1024 * 1024;
    const content = new Content(taskIdOf(17), bytes(2 * big, 17), big);
    const storage = await tempStorage();
    await content.store(storage);
    const limiter = new UploadLimiter({ concurrency: 10 });
    const taskGate = new TaskUploadGate(1, 10_000);
    const server = new PieceByteServer({ storage, limiter, taskGate, listen: "127.0.0.1:0", chunkSize: 64 * 1024, limits: { writeTimeoutMs: 300 } });
    const port = await server.start();
    onTestFinished(() => server.stop());
    const hostile = connect({ host: "127.0.0.1", port });
    onTestFinished(() => {
      hostile.destroy();
    });
    await new Promise<void>((resolve) => hostile.once("connect", () => resolve()));
    hostile.write(`GET /pieces/${content.taskId}/0 HTTP/1.1\r\nhost: x\r\n\r\n`);
    hostile.pause();
    const started = Date.now();
    const honest = await get(port, `/pieces/${content.taskId}/1`);
    expect(honest.status).toBe(200);
    expect(honest.body.equals(content.piece(1))).toBe(true);
    // Queued behind the stalled upload until it was cut (300 ms after its writes stopped), not for the gate's 10 s wait.
    expect(Date.now() - started).toBeLessThan(8000);
    expect(limiter.load()).toMatchObject({ uploadFailedCount: 1, concurrentUploadCount: 0 });
    expect(taskGate.tasks).toBe(0);
  });

  it("refuses a piece in spread through another child with the list of every such piece, which the client reads back", async () => {
    const content = new Content(taskIdOf(23), bytes(6 * PIECE, 23), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const spread = new PieceSpread(60_000);
    for (const n of [1, 4, 5]) spread.admit(content.taskId, n, "child-a")(true);
    const server = new PieceByteServer({ storage, limiter: new UploadLimiter({ concurrency: 10 }), listen: "127.0.0.1:0", spread });
    const port = await server.start();
    onTestFinished(() => server.stop());
    const ask = (n: number, host: string) =>
      request(`http://127.0.0.1:${port}/pieces/${content.taskId}/${n}`, { headers: { "x-df-host-id": host }, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const refused = await ask(4, "child-b");
    const body = await refused.body.text();
    expect(refused.statusCode).toBe(503);
    expect(refused.headers).toMatchObject({ "x-df-reason": "piece-spread", "x-df-spreading": "1,4,5" });
    const error = errorFromAnswer(refused.statusCode, refused.headers, body, "piece 4");
    expect(error).toMatchObject({ code: "RESOURCE_EXHAUSTED", reason: "piece-spread", details: { spreading: [1, 4, 5] } });
    // The child that took the first copies, and pieces not in spread, are served.
    const served = await Promise.all([ask(4, "child-a"), ask(2, "child-b")]);
    for (const answer of served) {
      expect(answer.statusCode).toBe(200);
      await answer.body.arrayBuffer();
    }
  });

  it("reads a spread list only when it is a short list of piece numbers", () => {
    expect(parseSpreading("0,17,4294967295")).toEqual([0, 17, 4294967295]);
    expect(parseSpreading(undefined)).toBeUndefined();
    expect(parseSpreading("")).toBeUndefined();
    expect(parseSpreading("1,,2")).toBeUndefined();
    expect(parseSpreading("1,-2")).toBeUndefined();
    expect(parseSpreading("1,2e3")).toBeUndefined();
    expect(parseSpreading(Array.from({ length: 1025 }, (_, i) => i).join(","))).toBeUndefined();
    expect(parseSpreading(Array.from({ length: 1024 }, (_, i) => i).join(","))).toHaveLength(1024);
  });

  it("stops, cutting uploads in progress", async () => {
    const content = new Content(taskIdOf(14), bytes(4 * PIECE, 14), PIECE);
    const storage = await tempStorage();
    await content.store(storage);
    const peer = await startPeer(storage, { limiter: { rateLimit: PIECE / 4 } });
    // The first piece spends the full bucket and leaves it a piece in debt, so the next
    // one waits about three seconds for bandwidth: long enough to be cut.
    await get(peer.ref.downloadPort, `/pieces/${content.taskId}/0`);
    const started = Date.now();
    const slow = get(peer.ref.downloadPort, `/pieces/${content.taskId}/1`).then(
      () => "finished",
      () => "cut",
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await peer.byteServer?.stop();
    expect(await slow).toBe("cut");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("serves a piece still arriving here as its bytes land, the last ones once it is checked, with the announced digest", async () => {
    // Pieces larger than a chunk, so that the answer goes out in several.
    const big = 3 * 1024 * 1024;
    const { content, peer, arrival } = await arrivingFirstMiB(15, big);
    const answer = await request(`http://127.0.0.1:${peer.ref.downloadPort}/pieces/${content.taskId}/1`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toMatchObject({ "content-length": String(big), "x-df-digest": content.digest(1) });
    const received: Buffer[] = [];
    let count = 0;
    const reading = (async () => {
      for await (const chunk of answer.body) {
        received.push(chunk as Buffer);
        count += (chunk as Buffer).byteLength;
      }
    })();
    // The first MiB goes out before the rest has even been sent to this host.
    await until(() => count >= 1024 * 1024);
    arrival.send(content.piece(1).subarray(1024 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Every byte is on disk here, but the piece is not checked yet: the last chunk waits.
    expect(count).toBeLessThan(big);
    arrival.end();
    await arrival.done;
    await reading;
    expect(Buffer.concat(received).equals(content.piece(1))).toBe(true);
    expect(peer.limiter.load()).toMatchObject({ uploadCount: 1, uploadFailedCount: 0 });
    expect(peer.byteServer?.served).toEqual({ held: 0, arriving: 1 });
  });

  it("cuts the answer for an arriving piece whose arrival fails here, and answers 404 once it is gone", async () => {
    const { content, peer, arrival } = await arrivingFirstMiB(16, 2 * 1024 * 1024);
    const answer = get(peer.ref.downloadPort, `/pieces/${content.taskId}/1`).then(
      () => "whole",
      () => "cut",
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    arrival.fail();
    await expect(arrival.done).rejects.toThrow();
    expect(await answer).toBe("cut");
    const gone = await get(peer.ref.downloadPort, `/pieces/${content.taskId}/1`);
    expect(gone.status).toBe(404);
    expect(gone.headers["x-df-reason"]).toBe("piece-not-found");
    expect(peer.limiter.load()).toMatchObject({ uploadFailedCount: 1 });
  });
});
