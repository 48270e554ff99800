import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { Agent, request } from "undici";
import { describe, expect, it, onTestFinished } from "vitest";
import { ChunkBuffers, fetchPieceHttp } from "../transfer/fetch-piece.js";
import { BytePool } from "../transfer/http/byte-pool.js";
import { Content, bytes, taskIdOf, tempStorage, until } from "../transfer/test-support/peers.js";
import { PieceByteServer, type ByteServerLimits } from "./byte-server.js";
import { UploadLimiter, type UploadLimiterOptions } from "./limiter.js";

const MiB = 1024 * 1024;

async function serve(content: Content, limits: ByteServerLimits, limiterOptions: UploadLimiterOptions = { concurrency: 10 }) {
  const storage = await tempStorage();
  await content.store(storage);
  const limiter = new UploadLimiter(limiterOptions);
  const server = new PieceByteServer({ storage, limiter, listen: "127.0.0.1:0", limits, chunkSize: 256 * 1024 });
  const port = await server.start();
  onTestFinished(() => server.stop());
  return { server, port, limiter };
}

/** A raw connection from `localAddress` (any of 127.0.0.0/8 is loopback on Linux). */
type Opened = Socket & { closedAt: Promise<number> };

async function open(port: number, localAddress = "127.0.0.1"): Promise<Opened> {
  const socket = connect({ host: "127.0.0.1", port, localAddress });
  socket.on("error", () => {});
  onTestFinished(() => {
    socket.destroy();
  });
  const closedAt = once(socket, "close").then(() => performance.now());
  await once(socket, "connect");
  return Object.assign(socket, { closedAt });
}

/** GET through undici from `localAddress`, the body read whole. */
async function get(port: number, path: string, localAddress = "127.0.0.1") {
  const dispatcher = new Agent({ localAddress });
  onTestFinished(() => dispatcher.close());
  const answer = await request(`http://127.0.0.1:${port}${path}`, { dispatcher, headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: answer.statusCode, body: Buffer.from(await answer.body.arrayBuffer()) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything the socket gets until it closes. */
function received(socket: Opened): Promise<string> {
  const parts: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => parts.push(chunk));
  return socket.closedAt.then(() => Buffer.concat(parts).toString("latin1"));
}

/** Reads about `bytes` every `everyMs` until the head and `body` bytes came, or the socket closed. */
function pacedRead(socket: Socket, bytes: number, everyMs: number, body: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  let wanted = Infinity;
  let budget = bytes;
  return new Promise((resolve) => {
    const finish = (): void => {
      clearInterval(pace);
      socket.pause();
      resolve(Buffer.concat(parts));
    };
    const pace = setInterval(() => {
      budget = bytes;
      socket.resume();
    }, everyMs);
    socket.on("data", (chunk: Buffer) => {
      parts.push(chunk);
      length += chunk.byteLength;
      budget -= chunk.byteLength;
      if (wanted === Infinity) wanted = headLength(Buffer.concat(parts)) + body;
      if (length >= wanted) finish();
      else if (budget <= 0) socket.pause();
    });
    socket.once("close", finish);
  });
}

/** Bytes of the HTTP head at the start of `answer` (all of it while the head is incomplete). */
function headLength(answer: Buffer): number {
  const end = answer.indexOf("\r\n\r\n");
  return end < 0 ? Infinity : end + 4;
}

describe("the piece server's limits against slow or hostile readers", () => {
  it("cuts readers that take no bytes after the write timeout, so an honest child gets its piece", async () => {
    // 16 MiB: more than the kernel buffers of both ends take, so a stopped reader's writes stall.
    const content = new Content(taskIdOf(41), bytes(3 * 16 * MiB, 41), 16 * MiB);
    // Every slot held by a reader that never reads; the honest request queues for up to 10 s.
    const { server, port, limiter } = await serve(content, { writeTimeoutMs: 400 }, { concurrency: 2, queueTimeoutMs: 10_000 });
    const hostile = await Promise.all([0, 1].map(() => open(port)));
    hostile.forEach((socket, n) => {
      socket.write(`GET /pieces/${content.taskId}/${n} HTTP/1.1\r\nhost: x\r\n\r\n`);
      socket.pause();
    });
    await until(() => limiter.active === 2);
    const started = performance.now();
    const honest = await get(port, `/pieces/${content.taskId}/2`);
    expect(honest.status).toBe(200);
    expect(honest.body.equals(content.piece(2))).toBe(true);
    // Admitted once both stalled uploads were cut, long before the 10 s queue wait.
    expect(performance.now() - started).toBeLessThan(6000);
    expect(server.cuts).toMatchObject({ writeTimeout: 2 });
    expect(limiter.load()).toMatchObject({ uploadCount: 1, uploadFailedCount: 2, concurrentUploadCount: 0 });
    // Cut: reading again finds the connection gone.
    for (const socket of hostile) {
      socket.resume();
      await socket.closedAt;
    }
  });

  it("does not cut a reader that is slow but takes bytes, though each chunk takes longer than the write timeout", async () => {
    const content = new Content(taskIdOf(42), bytes(64 * MiB, 42), 64 * MiB);
    const storage = await tempStorage();
    await content.store(storage);
    const limiter = new UploadLimiter({ concurrency: 2 });
    // A 32 MiB chunk at ~20 MB/s takes ~1.6 s, well past the write timeout: only progress
    // within the chunk keeps the upload. On loopback the kernel buffers of both ends take
    // the first ~13 MiB at once, then make room in steps of a few MiB (~0.3 s here).
    const server = new PieceByteServer({ storage, limiter, listen: "127.0.0.1:0", limits: { writeTimeoutMs: 1000 }, chunkSize: 32 * MiB });
    const port = await server.start();
    onTestFinished(() => server.stop());
    const reader = await open(port);
    // Takes 512 KiB every 25 ms: steady progress, far below what loopback could carry.
    const answer = pacedRead(reader, 512 * 1024, 25, 64 * MiB);
    reader.write(`GET /pieces/${content.taskId}/0 HTTP/1.1\r\nhost: x\r\n\r\n`);
    const whole = await answer;
    expect(server.cuts.writeTimeout).toBe(0);
    expect(whole.subarray(headLength(whole)).equals(content.piece(0))).toBe(true);
    expect(limiter.load()).toMatchObject({ uploadCount: 1, uploadFailedCount: 0 });
  });

  it("does not count waits for bandwidth against the reader", async () => {
    // 64 KiB a second in 64 KiB chunks: each chunk waits about a second for the rate
    // limit, five write timeouts, while the reader takes every byte at once.
    const content = new Content(taskIdOf(47), bytes(4 * 64 * 1024, 47), 4 * 64 * 1024);
    const { server, port } = await serve(content, { writeTimeoutMs: 200 }, { concurrency: 2, rateLimit: 64 * 1024 });
    const answer = await get(port, `/pieces/${content.taskId}/0`);
    expect(answer.status).toBe(200);
    expect(answer.body.equals(content.piece(0))).toBe(true);
    expect(server.cuts.writeTimeout).toBe(0);
  });

  it("closes a connection that sends half a request line, or nothing, after the header timeout, and answers 408", async () => {
    const content = new Content(taskIdOf(43), bytes(64 * 1024, 43), 64 * 1024);
    // Uploads slower than the header timeout are not cut by it: the request is whole.
    const { server, port } = await serve(content, { headerTimeoutMs: 300 }, { concurrency: 10, rateLimit: 48 * 1024 });
    const opened = performance.now();
    const half = await open(port);
    half.write("GET /pieces/");
    const silent = await open(port);
    const answers = [received(half), received(silent)];
    const honest = await get(port, `/pieces/${content.taskId}/0`);
    expect(honest.status).toBe(200);
    expect(honest.body.equals(content.piece(0))).toBe(true);
    for (const answer of answers) expect(await answer).toMatch(/^HTTP\/1\.1 408 /);
    const closedAfter = Math.max(await half.closedAt, await silent.closedAt) - opened;
    expect(closedAfter).toBeGreaterThanOrEqual(250);
    expect(closedAfter).toBeLessThan(3000);
    expect(server.cuts).toMatchObject({ headerTimeout: 2, writeTimeout: 0 });
  });

  it("closes a kept-alive connection idle past the idle timeout, and an honest child's pool asks again on a fresh one", async () => {
    const content = new Content(taskIdOf(44), bytes(3 * 64 * 1024, 44), 64 * 1024);
    const { server, port } = await serve(content, { idleTimeoutMs: 200 });
    // Keeps its idle connections longer than the server does, as a child with a long pool timeout would.
    const pool = new BytePool("127.0.0.1", port, { maxConnections: 1, idleTimeoutMs: 60_000 });
    onTestFinished(() => pool.close());
    const buffers = new ChunkBuffers(64 * 1024, 2);
    const fetchPiece = async (number: number) => {
      const piece = content.piece(number);
      const fetched = await fetchPieceHttp(pool, { taskId: content.taskId, number, length: piece.length, digest: content.digest(number), hostId: "child" }, AbortSignal.timeout(5000), buffers);
      const parts: Buffer[] = [];
      if (fetched.source instanceof Uint8Array) parts.push(Buffer.from(fetched.source));
      else for await (const chunk of fetched.source) parts.push(Buffer.from(chunk));
      return Buffer.concat(parts);
    };
    expect((await fetchPiece(0)).equals(content.piece(0))).toBe(true);
    // Node adds a second to the keep-alive timeout before it closes.
    await until(() => server.cuts.idleTimeout === 1, 5000);
    expect((await fetchPiece(1)).equals(content.piece(1))).toBe(true);
    expect((await fetchPiece(2)).equals(content.piece(2))).toBe(true);
    expect(server.cuts).toMatchObject({ idleTimeout: 1, headerTimeout: 0 });
  });

  it("closes connections over the cap per address at once, while another address is still served", async () => {
    const content = new Content(taskIdOf(45), bytes(64 * 1024, 45), 64 * 1024);
    const { server, port, limiter } = await serve(content, { connectionsPerAddress: 4, exemptAddresses: [] });
    const flood = await Promise.all(Array.from({ length: 10 }, () => open(port, "127.0.0.2")));
    // Six are over the cap: closed by the server without waiting for a request.
    await until(() => server.cuts.connectionsPerAddress === 6);
    const closed = await Promise.all(flood.map((socket) => Promise.race([socket.closedAt.then(() => true), sleep(300).then(() => false)])));
    expect(closed.filter(Boolean)).toHaveLength(6);
    expect(limiter.load().connectionCount).toBe(4);
    const other = await get(port, `/pieces/${content.taskId}/0`, "127.0.0.3");
    expect(other.status).toBe(200);
    expect(other.body.equals(content.piece(0))).toBe(true);
    // The flooding address is refused a fifth connection, and served again once its others closed.
    await expect(get(port, `/pieces/${content.taskId}/0`, "127.0.0.2")).rejects.toThrow();
    expect(server.cuts.connectionsPerAddress).toBe(7);
    for (const socket of flood) socket.destroy();
    await until(() => limiter.load().connectionCount <= 1);
    expect((await get(port, `/pieces/${content.taskId}/0`, "127.0.0.2")).status).toBe(200);
  });

  it("does not count exempt addresses against the cap", async () => {
    const content = new Content(taskIdOf(46), bytes(64 * 1024, 46), 64 * 1024);
    const { server, port, limiter } = await serve(content, { connectionsPerAddress: 2, exemptAddresses: ["127.0.0.0/30"] });
    await Promise.all(Array.from({ length: 6 }, () => open(port, "127.0.0.2")));
    await until(() => limiter.load().connectionCount === 6);
    expect((await get(port, `/pieces/${content.taskId}/0`, "127.0.0.2")).status).toBe(200);
    // 127.0.0.5 is outside the /30: capped.
    await Promise.all(Array.from({ length: 3 }, () => open(port, "127.0.0.5")));
    await until(() => server.cuts.connectionsPerAddress === 1);
  });
});
