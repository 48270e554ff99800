import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { crc32Digest } from "@df/piece";
import { createRpcServer, daemonUpload, type RpcServer } from "@df/rpc";
import { Storage, type Task } from "@df/storage";
import { onTestFinished } from "vitest";
import { PieceByteServer } from "../../upload/byte-server.js";
import { createUploadHandlers } from "../../upload/handlers.js";
import { UploadLimiter, type UploadLimiterOptions } from "../../upload/limiter.js";
import { HEADERS, parsePiecePath } from "../../upload/piece-http.js";
import type { PieceSpread } from "../../upload/spread.js";
import { TaskFailures } from "../../upload/task-failures.js";
import type { ParentRef } from "../types.js";

/**
 * A store in a fresh folder, closed and removed when the test ends. The folder is on
 * the disk that holds this repository (under the package's node_modules/.cache), not in
 * the OS temp dir, which may be a tmpfs that does not take direct I/O.
 */
export async function tempStorage(): Promise<Storage> {
  const base = fileURLToPath(new URL("../../../node_modules/.cache/df-tests/", import.meta.url));
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(path.join(base, "df-transfer-"));
  const storage = await Storage.open({ dir, gc: { intervalMs: 0 } });
  onTestFinished(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  return storage;
}

/** Deterministic pseudo-random bytes. */
export function bytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function taskIdOf(n: number): string {
  return n.toString(16).padStart(8, "0").repeat(8);
}

/** Content cut into pieces, for creating the same task in several stores. */
export class Content {
  constructor(
    readonly taskId: string,
    readonly data: Buffer,
    readonly pieceLength: number,
  ) {}

  get pieceCount(): number {
    return Math.ceil(this.data.byteLength / this.pieceLength);
  }

  piece(n: number): Buffer {
    return this.data.subarray(n * this.pieceLength, Math.min((n + 1) * this.pieceLength, this.data.byteLength));
  }

  digest(n: number): string {
    return crc32Digest(this.piece(n));
  }

  /** Creates the task in `storage` and writes the given pieces (default: all). */
  async store(storage: Storage, pieces: Iterable<number> = this.all()): Promise<Task> {
    const task = await storage.createTask({ taskId: this.taskId, contentLength: this.data.byteLength, pieceLength: this.pieceLength });
    for (const n of pieces) await this.write(task, n);
    return task;
  }

  async write(task: Task, n: number): Promise<void> {
    await task.writePiece(n, this.piece(n), { digest: this.digest(n) });
  }

  all(): number[] {
    return Array.from({ length: this.pieceCount }, (_, n) => n);
  }

  /**
   * Starts writing piece `n` with cut-through, as a parent does while it receives it:
   * its bytes go down as the test sends them (`send(bytes)`, then `end()`), or the
   * arrival fails (`fail()`). `digest` defaults to the piece's own.
   */
  arrive(task: Task, n: number, digest = this.digest(n)): Arrival {
    const queue: Array<Uint8Array | Error | null> = [];
    let wake: (() => void) | undefined;
    const add = (item: Uint8Array | Error | null): void => {
      queue.push(item);
      wake?.();
    };
    async function* source(): AsyncGenerator<Uint8Array> {
      for (;;) {
        if (queue.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        const next = queue.shift();
        if (next === null) return;
        if (next instanceof Error) throw next;
        yield next as Uint8Array;
      }
    }
    const done = task.writePiece(n, source(), { digest, cutThrough: true });
    done.catch(() => {});
    return {
      send: (bytes) => add(bytes),
      end: () => add(null),
      fail: () => add(new Error(`the test's parent of piece ${n} went away`)),
      done,
    };
  }
}

/** A piece being written with cut-through under a test's control (see Content.arrive). */
export interface Arrival {
  send(bytes: Uint8Array): void;
  end(): void;
  fail(): void;
  done: Promise<unknown>;
}

/** Reads a whole stored task. */
export async function readAll(task: Task): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of task.read()) parts.push(chunk);
  return Buffer.concat(parts);
}

export interface TestPeerOptions {
  limiter?: UploadLimiterOptions;
  /** `http` (default): the byte server; `grpc`: no byte port; a number: announce that port instead. */
  bytes?: "http" | "grpc" | number;
  peerId?: string;
  /** A seed's first-copy spreading, shared by both transports. */
  spread?: PieceSpread;
  /** SyncPieces' gathering window for batched streams (upload.announceWindow). */
  announceWindowMs?: number;
  /** Answers SyncPieces one piece per message whatever the child asks, as parents before batches did. */
  unbatched?: boolean;
  /** upload.cutThrough (default true): announce pieces while they arrive here. */
  cutThrough?: boolean;
  /** Announces these messages on SyncPieces instead of what it holds, then keeps the stream open (a lying parent). */
  announce?: daemonUpload.SyncPiecesResponse[];
}

/** A parent: a store served by the upload gRPC service and (optionally) the byte server. */
export interface TestPeer {
  storage: Storage;
  limiter: UploadLimiter;
  failures: TaskFailures;
  grpc: RpcServer;
  byteServer: PieceByteServer | undefined;
  ref: ParentRef;
  /** SyncPieces calls it has answered so far. */
  syncs(): number;
  stop(): Promise<void>;
}

let peers = 0;

/** Starts a parent on loopback; stopped when the test ends (stopping twice is harmless). */
export async function startPeer(storage: Storage, options: TestPeerOptions = {}): Promise<TestPeer> {
  const n = ++peers;
  const peerId = options.peerId ?? `127.0.0.1-peer${n}-test`;
  const limiter = new UploadLimiter(options.limiter);
  const failures = new TaskFailures();
  const mode = options.bytes ?? "http";
  const spread = options.spread ? { spread: options.spread } : {};
  const byteServer = mode === "http" ? new PieceByteServer({ storage, limiter, listen: "127.0.0.1:0", ...spread }) : undefined;
  const downloadPort = byteServer ? await byteServer.start() : typeof mode === "number" ? mode : 0;
  const host = { id: `127.0.0.1-host${n}`, ip: "127.0.0.1", downloadPort };
  const grpc = createRpcServer({ address: "127.0.0.1:0" });
  const window = options.announceWindowMs === undefined ? {} : { announceWindowMs: options.announceWindowMs };
  const cutThrough = options.cutThrough === undefined ? {} : { cutThrough: options.cutThrough };
  const handlers = createUploadHandlers({ storage, host, limiter, failures, peerIdOf: () => peerId, ...spread, ...window, ...cutThrough });
  let syncs = 0;
  grpc.addService(daemonUpload.DfdaemonUploadService, {
    ...handlers,
    syncPieces: (request, context) => {
      syncs++;
      if (options.announce) return lying(options.announce, context.signal);
      return handlers.syncPieces(options.unbatched ? { ...request, batched: false } : request, context);
    },
  });
  const bound = await grpc.start();
  const port = bound.kind === "tcp" ? bound.port : 0;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= Promise.all([grpc.stop({ graceMs: 0 }), byteServer?.stop()]).then(() => {}));
  onTestFinished(stop);
  return { storage, limiter, failures, grpc, byteServer, ref: { peerId, hostId: host.id, ip: "127.0.0.1", port, downloadPort }, syncs: () => syncs, stop };
}

/**
 * A byte server that lies: it answers every piece from `storage` with the right length
 * and the right digest header, but flips one byte of the body.
 */
export function startCorruptByteServer(storage: Storage): Promise<{ port: number; served: () => number }> {
  return startMisbehavingByteServer(storage, (data, response) => {
    data[data.length >> 1] = (data[data.length >> 1] as number) ^ 0xff;
    response.end(data);
  });
}

/** A byte server that sends the head and half of every piece, then goes silent (keeping the connection open). */
export function startStallingByteServer(storage: Storage): Promise<{ port: number; served: () => number }> {
  return startMisbehavingByteServer(storage, (data, response) => {
    response.write(data.subarray(0, data.length >> 1));
  });
}

async function startMisbehavingByteServer(
  storage: Storage,
  answer: (data: Buffer, response: ServerResponse) => void,
): Promise<{ port: number; served: () => number }> {
  let served = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const target = parsePiecePath(request.url ?? "");
    const task = target ? storage.getTask(target.taskId) : undefined;
    const piece = task && target ? task.piece(Number(target.number)) : undefined;
    if (!task || !piece) {
      response.writeHead(404).end();
      return;
    }
    void task.readPiece(piece.number).then((data) => {
      served++;
      response.writeHead(200, { "content-length": String(data.length), [HEADERS.digest]: piece.digest, [HEADERS.offset]: String(piece.offset) });
      answer(data, response);
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  });
  return { port: (server.address() as AddressInfo).port, served: () => served };
}

/** Records what a downloader reports. */
export function recorder(): {
  finished: { number: number; parentId: string; digest: string }[];
  failed: { number: number; parentId: string; code: string; temporary: boolean }[];
  events: { pieceFinished: (piece: { number: number; parentId: string; digest: string }) => void; pieceFailed: (number: number, parentId: string, error: { code: string }, temporary: boolean) => void };
} {
  const finished: { number: number; parentId: string; digest: string }[] = [];
  const failed: { number: number; parentId: string; code: string; temporary: boolean }[] = [];
  return {
    finished,
    failed,
    events: {
      pieceFinished: (piece) => finished.push({ number: piece.number, parentId: piece.parentId, digest: piece.digest }),
      pieceFailed: (number, parentId, error, temporary) => failed.push({ number, parentId, code: error.code, temporary }),
    },
  };
}

/** Polls `condition` every 10 ms for at most `ms`. */
export async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Sends `messages`, then holds the stream open until the child hangs up. */
async function* lying(messages: daemonUpload.SyncPiecesResponse[], signal: AbortSignal): AsyncGenerator<daemonUpload.SyncPiecesResponse> {
  yield* messages;
  await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
}
