import { DfError, toDfError, type Logger } from "@df/interface";
import { pieceRange } from "@df/piece";
import { daemonUpload, serverStream } from "@df/rpc";
import type { Task as StoredTask } from "@df/storage";
import type { BytePool } from "./http/byte-pool.js";
import { fetchPieceGrpc, fetchPieceHttp, type ChunkBuffers, type FetchedPiece, type PieceRequest } from "./fetch-piece.js";
import type { Held, PeerClientPool, UploadClient } from "./peer-client-pool.js";
import type { ParentRef } from "./types.js";

export type LinkState = "syncing" | "synced" | "dropped";

/** What a link tells the run it belongs to. */
export interface LinkEvents {
  /** The parent holds piece `number` (announced on its SyncPieces stream). */
  holds(link: ParentLink, number: number): void;
  /** The stream ended (state `synced`) or failed (the link is then dropped). */
  changed(link: ParentLink): void;
}

// Smoothing of the per-parent throughput estimate: recent pieces count most.
const RATE_WEIGHT = 0.3;
const BUSY_BACKOFF_MS = 100;
const MAX_BUSY_BACKOFF_MS = 2000;

/**
 * One parent of one download: its SyncPieces stream (which pieces it holds, with their
 * digests), where its piece bytes are served, and how it has done so far.
 */
export class ParentLink {
  readonly ref: ParentRef;
  state: LinkState = "syncing";
  /** Our requests to it now. */
  inflight = 0;
  /** Bytes per ms over recent pieces; undefined before the first. */
  rate: number | undefined;
  /** No new request before this time (performance.now()): it said it was busy. */
  busyUntil = 0;
  /** Why it was dropped, once it is. */
  failure: DfError | undefined;
  readonly #digests = new Map<number, string>();
  readonly #stop = new AbortController();
  readonly #logger: Logger;
  #busyStreak = 0;
  #bytePort = 0;
  #byteIp: string;
  #upload: Held<UploadClient>;
  #bytes: Held<BytePool> | undefined;
  #syncing: Promise<void> | undefined;
  /** Opens the SyncPieces stream of a parent trusted to hold everything, once it is needed. */
  #deferredSync: (() => void) | undefined;

  constructor(
    ref: ParentRef,
    readonly pool: PeerClientPool,
    readonly buffers: ChunkBuffers,
    readonly forceGrpc: boolean,
    logger: Logger,
  ) {
    this.ref = ref;
    this.#byteIp = ref.ip;
    // A parent known to hold the whole task is asked for pieces before its SyncPieces
    // says where its bytes are served: at the byte port the scheduler gave.
    if (ref.holdsAll) this.#bytePort = ref.downloadPort;
    this.#upload = pool.upload(ref.ip, ref.port);
    this.#logger = logger.child("parent", { parentId: ref.peerId });
  }

  get peerId(): string {
    return this.ref.peerId;
  }

  get usable(): boolean {
    return this.state !== "dropped";
  }

  digestOf(number: number): string | undefined {
    return this.#digests.get(number);
  }

  /**
   * Opens SyncPieces for `interested` (empty: all) and feeds what arrives to `events`.
   * A parent the scheduler says holds the whole task (`ref.holdsAll`) is taken at its
   * word instead: its stream would only list every piece, and opening it costs the
   * first piece a round trip on both hosts. The stream opens when that word fails
   * (see `distrust`).
   */
  startSync(task: StoredTask, request: { hostId: string; peerId: string; interested: number[] }, events: LinkEvents, signal: AbortSignal): void {
    const open = (): void => {
      this.state = "syncing";
      this.#syncing = this.#sync(task, request, events, AbortSignal.any([signal, this.#stop.signal]));
    };
    if (!this.ref.holdsAll) return open();
    this.state = "synced";
    this.#deferredSync = open;
  }

  /** Taken to hold every piece, without a stream saying so (see `startSync`). */
  get trusted(): boolean {
    return this.#deferredSync !== undefined;
  }

  /**
   * It lacked a piece the scheduler said it holds: from now on its SyncPieces says what
   * it has (a parent that lost the whole task fails the stream and is dropped then).
   */
  distrust(): void {
    const open = this.#deferredSync;
    this.#deferredSync = undefined;
    if (open && this.usable) open();
  }

  async #sync(task: StoredTask, request: { hostId: string; peerId: string; interested: number[] }, events: LinkEvents, signal: AbortSignal): Promise<void> {
    try {
      const stream = serverStream(
        this.#upload.client,
        "syncPieces",
        daemonUpload.SyncPiecesRequest.create({
          hostId: request.hostId,
          peerId: request.peerId,
          taskId: task.id,
          interestedPieceNumbers: request.interested,
        }),
        { signal },
      );
      for await (const piece of stream) {
        this.#check(task, piece);
        if (piece.tcpPort !== undefined && piece.tcpPort > 0) this.#bytePort = piece.tcpPort;
        if (piece.ip) this.#byteIp = piece.ip;
        this.#digests.set(piece.number, piece.digest);
        events.holds(this, piece.number);
      }
      if (this.state === "syncing") this.state = "synced";
    } catch (error) {
      // An abort is ours (the download ended, or dropped this parent): nothing to say.
      if (!signal.aborted) {
        const failure = toDfError(error);
        this.#logger.warn("the parent's SyncPieces stream failed; it is dropped for this task", { taskId: task.id, error: failure.message, code: failure.code });
        this.drop(failure);
      }
    }
    events.changed(this);
  }

  /** The parent's announcement must agree with the task as stored here. */
  #check(task: StoredTask, piece: daemonUpload.SyncPiecesResponse): void {
    const range = pieceRange(piece.number, task.contentLength, task.pieceLength);
    if (range.offset !== piece.offset || range.length !== piece.length || !piece.digest.includes(":")) {
      throw new DfError(
        "DATA_LOSS",
        `parent ${this.peerId} announced piece ${piece.number} at ${piece.offset}+${piece.length} with digest "${piece.digest}", but the task's piece is at ${range.offset}+${range.length}`,
        { reason: "piece-metadata-mismatch", details: { taskId: task.id, number: piece.number } },
      );
    }
  }

  /** Starts fetching a piece's bytes over the parent's byte port, or DownloadPiece when it has none. */
  fetch(piece: PieceRequest, signal: AbortSignal): Promise<FetchedPiece> {
    if (this.forceGrpc || this.#bytePort === 0) return fetchPieceGrpc(this.#upload.client, piece, signal);
    this.#bytes ??= this.pool.bytes(this.#byteIp, this.#bytePort);
    return fetchPieceHttp(this.#bytes.client, piece, signal, this.buffers);
  }

  succeeded(bytes: number, costMs: number): void {
    const rate = bytes / Math.max(costMs, 0.001);
    this.rate = this.rate === undefined ? rate : this.rate * (1 - RATE_WEIGHT) + rate * RATE_WEIGHT;
    this.#busyStreak = 0;
  }

  /** It refused a request as busy: back off, longer each time in a row. */
  busy(): void {
    const delay = Math.min(MAX_BUSY_BACKOFF_MS, BUSY_BACKOFF_MS * 2 ** this.#busyStreak++);
    this.busyUntil = performance.now() + delay * (0.5 + Math.random() / 2);
  }

  /** No further use for this task: stops its stream; requests in flight finish or fail on their own. */
  drop(failure: DfError): void {
    if (this.state === "dropped") return;
    this.state = "dropped";
    this.failure = failure;
    this.#stop.abort(failure);
  }

  /** Stops the stream and waits for it; gives the clients back to the pool. */
  async close(): Promise<void> {
    this.#stop.abort(new DfError("CANCELLED", "the download no longer needs this parent"));
    await this.#syncing;
    this.#upload.release();
    this.#bytes?.release();
  }
}
