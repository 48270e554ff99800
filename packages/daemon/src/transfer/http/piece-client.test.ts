import { once } from "node:events";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { crc32Digest } from "@df/piece";
import { describe, expect, it, onTestFinished } from "vitest";
import { ChunkBuffers, fetchPieceHttp, type PieceRequest } from "../fetch-piece.js";
import { Content, bytes, startPeer, taskIdOf, tempStorage } from "../test-support/peers.js";
import { BytePool } from "./byte-pool.js";

/**
 * A scripted piece server on raw TCP: `answer` gets each request (its path and how many
 * requests came before on the same connection) and writes whatever it likes.
 */
async function rawServer(answer: (socket: Socket, path: string, nth: number) => void): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    let pending = "";
    let nth = 0;
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        const path = pending.slice(0, end).split(" ")[1] ?? "";
        pending = pending.slice(end + 4);
        answer(socket, path, nth++);
      }
    });
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

function pool(port: number): BytePool {
  const bytePool = new BytePool("127.0.0.1", port, { maxConnections: 4, connectTimeoutMs: 2000 });
  onTestFinished(() => bytePool.close());
  return bytePool;
}

const DATA = bytes(1000, 7);
const REQUEST: PieceRequest = { taskId: taskIdOf(1), number: 0, length: DATA.length, digest: crc32Digest(DATA), hostId: "child" };

function ok(socket: Socket, body: Buffer, extra = ""): void {
  socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nx-df-digest: ${crc32Digest(body)}\r\n${extra}\r\n`);
  socket.write(body);
}

async function read(piece: { source: Uint8Array | AsyncIterable<Uint8Array> }): Promise<Buffer> {
  if (piece.source instanceof Uint8Array) return Buffer.from(piece.source);
  const parts: Buffer[] = [];
  for await (const chunk of piece.source) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

const signal = (): AbortSignal => AbortSignal.timeout(5000);

describe("the HTTP piece client", () => {
  it("reads many small pieces over one kept-alive connection", async () => {
    const content = new Content(taskIdOf(41), bytes(50 * 100, 41), 100);
    const storage = await tempStorage();
    await content.store(storage);
    const peer = await startPeer(storage);
    const bytePool = pool(peer.ref.downloadPort);
    const buffers = new ChunkBuffers(64 * 1024, 2);
    for (const n of content.all()) {
      const piece = await fetchPieceHttp(bytePool, { taskId: content.taskId, number: n, length: 100, digest: content.digest(n), hostId: "c" }, signal(), buffers);
      expect((await read(piece)).equals(content.piece(n))).toBe(true);
    }
    expect(bytePool.size).toBe(1);
    expect(peer.limiter.load().connectionCount).toBe(1);
  });

  it("streams a piece larger than its buffer in windows", async () => {
    const content = new Content(taskIdOf(42), bytes(3 * 1024 * 1024 + 5, 42), 4 * 1024 * 1024);
    const storage = await tempStorage();
    await content.store(storage);
    const peer = await startPeer(storage);
    const piece = await fetchPieceHttp(
      pool(peer.ref.downloadPort),
      { taskId: content.taskId, number: 0, length: content.data.length, digest: content.digest(0), hostId: "c" },
      signal(),
      new ChunkBuffers(256 * 1024, 1),
    );
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    for await (const chunk of piece.source as AsyncIterable<Uint8Array>) {
      sizes.push(chunk.byteLength);
      parts.push(Buffer.from(chunk));
    }
    expect(Buffer.concat(parts).equals(content.data)).toBe(true);
    expect(sizes.length).toBe(13);
    expect(Math.max(...sizes)).toBe(256 * 1024);
  });

  it("sends the request again on a fresh connection when a kept-alive one dies unanswered", async () => {
    // Answers the first request of each connection, then hangs up on the next one.
    const server = await rawServer((socket, _path, nth) => (nth === 0 ? ok(socket, DATA) : socket.destroy()));
    const bytePool = pool(server.port);
    const buffers = new ChunkBuffers(64 * 1024, 2);
    for (let i = 0; i < 3; i++) expect((await read(await fetchPieceHttp(bytePool, REQUEST, signal(), buffers))).equals(DATA)).toBe(true);
    expect(server.connections()).toBe(3);
  });

  it("fails clearly on an answer that breaks the protocol or the piece", async () => {
    const cases: [string, (socket: Socket) => void, Record<string, unknown>][] = [
      ["garbage", (socket) => socket.end("SSH-2.0-OpenSSH\r\n\r\n"), { code: "DATA_LOSS", reason: "bad-response" }],
      ["chunked", (socket) => socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"), { code: "DATA_LOSS", reason: "bad-response" }],
      ["wrong length", (socket) => ok(socket, DATA.subarray(1)), { code: "DATA_LOSS", reason: "piece-metadata-mismatch" }],
      [
        "wrong digest",
        (socket) => socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${DATA.length}\r\nx-df-digest: crc32:1\r\n\r\n`),
        { code: "DATA_LOSS", reason: "piece-metadata-mismatch" },
      ],
      ["busy", (socket) => socket.write("HTTP/1.1 503 Busy\r\ncontent-length: 4\r\nx-df-code: RESOURCE_EXHAUSTED\r\nx-df-reason: upload-busy\r\n\r\nbusy"), { code: "RESOURCE_EXHAUSTED", reason: "upload-busy" }],
      ["hang-up", (socket) => socket.destroy(), { code: "UNAVAILABLE" }],
    ];
    for (const [name, answer, expected] of cases) {
      const server = await rawServer((socket) => answer(socket));
      await expect(fetchPieceHttp(pool(server.port), REQUEST, signal(), new ChunkBuffers(64 * 1024)), name).rejects.toMatchObject(expected);
    }
    // Nobody listens: the port of a server that has just closed.
    const gone = await rawServer(() => {});
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(gone.connections()).toBe(0);
    await expect(fetchPieceHttp(pool(port), REQUEST, signal(), new ChunkBuffers(64 * 1024))).rejects.toMatchObject({ code: "UNAVAILABLE", reason: "econnrefused" });
  });

  it("reports a body cut short as the parent's error, and a hung parent as the deadline", async () => {
    const cut = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${DATA.length}\r\nx-df-digest: ${REQUEST.digest}\r\n\r\n`);
      socket.end(DATA.subarray(0, 10));
    });
    const piece = await fetchPieceHttp(pool(cut.port), REQUEST, signal(), new ChunkBuffers(64 * 1024));
    await expect(read(piece)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(piece.remoteError()).toMatchObject({ code: "UNAVAILABLE", reason: "connection-closed" });

    const hung = await rawServer(() => {});
    const started = Date.now();
    const deadline = AbortSignal.timeout(200);
    await expect(fetchPieceHttp(pool(hung.port), REQUEST, deadline, new ChunkBuffers(64 * 1024))).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("queues requests beyond the connection limit; closing fails those waiting and those in flight", async () => {
    const server = await rawServer(() => {});
    const bytePool = new BytePool("127.0.0.1", server.port, { maxConnections: 1 });
    const first = fetchPieceHttp(bytePool, REQUEST, signal(), new ChunkBuffers(64 * 1024)).catch((error: unknown) => error);
    const second = fetchPieceHttp(bytePool, REQUEST, signal(), new ChunkBuffers(64 * 1024)).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.connections()).toBe(1);
    bytePool.close();
    expect(await second).toMatchObject({ code: "CANCELLED", reason: "pool-closed" });
    expect(await first).toMatchObject({ code: "CANCELLED", reason: "pool-closed" });
  });
});
