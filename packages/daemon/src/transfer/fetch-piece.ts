import { DfError, isDfError, toDfError } from "@df/interface";
import { daemonUpload, unary } from "@df/rpc";
import type { PieceSource } from "@df/storage";
import type { Dispatcher, Pool } from "undici";
import { errorFromAnswer, HEADERS, piecePath } from "../upload/piece-http.js";
import type { UploadClient } from "./peer-client-pool.js";

/** One piece to fetch from one parent. */
export interface PieceRequest {
  taskId: string;
  number: number;
  length: number;
  /** The digest the parent announced in SyncPieces. */
  digest: string;
  /** The asking host, for the parent's upload accounting. */
  hostId: string;
}

/**
 * A fetched piece on its way into storage. Errors from the parent's side while the
 * bytes stream are kept in `remoteError`, so the caller can tell a parent that broke
 * off from a local write that failed.
 */
export interface FetchedPiece {
  source: PieceSource;
  remoteError(): DfError | undefined;
  /** Frees the connection if the bytes were not (all) read, e.g. storage already had the piece. Idempotent. */
  discard(): void;
}

/**
 * Reusable buffers that socket chunks are gathered into before they go to storage:
 * one pwrite and one CRC call per buffer instead of per ~64 KiB socket read, and no
 * fresh allocation (and garbage) per piece. Storage finishes with each chunk (written,
 * CRC taken) before it asks for the next one, so a piece in flight needs one buffer.
 */
export class ChunkBuffers {
  readonly size: number;
  readonly #free: Buffer[] = [];
  readonly #keep: number;

  /** `keep`: how many idle buffers to hold on to (the pieces in flight at most). */
  constructor(size = DEFAULT_CHUNK_BYTES, keep = 16) {
    this.size = size;
    this.#keep = keep;
  }

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafe(this.size);
  }

  give(buffer: Buffer): void {
    if (this.#free.length < this.#keep) this.#free.push(buffer);
  }
}

/** Measured best on loopback (bench/transfer.mjs): fewer, larger writes win up to about here. */
const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/** GET /pieces/{taskId}/{n} on the parent's byte server; the body streams into storage. */
export async function fetchPieceHttp(
  pool: Pool,
  origin: string,
  piece: PieceRequest,
  signal: AbortSignal,
  buffers: ChunkBuffers,
): Promise<FetchedPiece> {
  const what = `piece ${piece.number} of task ${piece.taskId} from ${origin}`;
  let answer: Dispatcher.ResponseData;
  try {
    answer = await pool.request({
      path: piecePath(piece.taskId, piece.number),
      method: "GET",
      headers: { [HEADERS.hostId]: piece.hostId },
      signal,
    });
  } catch (error) {
    throw transportError(error, signal, what);
  }
  const { statusCode, headers, body } = answer;
  if (statusCode !== 200) {
    const text = await body.text().catch(() => "");
    throw errorFromAnswer(statusCode, headers, text, what);
  }
  const length = Number(headers["content-length"]);
  const digest = headers[HEADERS.digest];
  const mismatch =
    length !== piece.length
      ? `is ${String(headers["content-length"])} bytes, expected ${piece.length}`
      : digest !== undefined && digest !== piece.digest
        ? `has digest ${String(digest)}, but SyncPieces said ${piece.digest}`
        : undefined;
  if (mismatch) {
    body.destroy();
    throw new DfError("DATA_LOSS", `${what} ${mismatch}`, { reason: "piece-metadata-mismatch", details: { number: piece.number } });
  }
  let remote: DfError | undefined;
  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      yield* gather(body, buffers);
    } catch (error) {
      remote = transportError(error, signal, what);
      throw remote;
    } finally {
      // Left early (a failed write, an abort): drop the connection's remaining bytes.
      if (!body.readableEnded) body.destroy();
    }
  }
  return {
    source: chunks(),
    remoteError: () => remote,
    discard: () => {
      if (!body.readableEnded) body.destroy();
    },
  };
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
  if (!content || content.byteLength !== piece.length) {
    throw new DfError(
      "DATA_LOSS",
      `piece ${piece.number} of task ${piece.taskId} came with ${content?.byteLength ?? 0} bytes over DownloadPiece, expected ${piece.length}`,
      { reason: "piece-metadata-mismatch", details: { number: piece.number } },
    );
  }
  return { source: content, remoteError: () => undefined, discard: () => {} };
}

/** Copies the chunks of `source` into one reused buffer, yielding it each time it is full. */
async function* gather(source: AsyncIterable<Uint8Array>, buffers: ChunkBuffers): AsyncGenerator<Uint8Array, void, undefined> {
  const buffer = buffers.take();
  try {
    let held = 0;
    for await (const chunk of source) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        const n = Math.min(buffer.byteLength - held, chunk.byteLength - offset);
        buffer.set(chunk.subarray(offset, offset + n), held);
        held += n;
        offset += n;
        if (held === buffer.byteLength) {
          yield buffer;
          held = 0;
        }
      }
    }
    if (held > 0) yield buffer.subarray(0, held);
  } finally {
    buffers.give(buffer);
  }
}

/** What undici threw, as a DfError: the abort's own error when the signal fired. */
function transportError(error: unknown, signal: AbortSignal, what: string): DfError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    return isDfError(reason) ? reason : new DfError("CANCELLED", `${what} was cancelled`, { cause: reason });
  }
  const mapped = toDfError(error, "UNAVAILABLE");
  return new DfError(mapped.code === "INTERNAL" ? "UNAVAILABLE" : mapped.code, `${what}: ${mapped.message}`, {
    cause: error,
    reason: mapped.reason ?? "transport",
  });
}
