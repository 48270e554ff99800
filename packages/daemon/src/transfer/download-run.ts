import { DfError, toDfError, type Logger, type TrafficShaper } from "@df/interface";
import { pieceRange } from "@df/piece";
import type { Task as StoredTask } from "@df/storage";
import type { ChunkBuffers, FetchedPiece } from "./fetch-piece.js";
import { ParentLink, type LinkEvents } from "./parent-link.js";
import type { PeerClientPool } from "./peer-client-pool.js";
import type { DownloadedPiece, PieceDownloadOutcome, PieceDownloadRequest } from "./types.js";

/** The downloader's settings, defaults applied. */
export interface RunSettings {
  pool: PeerClientPool;
  buffers: ChunkBuffers;
  concurrency: number;
  pieceTimeoutMs: number;
  stallTimeoutMs: number;
  forceGrpc: boolean;
  shaper: Pick<TrafficShaper, "acquire" | "record"> | undefined;
  logger: Logger;
  random: () => number;
}

type Failure =
  | { kind: "busy" }
  /** Asked for before its SyncPieces listed it, and the parent does not have it: no fault. */
  | { kind: "unheld" }
  | { kind: "parent"; error: DfError }
  | { kind: "fatal"; error: DfError };
type Stage = "shaper" | "fetch" | "write";

/**
 * One call of PeerPieceDownloader.download: fills the wanted pieces of a stored task
 * from the given parents. A SyncPieces stream per parent says who holds what; up to
 * `concurrency` pieces are fetched at once, each from the holder expected to deliver it
 * soonest; a parent that fails a piece is reported and not used again in this run.
 */
export class DownloadRun implements LinkEvents {
  readonly #settings: RunSettings;
  readonly #request: PieceDownloadRequest;
  readonly #task: StoredTask;
  readonly #logger: Logger;
  /** Wanted pieces not stored yet. */
  readonly #missing = new Set<number>();
  /** Missing pieces some usable parent announced, and who. */
  readonly #holders = new Map<number, Set<ParentLink>>();
  readonly #inflight = new Map<number, Promise<void>>();
  readonly #links: ParentLink[] = [];
  /** Ends everything the run started: streams and piece requests. */
  readonly #stop = new AbortController();
  #lastProgress = performance.now();
  #fatal: DfError | undefined;
  #pending = false;
  #wake: (() => void) | undefined;

  constructor(settings: RunSettings, request: PieceDownloadRequest) {
    this.#settings = settings;
    this.#request = request;
    this.#task = request.task;
    this.#logger = settings.logger.child("download", { taskId: request.task.id, peerId: request.peerId });
  }

  async run(): Promise<PieceDownloadOutcome> {
    const { signal } = this.#request;
    if (signal?.aborted) throw this.#cancelled();
    for (const number of this.#wanted()) if (!this.#task.hasPiece(number)) this.#missing.add(number);
    if (this.#missing.size === 0) return { kind: "complete" };

    const lease = this.#task.acquire();
    const unsubscribe = this.#task.onPiece((piece) => this.#stored(piece.number));
    const onAbort = (): void => this.#notify();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      this.#openLinks();
      return await this.#loop();
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#stop.abort(new DfError("CANCELLED", `the download of task ${this.#task.id} from parents ended`));
      // Nothing outlives the call: every request and stream has settled when it returns.
      await Promise.allSettled([...this.#inflight.values()]);
      await Promise.allSettled(this.#links.map((link) => link.close()));
      unsubscribe();
      lease.release();
    }
  }

  holds(link: ParentLink, number: number): void {
    if (!link.usable || !this.#missing.has(number)) return;
    let holders = this.#holders.get(number);
    if (!holders) this.#holders.set(number, (holders = new Set()));
    holders.add(link);
    this.#notify();
  }

  changed(link: ParentLink): void {
    if (!link.usable) this.#forget(link);
    this.#notify();
  }

  #wanted(): Iterable<number> {
    const { pieces } = this.#request;
    if (pieces) return [...new Set(pieces)].sort((a, b) => a - b);
    const count = this.#task.pieceCount;
    return (function* () {
      for (let n = 0; n < count; n++) yield n;
    })();
  }

  #openLinks(): void {
    // Empty means "all" on the wire: no need to list every number of a fresh task.
    const interested = this.#missing.size === this.#task.pieceCount ? [] : [...this.#missing];
    const seen = new Set<string>();
    for (const ref of this.#request.parents) {
      if (seen.has(ref.peerId)) continue;
      seen.add(ref.peerId);
      const link = new ParentLink(ref, this.#settings.pool, this.#settings.buffers, this.#settings.forceGrpc, this.#logger);
      this.#links.push(link);
      link.startSync(this.#task, { hostId: this.#request.hostId, peerId: this.#request.peerId, interested }, this, this.#stop.signal);
      if (link.trusted) for (const number of this.#missing) this.holds(link, number);
    }
  }

  async #loop(): Promise<PieceDownloadOutcome> {
    for (;;) {
      if (this.#request.signal?.aborted) throw this.#cancelled();
      if (this.#fatal) throw this.#fatal;
      if (this.#missing.size === 0) return { kind: "complete" };
      const retryAt = this.#dispatch();
      if (this.#inflight.size === 0 && retryAt === undefined && this.#links.every((link) => link.state !== "syncing")) {
        return this.#exhausted(false);
      }
      const now = performance.now();
      const stallAt = this.#lastProgress + this.#settings.stallTimeoutMs;
      if (now >= stallAt) return this.#exhausted(true);
      await this.#sleep(Math.min(stallAt, retryAt ?? Number.POSITIVE_INFINITY) - now);
    }
  }

  /**
   * Starts pieces until `concurrency` are in flight. Returns when a parent that is busy
   * now could take a piece nobody else can, so the loop comes back then.
   */
  #dispatch(): number | undefined {
    const { concurrency } = this.#settings;
    if (this.#inflight.size >= concurrency) return undefined;
    const now = performance.now();
    const fallbackRate = this.#bestRate();
    let retryAt: number | undefined;
    for (const [number, holders] of this.#holders) {
      if (this.#inflight.size >= concurrency) break;
      if (this.#inflight.has(number)) continue;
      let best: ParentLink | undefined;
      let bestScore = Number.POSITIVE_INFINITY;
      for (const link of holders) {
        if (link.busyUntil > now) {
          retryAt = Math.min(retryAt ?? link.busyUntil, link.busyUntil);
          continue;
        }
        // Expected time to deliver one more piece: our queue on it over its speed. A
        // parent not measured yet counts as fast as the best, so it gets tried; the
        // random factor spreads ties across parents.
        const score = ((link.inflight + 1) / (link.rate ?? fallbackRate)) * (1 + 0.25 * this.#settings.random());
        if (score < bestScore) {
          best = link;
          bestScore = score;
        }
      }
      if (best) this.#start(number, best);
    }
    return retryAt;
  }

  #bestRate(): number {
    let best = 0;
    for (const link of this.#links) if (link.rate !== undefined && link.rate > best) best = link.rate;
    return best > 0 ? best : 1;
  }

  #start(number: number, link: ParentLink): void {
    const attempt = this.#attempt(number, link).finally(() => {
      this.#inflight.delete(number);
      this.#notify();
    });
    this.#inflight.set(number, attempt);
  }

  async #attempt(number: number, link: ParentLink): Promise<void> {
    const task = this.#task;
    const range = pieceRange(number, task.contentLength, task.pieceLength);
    const digest = link.digestOf(number);
    const { pieceTimeoutMs, shaper } = this.#settings;
    const deadline = new AbortController();
    const signal = AbortSignal.any([this.#stop.signal, deadline.signal]);
    let timer: NodeJS.Timeout | undefined;
    let stage: Stage = "shaper";
    let fetched: FetchedPiece | undefined;
    let counted = false;
    try {
      // The wait for bandwidth is this host's own: it counts toward neither the piece's
      // timeout nor its cost (which the scheduler reads as the parent's speed).
      await shaper?.acquire(task.id, range.length, { signal: this.#stop.signal });
      timer = setTimeout(() => {
        deadline.abort(
          new DfError("DEADLINE_EXCEEDED", `piece ${number} of task ${task.id} took more than ${pieceTimeoutMs} ms from parent ${link.peerId}`, {
            reason: "piece-timeout",
            details: { taskId: task.id, number, parentId: link.peerId },
          }),
        );
      }, pieceTimeoutMs);
      link.inflight++;
      counted = true;
      stage = "fetch";
      const started = performance.now();
      fetched = await link.fetch({ taskId: task.id, number, length: range.length, digest, hostId: this.#request.hostId }, signal);
      stage = "write";
      const piece = await task.writePiece(number, fetched.source, { digest: fetched.digest, signal });
      const costMs = performance.now() - started;
      link.succeeded(range.length, costMs);
      shaper?.record(task.id, range.length);
      this.#stored(number);
      this.#finished({ number, offset: piece.offset, length: piece.length, digest: piece.digest, parentId: link.peerId, costMs });
    } catch (error) {
      // The run is over (done, abandoned or cancelled): not the parent's fault.
      if (this.#stop.signal.aborted) return;
      this.#failed(number, link, this.#classify(error, stage, fetched, deadline.signal, digest === undefined));
    } finally {
      clearTimeout(timer);
      fetched?.discard();
      if (counted) link.inflight--;
    }
  }

  #classify(error: unknown, stage: Stage, fetched: FetchedPiece | undefined, deadline: AbortSignal, unannounced: boolean): Failure {
    if (deadline.aborted) return { kind: "parent", error: deadline.reason as DfError };
    const failure = toDfError(error);
    const remote = fetched?.remoteError();
    // The daemon is stopping (its connections closed): no parent is to blame.
    if (failure.reason === "pool-closed" || remote?.reason === "pool-closed") return { kind: "fatal", error: remote ?? failure };
    if (stage === "shaper") return { kind: "fatal", error: failure };
    if (stage === "fetch") {
      if (failure.code === "RESOURCE_EXHAUSTED" && failure.reason === "upload-busy") return { kind: "busy" };
      if (unannounced && failure.code === "NOT_FOUND") return { kind: "unheld" };
      return { kind: "parent", error: failure };
    }
    if (remote) return { kind: "parent", error: remote };
    // The bytes arrived but are not the piece: the parent's fault. Anything else went
    // wrong here (disk full, store closed, task deleted) and no parent can fix it.
    if (failure.code === "DATA_LOSS" && (failure.reason === "piece-digest-mismatch" || failure.reason === "piece-length-mismatch")) {
      return { kind: "parent", error: failure };
    }
    return { kind: "fatal", error: failure };
  }

  #failed(number: number, link: ParentLink, failure: Failure): void {
    if (failure.kind === "busy") {
      link.busy();
      return;
    }
    if (failure.kind === "unheld") {
      this.#unannounced(link);
      return;
    }
    if (failure.kind === "fatal") {
      this.#fatal ??= failure.error;
      this.#notify();
      return;
    }
    const { error } = failure;
    this.#logger.warn("a piece from a parent failed; the parent is not used again for this task", {
      number,
      parentId: link.peerId,
      code: error.code,
      reason: error.reason,
      error: error.message,
    });
    try {
      this.#request.events.pieceFailed(number, link.peerId, error, true);
    } catch (listenerError) {
      this.#logger.warn("a pieceFailed listener threw", { error: String(listenerError) });
    }
    link.drop(error);
    this.#forget(link);
  }

  #finished(piece: DownloadedPiece): void {
    try {
      this.#request.events.pieceFinished(piece);
    } catch (error) {
      this.#logger.warn("a pieceFinished listener threw", { error: String(error) });
    }
  }

  /** A wanted piece landed in storage (from us or any other writer). */
  #stored(number: number): void {
    if (!this.#missing.delete(number)) return;
    this.#holders.delete(number);
    this.#lastProgress = performance.now();
    this.#notify();
  }

  /**
   * The scheduler's word that `link` holds the whole task was wrong (it lost the task or
   * some pieces): from now on only what its SyncPieces lists is asked of it.
   */
  #unannounced(link: ParentLink): void {
    for (const [number, holders] of this.#holders) {
      if (link.digestOf(number) === undefined && holders.delete(link) && holders.size === 0) this.#holders.delete(number);
    }
    link.distrust();
  }

  #forget(link: ParentLink): void {
    for (const [number, holders] of this.#holders) {
      if (holders.delete(link) && holders.size === 0) this.#holders.delete(number);
    }
  }

  #exhausted(stalled: boolean): PieceDownloadOutcome {
    // After a stall every parent is suspect: the scheduler should offer others.
    const failedParents = this.#links.filter((link) => stalled || !link.usable).map((link) => link.peerId);
    this.#logger.info(stalled ? "no piece came from any parent for the stall timeout" : "the parents hold none of the missing pieces", {
      missing: this.#missing.size,
      parents: this.#links.length,
      failedParents,
      stallTimeoutMs: this.#settings.stallTimeoutMs,
    });
    return { kind: "parents-exhausted", missing: this.#missing.size, failedParents };
  }

  #cancelled(): DfError {
    const reason: unknown = this.#request.signal?.reason;
    return new DfError("CANCELLED", `the download of task ${this.#task.id} from parents was cancelled`, {
      cause: reason,
      details: { taskId: this.#task.id },
    });
  }

  #notify(): void {
    this.#pending = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Waits for news (a piece, a parent, an abort) or `ms`, whichever comes first. */
  async #sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = setTimeout(resolve, Math.max(0, Math.ceil(ms)));
    });
    clearTimeout(timer);
    this.#wake = undefined;
    this.#pending = false;
  }
}
