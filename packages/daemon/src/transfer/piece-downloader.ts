import { DfError, noopLogger, type Logger, type TrafficShaper } from "@df/interface";
import { DownloadRun, type RunSettings } from "./download-run.js";
import { ChunkBuffers } from "./fetch-piece.js";
import type { PeerClientPool } from "./peer-client-pool.js";
import type { PieceDownloader, PieceDownloadOutcome, PieceDownloadRequest } from "./types.js";

export interface PeerPieceDownloaderOptions {
  /** Connections to parents, shared by every task; the daemon closes it on stop. */
  pool: PeerClientPool;
  /** Pieces in flight per task (default 8, as upstream's concurrent_piece_count). */
  concurrency?: number;
  /** Longest one piece may take from a parent before that parent counts as failed (default 30 s). */
  pieceTimeoutMs?: number;
  /** No piece finished for this long while pieces remain: give up on these parents (default 30 s). */
  stallTimeoutMs?: number;
  /**
   * `auto` (default): piece bytes from the parent's byte port when it announces one,
   * else DownloadPiece; `grpc`: always DownloadPiece (for comparison and fallback).
   */
  transport?: "auto" | "grpc";
  /** The traffic shaper: each piece waits on `acquire` before it starts and is `record`ed after. */
  shaper?: Pick<TrafficShaper, "acquire" | "record">;
  logger?: Logger;
  /**
   * Bytes gathered per storage write on the byte transport (default 1 MiB, the best
   * measured on loopback); one such buffer per piece in flight.
   */
  chunkBytes?: number;
  /** In [0, 1): the tie-break between equally good parents; tests fix it. */
  random?: () => number;
  /**
   * Write pieces whose digest the parent announced with cut-through, so this host's own
   * children get their bytes while they arrive (default true; `upload.cutThrough`).
   */
  cutThrough?: boolean;
}

/**
 * Fills stored tasks from parents (see DownloadRun for how). One instance serves every
 * task of the daemon; each `download` call is independent and may run at once with
 * others. It stores pieces but does not mark the task complete: the conductor does,
 * after any whole-task checks.
 */
export class PeerPieceDownloader implements PieceDownloader {
  readonly #settings: RunSettings;

  constructor(options: PeerPieceDownloaderOptions) {
    const concurrency = positive("concurrency", options.concurrency ?? 8);
    const logger = (options.logger ?? noopLogger).child("transfer");
    // Shared by every task; idle ones are kept for one task's pieces in flight.
    const buffers = new ChunkBuffers(options.chunkBytes === undefined ? undefined : positive("chunkBytes", options.chunkBytes), concurrency);
    if (!buffers.aligned) logger.warn("no page-aligned memory for piece buffers (WebAssembly off, or no address space left): pieces are written through the page cache");
    this.#settings = {
      pool: options.pool,
      buffers,
      concurrency,
      pieceTimeoutMs: positive("pieceTimeoutMs", options.pieceTimeoutMs ?? 30_000),
      stallTimeoutMs: positive("stallTimeoutMs", options.stallTimeoutMs ?? 30_000),
      forceGrpc: options.transport === "grpc",
      cutThrough: options.cutThrough ?? true,
      shaper: options.shaper,
      logger,
      random: options.random ?? Math.random,
    };
  }

  download(request: PieceDownloadRequest): Promise<PieceDownloadOutcome> {
    return new DownloadRun(this.#settings, request).run();
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new DfError("INVALID_ARGUMENT", `${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}
