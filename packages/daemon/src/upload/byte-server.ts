import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { DfError, noopLogger, toDfError, type Logger } from "@df/interface";
import { authorize, identityOf, parseAddress, PIECE_BYTES, type MemberTls } from "@df/rpc";
import type { ArrivingPiece, Lease, Storage } from "@df/storage";
import type { UploadLimiter, UploadSlot } from "./limiter.js";
import type { PieceSpread } from "./spread.js";
import type { TaskUploadGate } from "./task-gate.js";
import { AddressCap } from "./address-cap.js";
import { ChunkPool } from "./chunk-pool.js";
import { lookupServable } from "./lookup.js";
import { HEADERS, httpStatusOf, parsePiecePath } from "./piece-http.js";

export interface PieceByteServerOptions {
  storage: Storage;
  limiter: UploadLimiter;
  /** A seed's first-copy spreading (see PieceSpread); absent on other hosts. */
  spread?: PieceSpread;
  /** Uploads of one task at once (see TaskUploadGate); absent: no limit per task. */
  taskGate?: TaskUploadGate;
  /** `host:port` to listen on (port 0 picks one; see `start`). */
  listen: string;
  logger?: Logger;
  /** Bytes read from disk and written to the socket at a time (default 1 MiB; never more than a piece). */
  chunkSize?: number;
  /** Connection limits against slow or hostile readers; each has a default. */
  limits?: ByteServerLimits;
  /**
   * HTTPS with a client certificate required and checked against the member CA (the
   * daemon's `security.tls`); plain HTTP without.
   */
  tls?: MemberTls;
}

/** The piece server's limits per connection (the daemon's `upload.*` config). */
export interface ByteServerLimits {
  /**
   * A connection must send a whole request head within this long of opening, or of the
   * first byte of its next request (default 10 s); else it is answered 408 and closed.
   * A child sends its ~200-byte GET in one write as soon as it connects.
   */
  headerTimeoutMs?: number;
  /**
   * A kept-alive connection with no request is closed after this long (default 65 s).
   * Children close theirs at 30 s (BytePool), so they are not cut under a request.
   */
  idleTimeoutMs?: number;
  /**
   * An upload whose reader takes no bytes for this long is cut and its slot freed
   * (default 30 s; cut one to two of them after its last byte): about no progress at all,
   * not a slow one, which the kernel taking any byte of a pending write shows. Honest
   * readers sharing a busy link do go seconds without progress (see upload.writeTimeout).
   */
  writeTimeoutMs?: number;
  /**
   * Open connections per remote address (default 64; 0: no cap); more are closed at once.
   * A child opens at most 16 to one parent (PeerClientPool), 8 for one task.
   */
  connectionsPerAddress?: number;
  /**
   * Addresses and subnets the cap per address does not count (default loopback: every
   * daemon of a one-machine cluster connects from it, and no remote host can).
   */
  exemptAddresses?: readonly string[];
}

/** Connections the server closed because a limit bit, by limit. */
export interface ByteServerCuts {
  headerTimeout: number;
  idleTimeout: number;
  writeTimeout: number;
  connectionsPerAddress: number;
}

export const BYTE_SERVER_DEFAULTS = {
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 65_000,
  writeTimeoutMs: 30_000,
  connectionsPerAddress: 64,
  exemptAddresses: ["127.0.0.0/8", "::1"],
} as const;

// Read from disk and written to the socket in pooled chunks; a chunk never spans two
// pieces (bench/transfer.mjs --chunk compares sizes).
const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/** Idle chunk buffers kept for the next uploads: two per upload, for 8 at once. */
const POOLED_CHUNKS = 16;
const MIN_PACED_CHUNK = 64 * 1024;
// Node checks request timeouts on an interval (30 s by default): often enough that a
// timeout bites within a quarter of itself, and at most once a second.
const MAX_TIMEOUT_CHECK_MS = 1000;
const MIN_TIMEOUT_CHECK_MS = 50;

/**
 * The piece-byte transport a host announces as its download port: a small HTTP/1.1
 * server answering `GET /pieces/{taskId}/{number}` with the piece streamed from disk
 * (see piece-http.ts). Measured faster than gRPC DownloadPiece (bench/transfer.mjs):
 * no protobuf copy of a whole piece, no HTTP/2 flow-control windows on a 4–64 MiB body.
 */
export class PieceByteServer {
  readonly #options: PieceByteServerOptions;
  readonly #logger: Logger;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #pool: ChunkPool;
  #port: number | undefined;
  #stopping: Promise<void> | undefined;
  readonly #served = { held: 0, arriving: 0 };
  readonly #cuts: ByteServerCuts = { headerTimeout: 0, idleTimeout: 0, writeTimeout: 0, connectionsPerAddress: 0 };
  readonly #writeTimeoutMs: number;
  readonly #perAddress: AddressCap;
  /** Sockets with an answer under way: a client error must not write into its body. */
  readonly #answering = new WeakSet<Duplex>();

  constructor(options: PieceByteServerOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? noopLogger).child("bytes");
    this.#pool = new ChunkPool(options.chunkSize ?? DEFAULT_CHUNK_SIZE, POOLED_CHUNKS);
    const limits = { ...BYTE_SERVER_DEFAULTS, ...options.limits };
    for (const key of ["headerTimeoutMs", "idleTimeoutMs", "writeTimeoutMs"] as const) {
      if (!(limits[key] > 0)) throw new DfError("INVALID_ARGUMENT", `the piece server's ${key} must be more than 0, got ${String(limits[key])}`);
    }
    this.#writeTimeoutMs = limits.writeTimeoutMs;
    this.#perAddress = new AddressCap(limits.connectionsPerAddress, limits.exemptAddresses);
    const httpOptions: ServerOptions = {
      keepAliveTimeout: limits.idleTimeoutMs,
      // A GET has no body: the whole request is its head.
      headersTimeout: limits.headerTimeoutMs,
      requestTimeout: limits.headerTimeoutMs,
      connectionsCheckingInterval: Math.max(MIN_TIMEOUT_CHECK_MS, Math.min(MAX_TIMEOUT_CHECK_MS, limits.headerTimeoutMs / 4)),
      noDelay: true,
    };
    const listener = (request: IncomingMessage, response: ServerResponse): void => {
      this.#handle(request, response).catch((error: unknown) => {
        this.#logger.warn("a piece upload failed", { error: String(error) });
        response.destroy();
      });
    };
    const { tls } = options;
    this.#server = tls
      ? createHttpsServer({ ...httpOptions, ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: true }, listener)
      : createServer(httpOptions, listener);
    this.#server.on("connection", (socket: Socket) => this.#accept(socket));
    // With no server timeout set, this is the keep-alive idle timeout, or the write
    // timeout of an answer under way (its response handles that one).
    this.#server.on("timeout", (socket: Socket) => {
      if (this.#answering.has(socket)) return;
      this.#cuts.idleTimeout++;
      socket.destroy();
    });
    this.#server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => this.#clientError(error, socket));
  }

  /** Pieces served whole so far: held here, or still arriving when asked for (cut-through). */
  get served(): { held: number; arriving: number } {
    return { ...this.#served };
  }

  /** Connections closed because a limit bit, by limit, so far. */
  get cuts(): ByteServerCuts {
    return { ...this.#cuts };
  }

  /** The bound port once started. */
  get port(): number | undefined {
    return this.#port;
  }

  /** Listens; resolves to the bound port (the one to announce as the download port). */
  async start(): Promise<number> {
    if (this.#port !== undefined) return this.#port;
    const address = parseAddress(this.#options.listen);
    if (address.kind !== "tcp") {
      throw new DfError("INVALID_ARGUMENT", `the piece-byte server listens on TCP (host:port), got ${this.#options.listen}`);
    }
    this.#server.listen(address.port, address.host);
    try {
      await once(this.#server, "listening");
    } catch (error) {
      throw new DfError("UNAVAILABLE", `cannot listen on ${this.#options.listen} for piece bytes: ${String(error)}`, {
        cause: error,
        reason: "bind-failed",
        details: { address: this.#options.listen },
      });
    }
    const bound = this.#server.address();
    this.#port = typeof bound === "object" && bound !== null ? bound.port : address.port;
    return this.#port;
  }

  /**
   * Stops accepting, lets uploads in progress run for `graceMs` (default 0: a stopping
   * daemon cuts them, and children fetch those pieces elsewhere), then closes every
   * connection. Idempotent.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.graceMs ?? 0);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    if (graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const socket = request.socket;
    this.#answering.add(socket);
    response.once("finish", () => this.#answering.delete(socket));
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      this.#fail(response, new DfError("INVALID_ARGUMENT", `method ${String(request.method)} is not served; use GET`), 405);
      return;
    }
    if (this.#options.tls) {
      // The TLS layer checked the certificate against the CA; the role decides the rest.
      try {
        authorize(PIECE_BYTES, identityOf((socket as TLSSocket).getPeerCertificate()));
      } catch (error) {
        this.#fail(response, toDfError(error));
        return;
      }
    }
    const target = parsePiecePath(request.url ?? "");
    if (!target) {
      this.#fail(response, new DfError("NOT_FOUND", `no such path ${String(request.url)}; pieces are at /pieces/{taskId}/{number}`, { reason: "bad-path" }));
      return;
    }
    // Stops the disk read and the bandwidth wait when the child hangs up.
    const stop = new AbortController();
    // Only when it hung up early: an error (and its stack) per served piece showed in profiles.
    response.once("close", () => {
      if (!response.writableFinished) stop.abort(new DfError("CANCELLED", "the child closed the connection"));
    });
    let slot: UploadSlot | undefined;
    let lease: Lease | undefined;
    let spreadDone: ((sent: boolean) => void) | undefined;
    let taskSlot: UploadSlot | undefined;
    let ok = false;
    let cutThrough = false;
    try {
      const found = lookupServable(this.#options.storage, target.taskId, target.number);
      const { task } = found;
      // A piece still arriving here is served as its bytes land (cut-through).
      const piece = found.piece ?? found.arriving;
      cutThrough = found.arriving !== undefined;
      const hostId = request.headers[HEADERS.hostId];
      spreadDone = this.#options.spread?.admit(task.id, piece.number, typeof hostId === "string" ? hostId : undefined);
      taskSlot = await this.#options.taskGate?.acquire(task.id, stop.signal);
      const held = await this.#options.limiter.acquire(stop.signal);
      slot = held;
      // Held for the whole body: GC or a delete must not pull the file from under it.
      lease = task.acquire();
      // The head goes out with the first bytes; until those are here an arrival may still
      // fail, and the child is then told plainly that this host does not hold the piece.
      if (found.arriving) await firstBytes(found.arriving, Math.min(this.#chunkSize(), piece.length), task.id, stop.signal);
      response.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": String(piece.length),
        [HEADERS.digest]: piece.digest,
        [HEADERS.offset]: String(piece.offset),
        [HEADERS.number]: String(piece.number),
      });
      if (request.method === "HEAD") {
        response.end();
        ok = true;
        return;
      }
      response.once("timeout", () => this.#writeTimedOut(response));
      // Two pooled buffers per upload at most: the next chunk is read from disk while
      // the socket takes the previous one.
      const chunkSize = Math.min(this.#chunkSize(), piece.length);
      const end = piece.offset + piece.length;
      let position = piece.offset;
      let sending: Promise<void> | undefined;
      while (position < end) {
        const length = Math.min(chunkSize, end - position);
        const buffer = this.#pool.take();
        const chunk = buffer.subarray(0, length);
        try {
          if (found.arriving) await task.readArriving(found.arriving, chunk, position, { signal: stop.signal });
          else await task.readInto(chunk, position, { signal: stop.signal });
          await held.throttle(length, stop.signal);
          await sending;
        } catch (error) {
          this.#pool.give(buffer);
          throw error;
        }
        sending = this.#send(response, chunk, buffer);
        held.sent(length);
        position += length;
      }
      // The child has every byte and may ask for its next piece at once: end and free
      // the slot now, not once the last write is flushed, or the slot count overshoots.
      response.end();
      ok = true;
      this.#served[cutThrough ? "arriving" : "held"]++;
      slot = undefined;
      held.release(true);
      taskSlot?.release(true);
    } catch (error) {
      const failure = toDfError(error);
      if (response.headersSent) {
        // Mid-body there is no way to say why: cut the connection so the child sees a
        // short body instead of a wrong one.
        // An arriving piece whose own download failed here is cut as well: no fault of ours.
        if (!stop.signal.aborted) this.#logger[cutThrough ? "info" : "warn"]("a piece upload broke off", { url: request.url, error: failure.message });
        response.destroy();
      } else {
        this.#fail(response, failure);
      }
    } finally {
      slot?.release(ok);
      taskSlot?.release(ok);
      lease?.release();
      spreadDone?.(ok);
    }
  }

  /** Under a rate limit, smaller chunks keep the pacing smooth (about 8 chunks a second). */
  #chunkSize(): number {
    const chosen = this.#options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const rate = this.#options.limiter.rateLimit;
    return rate === undefined ? chosen : Math.min(chosen, Math.max(MIN_PACED_CHUNK, Math.floor(rate / 8)));
  }

  #fail(response: ServerResponse, error: DfError, status = httpStatusOf(error.code)): void {
    if (response.destroyed) return;
    const body = `${error.message}\n`;
    response.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": String(Buffer.byteLength(body)),
      [HEADERS.code]: error.code,
      ...(error.reason ? { [HEADERS.reason]: error.reason } : {}),
      ...(error.code === "RESOURCE_EXHAUSTED" ? { "retry-after": "1" } : {}),
      ...spreadingHeader(error),
    });
    response.end(body);
  }

  /**
   * Writes one chunk; resolves once the socket has handed it to the kernel (the buffer
   * then goes back to the pool) or the response closed first (the buffer is dropped:
   * a write may still hold it). The socket's timeout runs only while the chunk is being
   * written, so waits for disk, bandwidth or an arriving piece are not the reader's;
   * Node holds it off while the kernel takes any of the chunk (see #writeTimedOut).
   */
  #send(response: ServerResponse, chunk: Buffer, buffer: Buffer): Promise<void> {
    const socket = response.socket;
    socket?.setTimeout(this.#writeTimeoutMs);
    return new Promise((resolve) => {
      const onClose = (): void => resolve();
      response.once("close", onClose);
      response.write(chunk, (error) => {
        socket?.setTimeout(0);
        response.off("close", onClose);
        if (!error) this.#pool.give(buffer);
        resolve();
      });
    });
  }

  /**
   * A reader took no bytes for the write timeout: Node fires a socket's timeout only when
   * the pending write made no progress at all since the last check, so this cuts a
   * stopped reader one to two write timeouts after its last byte, never a slow one.
   * Destroying the response frees the upload slot at once.
   */
  #writeTimedOut(response: ServerResponse): void {
    this.#cuts.writeTimeout++;
    this.#logger.warn("a child stopped reading a piece; cutting the upload", { url: response.req.url, writeTimeoutMs: this.#writeTimeoutMs });
    response.destroy();
  }

  #accept(socket: Socket): void {
    const address = socket.remoteAddress;
    if (!this.#perAddress.admit(address)) {
      // Closed before a byte is read: a flood costs an accept and a close per connection.
      this.#cuts.connectionsPerAddress++;
      if (this.#cuts.connectionsPerAddress % 1000 === 1) {
        this.#logger.warn("refusing connections over the cap per address", { address, limit: this.#perAddress.limit, refused: this.#cuts.connectionsPerAddress });
      }
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    this.#options.limiter.connectionOpened();
    socket.once("close", () => {
      this.#sockets.delete(socket);
      this.#perAddress.release(address);
      this.#options.limiter.connectionClosed();
    });
  }

  /** What Node answers by default, plus the count of request timeouts. */
  #clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const timedOut = error.code === "ERR_HTTP_REQUEST_TIMEOUT";
    if (timedOut) this.#cuts.headerTimeout++;
    if (socket.writable && !this.#answering.has(socket) && error.code !== "ECONNRESET") {
      const status = timedOut ? "408 Request Timeout" : error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.write(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    }
    socket.destroy();
  }
}

async function firstBytes(arriving: ArrivingPiece, bytes: number, taskId: string, signal: AbortSignal): Promise<void> {
  try {
    await arriving.until(bytes, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new DfError("NOT_FOUND", `this host does not hold piece ${arriving.number} of task ${taskId}: its arrival here failed (${toDfError(error).message})`, {
      cause: error,
      reason: "piece-not-found",
      details: { taskId, number: arriving.number },
    });
  }
}

/** A spread refusal's list of the other pieces in spread, for the child to skip them all at once. */
function spreadingHeader(error: DfError): Record<string, string> {
  const spreading = error.details?.["spreading"];
  if (error.reason !== "piece-spread" || !Array.isArray(spreading) || spreading.length === 0) return {};
  return { [HEADERS.spreading]: spreading.join(",") };
}
