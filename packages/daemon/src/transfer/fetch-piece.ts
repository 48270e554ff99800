import { isIPv6 } from "node:net";
import { DfError, isDfError, toDfError } from "@df/interface";
import { daemonUpload, unary } from "@df/rpc";
import { allocateAligned, allocateAlignedSet, isAligned, type PieceSource } from "@df/storage";
import { errorFromAnswer, HEADERS, piecePath } from "../upload/piece-http.js";
import type { BytePool, Lease } from "./http/byte-pool.js";
import type { ResponseHead } from "./http/response-head.js";
import type { UploadClient } from "./peer-client-pool.js";

/** One piece to fetch from one parent. */
export interface PieceRequest {
  taskId: string;
  number: number;
  length: number;
  /**
   * The digest the parent announced in SyncPieces; undefined when the piece is asked for
   * before that (a parent that holds the whole task): then the digest the parent sends
   * with the bytes is the one the piece is checked against.
   */
  digest: string | undefined;
  /** The asking host, for the parent's upload accounting. */
  hostId: string;
  /**
   * Hears of the bytes as they arrive (0 when the answer's head is in), so the caller
   * can tell a slow but flowing parent from a stuck one.
   */
  onBytes?: (bytes: number) => void;
}

/**
 * A fetched piece on its way into storage. Errors from the parent's side while the
 * bytes stream are kept in `remoteError`, so the caller can tell a parent that broke
 * off from a local write that failed.
 */
export interface FetchedPiece {
  source: PieceSource;
  /** What the bytes must hash to: the announced digest, else the one sent with them. */
  digest: string;
  remoteError(): DfError | undefined;
  /** Frees the connection if the bytes were not (all) read, e.g. storage already had the piece. Idempotent. */
  discard(): void;
}

/**
 * Measured on loopback (bench/transfer.mjs --window): 1 MiB beat 256 KiB (more calls)
 * and 4 MiB (the CRC and the pwrite then read bytes that left the CPU cache).
 */
const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** Error answers are a line of text; a longer body is not read (the connection is closed instead). */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Reusable buffers that piece bytes are read into before they go to storage: one pwrite
 * and one CRC call per buffer, no fresh allocation (and garbage) per piece. Storage is
 * done with each chunk (written, CRC taken) before it asks for the next one, so a piece
 * in flight needs one buffer. They are page-aligned, so storage can write them with
 * direct I/O: `keep` of them in one block, reused for good; more pieces in flight at
 * once borrow extra ones, dropped when given back.
 */
export class ChunkBuffers {
  readonly size: number;
  /** Whether the kept buffers are page-aligned (else storage writes them through the page cache). */
  readonly aligned: boolean;
  readonly #free: Buffer[];
  readonly #kept: WeakSet<Buffer>;

  /**
   * `keep`: how many buffers to hold on to (the pieces in flight of one task). Their
   * memory is reserved at once but only takes room once written to.
   */
  constructor(size = DEFAULT_CHUNK_BYTES, keep = 16) {
    this.size = size;
    this.#free = allocateAlignedSet(size, keep);
    this.#kept = new WeakSet(this.#free);
    this.aligned = this.#free.every((buffer) => isAligned(buffer));
  }

  take(): Buffer {
    return this.#free.pop() ?? allocateAligned(this.size);
  }

  give(buffer: Buffer): void {
    if (this.#kept.has(buffer)) this.#free.push(buffer);
  }
}

/**
 * GET /pieces/{taskId}/{n} from the parent's byte server. Resolves once the head is in
 * and checked; the body then streams into storage chunk by chunk, read by the kernel
 * straight into a reused buffer (see PieceConnection).
 */
export async function fetchPieceHttp(pool: BytePool, piece: PieceRequest, signal: AbortSignal, buffers: ChunkBuffers): Promise<FetchedPiece> {
  const what = `piece ${piece.number} of task ${piece.taskId} from ${pool.host}:${pool.port}`;
  const path = piecePath(piece.taskId, piece.number);
  const headers = { host: `${isIPv6(pool.host) ? `[${pool.host}]` : pool.host}:${pool.port}`, [HEADERS.hostId]: piece.hostId };
  let lease: Lease;
  let head: ResponseHead;
  try {
    for (;;) {
      lease = await pool.acquire(signal);
      try {
        head = await lease.connection.request(path, headers, signal);
        break;
      } catch (error) {
        // A kept-alive connection the parent closed while idle dies before a single
        // byte of the answer: the GET is safe to send again on a fresh one.
        const retry = lease.reused && lease.connection.silent && !signal.aborted;
        lease.connection.destroy();
        if (!retry) throw error;
      }
    }
  } catch (error) {
    throw transportError(error, signal, what);
  }
  const { connection } = lease;
  piece.onBytes?.(0);
  if (head.status !== 200) {
    const body = await readErrorBody(lease, signal).catch(() => "");
    pool.release(connection);
    throw errorFromAnswer(head.status, head.headers, body, what);
  }
  const sent = head.headers[HEADERS.digest];
  const mismatch =
    head.contentLength !== piece.length
      ? `is ${String(head.contentLength)} bytes, expected ${piece.length}`
      : digestMismatch(piece.digest, sent);
  if (mismatch) {
    connection.destroy();
    throw new DfError("DATA_LOSS", `${what} ${mismatch}`, { reason: "piece-metadata-mismatch", details: { number: piece.number } });
  }

  let remote: DfError | undefined;
  let settled = false;
  const settle = (reuse: boolean): void => {
    if (settled) return;
    settled = true;
    if (reuse) pool.release(connection);
    else connection.destroy();
  };
  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    const buffer = buffers.take();
    try {
      while (connection.bodyRemaining > 0) {
        const window = buffer.subarray(0, Math.min(buffer.byteLength, connection.bodyRemaining));
        try {
          await connection.fill(window, signal, piece.onBytes);
        } catch (error) {
          remote = transportError(error, signal, what);
          throw remote;
        }
        yield window;
      }
      settle(true);
    } finally {
      // Left early (a failed write, an abort): the rest of the body is unread.
      settle(false);
      buffers.give(buffer);
    }
  }
  return { source: chunks(), digest: (piece.digest ?? sent) as string, remoteError: () => remote, discard: () => settle(false) };
}

/** Why the digest sent with a piece cannot be used, if it cannot. */
function digestMismatch(announced: string | undefined, sent: string | undefined): string | undefined {
  if (announced === undefined) return sent?.includes(":") ? undefined : `came without a digest (${String(sent)}) to check it against`;
  return sent !== undefined && sent !== announced ? `has digest ${sent}, but SyncPieces said ${announced}` : undefined;
}

async function readErrorBody(lease: Lease, signal: AbortSignal): Promise<string> {
  const length = lease.connection.bodyRemaining;
  if (length === 0) return "";
  if (length > MAX_ERROR_BODY) {
    lease.connection.destroy();
    return "";
  }
  const body = Buffer.allocUnsafe(length);
  await lease.connection.fill(body, signal);
  return body.toString("utf8");
}

/** DownloadPiece over the parent's upload gRPC: the whole piece in one message. */
export async function fetchPieceGrpc(client: UploadClient, piece: PieceRequest, signal: AbortSignal): Promise<FetchedPiece> {
  const response = await unary(
    client,
    "downloadPiece",
    daemonUpload.DownloadPieceRequest.create({ hostId: piece.hostId, taskId: piece.taskId, pieceNumber: piece.number }),
    { signal },
  );
  const content = response.piece?.content;
  if (content) piece.onBytes?.(content.byteLength);
  const what = `piece ${piece.number} of task ${piece.taskId} over DownloadPiece`;
  const mismatch =
    !content || content.byteLength !== piece.length
      ? `came with ${content?.byteLength ?? 0} bytes, expected ${piece.length}`
      : piece.digest === undefined
        ? digestMismatch(undefined, response.piece?.digest || undefined)
        : undefined;
  if (mismatch) throw new DfError("DATA_LOSS", `${what} ${mismatch}`, { reason: "piece-metadata-mismatch", details: { number: piece.number } });
  return { source: content as Uint8Array, digest: (piece.digest ?? response.piece?.digest) as string, remoteError: () => undefined, discard: () => {} };
}

/** What the connection threw, as a DfError: the abort's own error when the signal fired. */
function transportError(error: unknown, signal: AbortSignal, what: string): DfError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (isDfError(reason)) return reason;
    const mapped = toDfError(reason, "CANCELLED");
    return new DfError(mapped.code === "DEADLINE_EXCEEDED" ? "DEADLINE_EXCEEDED" : "CANCELLED", `${what}: ${mapped.message}`, { cause: reason });
  }
  const mapped = toDfError(error, "UNAVAILABLE");
  return new DfError(mapped.code === "INTERNAL" ? "UNAVAILABLE" : mapped.code, `${what}: ${mapped.message}`, {
    cause: error,
    reason: mapped.reason ?? "transport",
  });
}
