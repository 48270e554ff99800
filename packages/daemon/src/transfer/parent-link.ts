import { DfError, toDfError, type Logger } from "@df/interface";
import { pieceRange } from "@df/piece";
import { daemonUpload, serverStream, unary } from "@df/rpc";
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

// Smoothing of the per-parent throughput estimate: recent windows count most.
const RATE_WEIGHT = 0.3;
/** Bytes are counted over windows this long; shorter ones are too noisy on a shaped link. */
const RATE_WINDOW_MS = 500;
const BUSY_BACKOFF_MS = 100;
const MAX_BUSY_BACKOFF_MS = 2000;
const SLOW_BACKOFF_MS = 1000;
const MAX_SLOW_BACKOFF_MS = 8000;
/** Requests to a parent not measured yet: enough to learn its rate, not enough to pile onto a busy seed. */
const PROBE_REQUESTS = 2;
/**
 * How long the bytes in flight to one parent should last at its measured rate: enough
 * to keep its link busy across a request's round trip, no more. More only queues
 * behind the other children of a shared parent (a seed serving eight children at
 * 100 Mbit/s took 14–24 s per 4 MiB piece when each kept eight in flight).
 */
const TARGET_INFLIGHT_MS = 1000;

/**
 * One parent of one download: its SyncPieces stream (which pieces it holds, with their
 * digests), where its piece bytes are served, and how it has done so far.
 */
/** How fast a long pause between a parent's bytes is forgotten. */
const GAP_HALF_LIFE_MS = 10_000;

export class ParentLink {
  readonly ref: ParentRef;
  state: LinkState = "syncing";
  /** Our requests to it now. */
  inflight = 0;
  /** Bytes per ms it delivered to us over recent windows while we had requests on it; undefined before the first window. */
  rate: number | undefined;
  /** performance.now() of the last byte it sent us (or of the first request, before any). */
  lastByteAt = performance.now();
  /** Bytes it sent us in this download. */
  received = 0;
  /**
   * The longest pause between its bytes while asked, recently (halving every
   * GAP_HALF_LIFE_MS): a relay waiting on its own upstream, or a loaded host, pauses
   * longer, and its idle window grows with that.
   */
  #gap = 0;
  #gapAt = 0;
  /** performance.now() of its last answer to a liveness probe (0: none). */
  answeredAt = 0;
  /** performance.now() the probe in flight was sent (0: none in flight). */
  probeSentAt = 0;
  /** No new request before this time (performance.now()): it said it was busy. */
  busyUntil = 0;
  /** Why it was dropped, once it is. */
  failure: DfError | undefined;
  readonly #digests = new Map<number, string>();
  /** Pieces it announced as arriving and not yet as held, each with the count of that announcement. */
  readonly #arriving = new Map<number, number>();
  #announcements = 0;
  #withdrawals = 0;
  /** Pieces not to ask of it before the given time (a seed spreads them through other children). */
  readonly #avoided = new Map<number, number>();
  readonly #stop = new AbortController();
  readonly #logger: Logger;
  #busyStreak = 0;
  #slowStreak = 0;
  #windowStart = 0;
  #windowBytes = 0;
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

  /** Which announcement of piece `number` as arriving is the latest (undefined: not arriving). */
  arrivalOf(number: number): number | undefined {
    return this.#arriving.get(number);
  }

  /**
   * Its arrival of piece `number` (announcement `arrival`) failed: unless it announced
   * the piece again since, it is not asked for it until it does. Returns how many of its
   * arrivals failed so far, and whether this one still stood (the piece is withdrawn).
   */
  withdraw(number: number, arrival: number): { failures: number; withdrawn: boolean } {
    const withdrawn = this.#arriving.get(number) === arrival;
    if (withdrawn) {
      this.#arriving.delete(number);
      this.#digests.delete(number);
    }
    return { failures: ++this.#withdrawals, withdrawn };
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
          batched: true,
          arriving: true,
        }),
        { signal },
      );
      for await (const message of stream) {
        if (message.tcpPort !== undefined && message.tcpPort > 0) this.#bytePort = message.tcpPort;
        if (message.ip) this.#byteIp = message.ip;
        // A parent that predates batches announces one piece per message, in the message itself.
        const pieces = message.pieces.length > 0 ? message.pieces : [message];
        for (const piece of pieces) {
          this.#check(task, piece);
          this.#digests.set(piece.number, piece.digest);
          if ("arriving" in piece && piece.arriving) this.#arriving.set(piece.number, ++this.#announcements);
          else this.#arriving.delete(piece.number);
          events.holds(this, piece.number);
        }
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
  #check(task: StoredTask, piece: Pick<daemonUpload.SyncedPiece, "number" | "offset" | "length" | "digest">): void {
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

  /** A request to it starts: time with nothing asked of it does not count against its rate. */
  requested(): void {
    if (this.inflight++ > 0) return;
    const now = performance.now();
    this.#windowStart = now;
    this.#windowBytes = 0;
    this.lastByteAt = now;
  }

  /** A request to it ended, whatever the outcome. */
  settled(): void {
    // Idle from now: a short busy spell (a fast parent's burst) still tells its rate.
    if (--this.inflight === 0) this.#sample(performance.now(), 0);
  }

  /** Bytes of a piece arrived from it (0: an answer's head). */
  bytes(count: number, now: number): void {
    const gap = now - this.lastByteAt;
    const decayed = this.#gap * 0.5 ** ((now - this.#gapAt) / GAP_HALF_LIFE_MS);
    this.#gap = Math.max(gap, decayed);
    this.#gapAt = now;
    this.lastByteAt = now;
    this.received += count;
    this.#windowBytes += count;
    this.#sample(now, RATE_WINDOW_MS);
  }

  /**
   * Asks it something cheap (StatTask of the task) to learn whether its process is alive:
   * a parent that answers while it sends us no bytes is queueing our requests, or its
   * link is congested; one that does not answer is stopped, hung or cut off. Any answer
   * counts, a refusal too; only silence does not.
   */
  probe(taskId: string, timeoutMs: number): void {
    if (this.probeSentAt !== 0 || this.state === "dropped") return;
    const sent = performance.now();
    this.probeSentAt = sent;
    const answered = (): void => {
      this.answeredAt = performance.now();
    };
    unary(this.#upload.client, "statTask", daemonUpload.StatTaskRequest.create({ taskId }), { signal: this.#stop.signal, deadlineMs: timeoutMs })
      .then(answered, (error: unknown) => {
        const { code } = toDfError(error);
        if (code !== "DEADLINE_EXCEEDED" && code !== "UNAVAILABLE" && code !== "CANCELLED") answered();
      })
      .finally(() => {
        if (this.probeSentAt === sent) this.probeSentAt = 0;
      });
  }

  /** The recent longest pause between its bytes (see #gap), decayed to `now`. */
  recentGap(now: number): number {
    return this.#gap * 0.5 ** ((now - this.#gapAt) / GAP_HALF_LIFE_MS);
  }

  /** Ends the rate window once it lasted `minMs` and holds bytes. */
  #sample(now: number, minMs: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < minMs || elapsed <= 0 || this.#windowBytes === 0) return;
    const rate = this.#windowBytes / elapsed;
    this.rate = this.rate === undefined ? rate : this.rate * (1 - RATE_WEIGHT) + rate * RATE_WEIGHT;
    this.#windowStart = now;
    this.#windowBytes = 0;
  }

  /**
   * Requests worth having on it at once for pieces of `pieceLength`: the pieces its
   * measured rate delivers in TARGET_INFLIGHT_MS, rounded up from a half, so that the
   * next request is queued when one ends on a fast link; one on a link where a piece
   * takes two seconds or more (a second request there only splits its bandwidth and
   * delays both pieces); at most `max`.
   */
  requestLimit(pieceLength: number, max: number): number {
    if (this.rate === undefined) return Math.min(PROBE_REQUESTS, max);
    return Math.max(1, Math.min(max, Math.ceil((this.rate * TARGET_INFLIGHT_MS) / pieceLength + 0.5)));
  }

  /** It asked us to take piece `number` elsewhere: not before `until`. */
  avoid(number: number, until: number): void {
    this.#avoided.set(number, until);
  }

  /** When the first piece it asked us to take elsewhere may be asked of it again; undefined when none. */
  nextAvoidEnd(now: number): number | undefined {
    let first: number | undefined;
    for (const [number, until] of this.#avoided) {
      if (until <= now) this.#avoided.delete(number);
      else first = Math.min(first ?? until, until);
    }
    return first;
  }

  avoids(number: number, now: number): boolean {
    const until = this.#avoided.get(number);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#avoided.delete(number);
    return false;
  }

  /** One of its requests completed: a slow spell (if any) is over. */
  succeeded(): void {
    this.#busyStreak = 0;
    this.#slowStreak = 0;
  }

  /**
   * A request to it went silent: ask nothing more of it for a while, longer each time
   * in a row. It stays a parent (slow is not dead; a seed shared by many children is
   * slow per child) and its other requests go on.
   */
  demote(): void {
    const delay = Math.min(MAX_SLOW_BACKOFF_MS, SLOW_BACKOFF_MS * 2 ** this.#slowStreak++);
    this.busyUntil = Math.max(this.busyUntil, performance.now() + delay);
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
