import { DfError, isDfError, toDfError, type Logger, type TrafficShaper } from "@df/interface";
import { pieceRange } from "@df/piece";
import type { Task as StoredTask } from "@df/storage";
import type { ChunkBuffers, FetchedPiece } from "./fetch-piece.js";
import { ParentLink, type LinkEvents } from "./parent-link.js";
import type { PeerClientPool } from "./peer-client-pool.js";
import type { DownloadedPiece, ParentRef, PieceDownloadOutcome, PieceDownloadRequest } from "./types.js";

/** The downloader's settings, defaults applied. */
export interface RunSettings {
  pool: PeerClientPool;
  buffers: ChunkBuffers;
  concurrency: number;
  pieceTimeoutMs: number;
  stallTimeoutMs: number;
  forceGrpc: boolean;
  cutThrough: boolean;
  shaper: Pick<TrafficShaper, "acquire" | "record"> | undefined;
  logger: Logger;
  random: () => number;
}

type Failure =
  | { kind: "busy" }
  /** A seed sends this piece (and `others`) to other children just now: ask it for another one. */
  | { kind: "spread"; others: readonly number[] }
  /** No byte for the parent's idle window: slow or stuck, not proven bad. */
  | { kind: "silent"; error: DfError }
  /** Asked for before its SyncPieces listed it, and the parent does not have it: no fault. */
  | { kind: "unheld" }
  /** It announced the piece as arriving and that arrival failed there: no fault of its own. */
  | { kind: "withdrawn"; arrival: number }
  | { kind: "parent"; error: DfError }
  | { kind: "fatal"; error: DfError };
type Stage = "shaper" | "fetch" | "write";

/** One piece request in flight to one parent. */
interface Attempt {
  readonly number: number;
  readonly link: ParentLink;
  readonly length: number;
  readonly started: number;
  /** Ends this request alone (it went silent, or was handed to a faster parent). */
  readonly abort: AbortController;
  /** Body bytes that arrived so far. */
  bytes: number;
  lastByteAt: number;
  /** Set once the request is on the wire (after the shaper's wait, which is ours, not the parent's). */
  sent: boolean;
  done?: Promise<void>;
}

/**
 * A request with no byte for this long (at least; it scales with how slowly its parent
 * sends) is stuck, not slow. A couple of seconds, as a swarm client waits, not the
 * tens of seconds that a whole 4 MiB piece may take from a busy seed.
 */
const IDLE_FLOOR_MS = 2000;
/** The wait for the first byte of a parent not measured yet (it may have to connect). */
const FIRST_BYTE_MS = 5000;
/** Read size the idle window is scaled by: a request is stuck after ~16 reads' worth of silence. */
const IDLE_READS_BYTES = 16 * 64 * 1024;
/** A parent is stuck after this many times the longest pause it recently made between bytes. */
const IDLE_GAP_FACTOR = 3;
/** Silence after which a parent is asked whether it is alive (see ParentLink.probe), and how long it has to answer. */
const PROBE_AFTER_MS = 1000;
const PROBE_TIMEOUT_MS = 1000;
/**
 * The idle window of a parent that answered a probe during its silence: alive, so its
 * silence is queueing or a congested link (a TCP flow backing off after drops can
 * pause for seconds), not a stop. Cut after this all the same, capped by pieceTimeout.
 */
const ALIVE_IDLE_MS = 10_000;
/**
 * While fewer than MAX_PARENTS are usable, new parents are asked of the scheduler first
 * this soon, then, each time an ask brings none, twice as late up to REFRESH_INTERVAL_MS.
 * Peers that start together register one after another, so the first ones are handed
 * only the seed; asking again soon is how they learn of the others and start trading
 * (on the shaped testbed, 2 s sooner than after a fixed 3 s). Each ask that finds
 * nobody new backs off, so a full or lonely swarm costs the scheduler little.
 */
const REFRESH_FIRST_MS = 500;
const REFRESH_INTERVAL_MS = 3000;
/** Sooner when no byte has come from any parent for this long. */
const STARVING_MS = 1500;
/** Parents kept at once; past this no more are asked for. */
const MAX_PARENTS = 8;
/** Pieces of a spread refusal read at most (see spreadingOf). */
const MAX_SPREADING_LISTED = 1024;
/** A piece a seed is spreading through another child is not asked of it again for this long. */
const SPREAD_AVOID_MS = 1000;
/**
 * Failed arrivals a parent is forgiven per task: an honest relay's upstream fails now
 * and then; one that keeps announcing pieces it then cuts off wastes our requests.
 */
const MAX_WITHDRAWALS = 8;
/** How often requests in flight are checked for silence. */
const WATCH_TICK_MS = 250;

/**
 * One call of PeerPieceDownloader.download: fills the wanted pieces of a stored task
 * from the given parents, swarm style. A SyncPieces stream per parent says who holds
 * what. Each parent gets as many requests as its measured rate keeps busy (two while
 * it is unmeasured); each free slot takes the rarest missing piece that parent holds,
 * ties broken at random, so that children of one seed fetch different pieces and can
 * trade them. Progress is counted in bytes: a request that stays silent is cut and its
 * parent rested (not dropped); in the end a piece stuck on a slow parent is handed to
 * an idle faster one. While pieces are missing, more parents are asked for (peers that
 * gained pieces since). A parent that sends bad bytes or refuses is dropped.
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
  readonly #inflight = new Map<number, Attempt>();
  readonly #links: ParentLink[] = [];
  /** Parents whose last request went silent and that sent no byte since. */
  readonly #silent = new Set<ParentLink>();
  /** Ends everything the run started: streams and piece requests. */
  readonly #stop = new AbortController();
  /** performance.now() of the last byte from any parent (or of the start). */
  #lastProgress = performance.now();
  #fatal: DfError | undefined;
  #pending = false;
  #wake: (() => void) | undefined;
  /**
   * The loop's one deadline timer, kept across wakes: news wakes the loop many times a
   * second (every piece a parent announces), and a timer made and cleared per wake cost
   * more CPU than the loop itself. Replaced only when a sooner deadline comes up.
   */
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #refreshing: Promise<void> | undefined;
  #lastWatchAt = performance.now();
  #lastRefresh = performance.now();
  #refreshInterval = REFRESH_FIRST_MS;

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
      this.#addParents(this.#request.parents);
      return await this.#loop();
    } finally {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      signal?.removeEventListener("abort", onAbort);
      this.#stop.abort(new DfError("CANCELLED", `the download of task ${this.#task.id} from parents ended`));
      // Nothing outlives the call: every request and stream has settled when it returns.
      await Promise.allSettled([...this.#inflight.values()].map((attempt) => attempt.done));
      await this.#refreshing;
      await Promise.allSettled(this.#links.map((link) => link.close()));
      unsubscribe();
      lease.release();
    }
  }

  holds(link: ParentLink, number: number): void {
    if (!link.usable || !this.#missing.has(number)) return;
    let holders = this.#holders.get(number);
    if (!holders) this.#holders.set(number, (holders = new Set()));
    // Known already (announced arriving, now held): nothing new to plan with.
    if (holders.has(link)) return;
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

  /** Opens links to the parents not linked yet. */
  #addParents(parents: readonly ParentRef[]): void {
    // Empty means "all" on the wire: no need to list every number of a fresh task.
    const interested = this.#missing.size === this.#task.pieceCount ? [] : [...this.#missing];
    for (const ref of parents) {
      if (this.#links.some((link) => link.peerId === ref.peerId)) continue;
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
      const now = performance.now();
      this.#watchSilence(now);
      this.#maybeRefresh(now);
      const retryAt = this.#dispatch(now);
      // Every parent that could serve went silent: a stopped or cut-off parent, noticed
      // after its idle window instead of the whole stall timeout. The scheduler is asked
      // for others (or sends this peer to the source) with the silent ones blocked.
      if (this.#refreshing === undefined && this.#onlySilentCanServe()) return this.#exhausted(true, [...this.#silent]);
      if (
        this.#inflight.size === 0 &&
        retryAt === undefined &&
        this.#refreshing === undefined &&
        this.#links.every((link) => link.state !== "syncing")
      ) {
        return this.#exhausted(false);
      }
      const stallAt = this.#lastProgress + this.#settings.stallTimeoutMs;
      if (now >= stallAt) return this.#exhausted(true);
      const tick = this.#inflight.size > 0 ? now + WATCH_TICK_MS : Number.POSITIVE_INFINITY;
      await this.#sleep(Math.min(stallAt, retryAt ?? Number.POSITIVE_INFINITY, tick, this.#nextRefreshAt()) - now);
    }
  }

  /**
   * Fills free request slots: each parent with room (its rate-fitted limit, and the
   * task's `concurrency` in all) takes the rarest missing piece it holds, fastest
   * parents first, one piece per parent per pass so that load spreads. A parent with
   * room but nothing unclaimed to give may take over a piece stuck on a much slower
   * parent (the endgame). Returns when a resting parent is usable again.
   */
  #dispatch(now: number): number | undefined {
    const { concurrency } = this.#settings;
    let retryAt: number | undefined;
    const open: ParentLink[] = [];
    for (const link of this.#links) {
      if (!link.usable) continue;
      if (link.busyUntil > now) {
        retryAt = Math.min(retryAt ?? link.busyUntil, link.busyUntil);
        continue;
      }
      // A piece it told us to take elsewhere may be wanted of it again later.
      const avoidEnd = link.nextAvoidEnd(now);
      if (avoidEnd !== undefined) retryAt = Math.min(retryAt ?? avoidEnd, avoidEnd);
      open.push(link);
    }
    if (open.length === 0 || this.#inflight.size >= concurrency) return retryAt;
    const fallbackRate = this.#bestRate();
    const pieceLength = this.#task.pieceLength;
    // Expected time to deliver one more piece: our queue on it over its speed. A parent
    // not measured yet counts as fast as the best, so it gets tried.
    const eta = (link: ParentLink): number => (link.inflight + 1) / (link.rate ?? fallbackRate);
    open.sort((a, b) => eta(a) - eta(b));
    for (let progress = true; progress && this.#inflight.size < concurrency; ) {
      progress = false;
      for (const link of open) {
        if (this.#inflight.size >= concurrency) break;
        if (link.inflight >= link.requestLimit(pieceLength, concurrency)) continue;
        const number = this.#rarestHeldBy(link, now);
        if (number === undefined) continue;
        this.#start(number, link);
        progress = true;
      }
    }
    if (this.#inflight.size < concurrency) this.#endgame(open, now);
    return retryAt;
  }

  /** The missing piece `link` holds that the fewest parents hold, not in flight; ties at random. */
  #rarestHeldBy(link: ParentLink, now: number): number | undefined {
    let best: number | undefined;
    let bestCount = Number.POSITIVE_INFINITY;
    let ties = 0;
    for (const [number, holders] of this.#holders) {
      if (holders.size > bestCount || this.#inflight.has(number) || !holders.has(link) || link.avoids(number, now)) continue;
      if (holders.size < bestCount) {
        best = number;
        bestCount = holders.size;
        ties = 1;
      } else if (this.#settings.random() * ++ties < 1) {
        best = number;
      }
    }
    return best;
  }

  /**
   * Idle parents take over pieces that would take far longer where they are: a request
   * whose rest, at its parent's pace, would take over twice what a whole piece takes
   * from the idle parent (and a second more) is cut and asked again there.
   */
  #endgame(open: readonly ParentLink[], now: number): void {
    for (const link of open) {
      if (link.inflight > 0 || link.rate === undefined) continue;
      let victim: Attempt | undefined;
      let worst = 0;
      for (const attempt of this.#inflight.values()) {
        if (attempt.link === link || !attempt.sent || now - attempt.started < 1000) continue;
        const holders = this.#holders.get(attempt.number);
        if (!holders?.has(link)) continue;
        const rest = (attempt.length - attempt.bytes) / perRequestRate(attempt.link);
        if (rest > worst) {
          worst = rest;
          victim = attempt;
        }
      }
      if (!victim || worst <= 2 * (victim.length / link.rate) + 1000) continue;
      this.#logger.debug("a slow request is handed to an idle, faster parent", {
        number: victim.number,
        from: victim.link.peerId,
        to: link.peerId,
        restMs: Math.round(worst),
      });
      const { number } = victim;
      victim.abort.abort(new DfError("CANCELLED", `piece ${number} was handed to a faster parent`, { reason: "piece-reassigned" }));
      this.#start(number, link);
      if (this.#inflight.size >= this.#settings.concurrency) return;
    }
  }

  /**
   * Cuts the requests to parents that sent no byte (to any of our requests) for their
   * idle window; rests those parents. Silence is the parent's, not the request's: a
   * parent that paces its uploads may serve one of our requests while the others wait
   * their turn, and a waiting request is queued, not stuck.
   */
  #watchSilence(now: number): void {
    // A loop that woke late (this host was busy) has not read what its sockets hold yet:
    // timers run before I/O, so silence seen now may be our own. Judge on a timely tick.
    const late = now - this.#lastWatchAt > 2 * WATCH_TICK_MS;
    this.#lastWatchAt = now;
    if (late) return;
    for (const attempt of this.#inflight.values()) {
      if (!attempt.sent || attempt.abort.signal.aborted) continue;
      // Its own last byte, or its parent's since it was sent.
      const { link } = attempt;
      const lastByte = Math.max(attempt.lastByteAt, link.lastByteAt);
      const silence = now - lastByte;
      if (silence >= PROBE_AFTER_MS) link.probe(this.#task.id, PROBE_TIMEOUT_MS);
      let limit = this.#idleLimit(link, now);
      if (link.answeredAt > lastByte) limit = Math.max(limit, Math.min(this.#settings.pieceTimeoutMs, ALIVE_IDLE_MS));
      if (silence < limit) continue;
      attempt.abort.abort(
        new DfError(
          "DEADLINE_EXCEEDED",
          `piece ${attempt.number} of task ${this.#task.id}: no byte from parent ${attempt.link.peerId} for ${Math.round(now - lastByte)} ms (${attempt.bytes} of ${attempt.length} bytes of this piece in)`,
          { reason: "piece-idle", details: { taskId: this.#task.id, number: attempt.number, parentId: attempt.link.peerId } },
        ),
      );
    }
  }

  /**
   * How long `link` may go without a byte while asked: scaled to its per-request pace,
   * or to the longest pause it recently made between bytes (IDLE_GAP_FACTOR times),
   * within [IDLE_FLOOR_MS, pieceTimeoutMs]; FIRST_BYTE_MS until it sent any.
   */
  #idleLimit(link: ParentLink, now: number): number {
    const ceiling = this.#settings.pieceTimeoutMs;
    if (link.received === 0) return Math.min(ceiling, FIRST_BYTE_MS);
    const paced = link.rate === undefined ? 0 : IDLE_READS_BYTES / perRequestRate(link);
    return Math.min(ceiling, Math.max(IDLE_FLOOR_MS, paced, IDLE_GAP_FACTOR * link.recentGap(now)));
  }

  /**
   * Asks the scheduler for more parents (peers that joined or gained pieces since) while
   * fewer than MAX_PARENTS are usable, at the backed-off interval (see REFRESH_FIRST_MS),
   * and sooner when no byte came for STARVING_MS. One ask at a time; the run goes on
   * meanwhile.
   */
  #maybeRefresh(now: number): void {
    const ask = this.#request.moreParents;
    if (!ask || now < this.#nextRefreshAt()) return;
    this.#lastRefresh = now;
    this.#refreshing = (async () => {
      const linked = this.#links.length;
      try {
        const parents = await ask(this.#links.map((link) => link.peerId));
        if (this.#stop.signal.aborted || parents.length === 0) return;
        this.#logger.debug("more parents", { parents: parents.map((parent) => parent.peerId) });
        this.#addParents(parents);
      } catch (error) {
        this.#logger.debug("asking for more parents failed", { error: toDfError(error).message });
      } finally {
        this.#refreshInterval = this.#links.length > linked ? REFRESH_FIRST_MS : Math.min(REFRESH_INTERVAL_MS, this.#refreshInterval * 2);
        this.#lastRefresh = performance.now();
        this.#refreshing = undefined;
        this.#notify();
      }
    })();
  }

  /**
   * When the next ask for parents is due: the backed-off interval after the last while
   * fewer than MAX_PARENTS are usable, and STARVING_MS after the last byte (but not
   * sooner than STARVING_MS after the last ask) in any case. Never while one is out.
   */
  #nextRefreshAt(): number {
    if (!this.#request.moreParents || this.#refreshing) return Number.POSITIVE_INFINITY;
    const starvingAt = Math.max(this.#lastProgress, this.#lastRefresh) + STARVING_MS;
    let usable = 0;
    for (const link of this.#links) if (link.usable) usable++;
    return usable < MAX_PARENTS ? Math.min(this.#lastRefresh + this.#refreshInterval, starvingAt) : starvingAt;
  }

  #bestRate(): number {
    let best = 0;
    for (const link of this.#links) if (link.rate !== undefined && link.rate > best) best = link.rate;
    return best > 0 ? best : 1;
  }

  #start(number: number, link: ParentLink): void {
    const now = performance.now();
    const attempt: Attempt = {
      number,
      link,
      length: pieceRange(number, this.#task.contentLength, this.#task.pieceLength).length,
      started: now,
      abort: new AbortController(),
      bytes: 0,
      lastByteAt: now,
      sent: false,
    };
    link.requested();
    attempt.done = this.#attempt(attempt).finally(() => {
      link.settled();
      if (this.#inflight.get(number) === attempt) this.#inflight.delete(number);
      this.#notify();
    });
    this.#inflight.set(number, attempt);
  }

  async #attempt(attempt: Attempt): Promise<void> {
    const { number, link } = attempt;
    const task = this.#task;
    const length = attempt.length;
    const digest = link.digestOf(number);
    // As announced when asked: a held announcement may overtake the end of this request.
    const arrival = link.arrivalOf(number);
    const { shaper } = this.#settings;
    const signal = AbortSignal.any([this.#stop.signal, attempt.abort.signal]);
    let stage: Stage = "shaper";
    let fetched: FetchedPiece | undefined;
    try {
      // The wait for bandwidth is this host's own: it counts toward neither the piece's
      // silence nor its cost (which the scheduler reads as the parent's speed).
      await shaper?.acquire(task.id, length, { signal });
      stage = "fetch";
      const started = performance.now();
      attempt.lastByteAt = started;
      attempt.sent = true;
      const onBytes = (count: number): void => {
        const now = performance.now();
        attempt.bytes += count;
        attempt.lastByteAt = now;
        link.bytes(count, now);
        this.#silent.delete(link);
        this.#lastProgress = now;
      };
      fetched = await link.fetch({ taskId: task.id, number, length, digest, hostId: this.#request.hostId, onBytes }, signal);
      stage = "write";
      // With the digest announced, the bytes may go on to our own children as they land.
      const piece = await task.writePiece(number, fetched.source, { digest: fetched.digest, cutThrough: this.#settings.cutThrough && digest !== undefined, signal });
      const costMs = performance.now() - started;
      link.succeeded();
      shaper?.record(task.id, length);
      this.#stored(number);
      this.#finished({ number, offset: piece.offset, length: piece.length, digest: piece.digest, parentId: link.peerId, costMs });
    } catch (error) {
      // The run is over (done, abandoned or cancelled), or the piece went to a faster
      // parent: not this parent's fault.
      if (this.#stop.signal.aborted) return;
      const cut: unknown = attempt.abort.signal.reason;
      if (isDfError(cut) && cut.reason === "piece-reassigned") return;
      this.#failed(number, link, this.#classify(error, stage, fetched, attempt.abort.signal, digest === undefined, arrival));
    } finally {
      fetched?.discard();
    }
  }

  #classify(error: unknown, stage: Stage, fetched: FetchedPiece | undefined, cut: AbortSignal, unannounced: boolean, arrival: number | undefined): Failure {
    if (cut.aborted) return { kind: "silent", error: cut.reason as DfError };
    const failure = toDfError(error);
    const remote = fetched?.remoteError();
    // The daemon is stopping (its connections closed): no parent is to blame.
    if (failure.reason === "pool-closed" || remote?.reason === "pool-closed") return { kind: "fatal", error: remote ?? failure };
    if (stage === "shaper") return { kind: "fatal", error: failure };
    if (stage === "fetch") {
      if (failure.code === "RESOURCE_EXHAUSTED" && failure.reason === "upload-busy") return { kind: "busy" };
      if (failure.code === "RESOURCE_EXHAUSTED" && failure.reason === "piece-spread") return { kind: "spread", others: spreadingOf(failure) };
      if (unannounced && failure.code === "NOT_FOUND") return { kind: "unheld" };
      // Its arrival failed before the answer (NOT_FOUND), or it broke off the answer.
      if (arrival !== undefined && (failure.code === "NOT_FOUND" || failure.code === "UNAVAILABLE")) return { kind: "withdrawn", arrival };
      return { kind: "parent", error: failure };
    }
    // A parent cuts an arriving piece's bytes when its own arrival fails (it never sends
    // the last bytes of a piece before checking it).
    if (remote) return arrival !== undefined ? { kind: "withdrawn", arrival } : { kind: "parent", error: remote };
    // The bytes arrived but are not the piece: the parent's fault. Anything else went
    // wrong here (disk full, store closed, task deleted) and no parent can fix it.
    if (failure.code === "DATA_LOSS" && (failure.reason === "piece-digest-mismatch" || failure.reason === "piece-length-mismatch")) {
      return { kind: "parent", error: failure };
    }
    return { kind: "fatal", error: failure };
  }

  #failed(number: number, link: ParentLink, failure: Failure): void {
    switch (failure.kind) {
      case "busy":
        link.busy();
        return;
      case "spread": {
        const until = performance.now() + SPREAD_AVOID_MS;
        link.avoid(number, until);
        for (const other of failure.others) if (this.#missing.has(other)) link.avoid(other, until);
        return;
      }
      case "unheld":
        this.#unannounced(link);
        return;
      case "withdrawn": {
        // If it announced the piece again meanwhile, held or arriving anew (its retry there
        // was quick), it may be asked again at once; the failure counts either way.
        const { failures, withdrawn } = link.withdraw(number, failure.arrival);
        if (withdrawn) {
          const holders = this.#holders.get(number);
          if (holders?.delete(link) && holders.size === 0) this.#holders.delete(number);
        }
        if (failures <= MAX_WITHDRAWALS) {
          this.#logger.debug("a parent's arrival of a piece failed there; the piece is asked elsewhere", { number, parentId: link.peerId });
          return;
        }
        // One that keeps announcing pieces it then cuts off is dropped like any bad parent.
        failure = {
          kind: "parent",
          error: new DfError("UNAVAILABLE", `parent ${link.peerId} cut off more than ${MAX_WITHDRAWALS} pieces it had announced as arriving`, {
            reason: "arrivals-failed",
            details: { parentId: link.peerId },
          }),
        };
        break;
      }
      case "fatal":
        this.#fatal ??= failure.error;
        this.#notify();
        return;
      case "silent":
        this.#logger.info("a piece request to a parent went silent; the parent is rested, not dropped", {
          number,
          parentId: link.peerId,
          error: failure.error.message,
        });
        this.#report(number, link, failure.error, true);
        link.demote();
        this.#silent.add(link);
        this.#notify();
        return;
      case "parent":
        break;
    }
    const { error } = failure;
    this.#logger.warn("a piece from a parent failed; the parent is not used again for this task", {
      number,
      parentId: link.peerId,
      code: error.code,
      reason: error.reason,
      error: error.message,
    });
    this.#report(number, link, error, false);
    link.drop(error);
    this.#forget(link);
  }

  #report(number: number, link: ParentLink, error: DfError, temporary: boolean): void {
    try {
      this.#request.events.pieceFailed(number, link.peerId, error, temporary);
    } catch (listenerError) {
      this.#logger.warn("a pieceFailed listener threw", { error: String(listenerError) });
    }
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

  /**
   * True when some parent went silent and no other can take over: nothing in flight
   * except to silent parents, and no missing piece held by a parent that is not silent.
   */
  #onlySilentCanServe(): boolean {
    if (this.#silent.size === 0) return false;
    for (const attempt of this.#inflight.values()) if (!this.#silent.has(attempt.link)) return false;
    for (const holders of this.#holders.values()) {
      for (const link of holders) if (link.usable && !this.#silent.has(link)) return false;
    }
    return true;
  }

  #forget(link: ParentLink): void {
    for (const [number, holders] of this.#holders) {
      if (holders.delete(link) && holders.size === 0) this.#holders.delete(number);
    }
  }

  #exhausted(stalled: boolean, silent?: readonly ParentLink[]): PieceDownloadOutcome {
    // After a stall every parent is suspect (unless the silent ones are known): the
    // scheduler should offer others.
    const failed = silent ?? this.#links.filter((link) => stalled || !link.usable);
    const failedParents = failed.map((link) => link.peerId);
    const why = silent
      ? "every parent that holds a missing piece went silent"
      : stalled
        ? "no byte came from any parent for the stall timeout"
        : "the parents hold none of the missing pieces";
    this.#logger.info(why, {
      missing: this.#missing.size,
      parents: this.#links.length,
      failedParents,
      stallTimeoutMs: this.#settings.stallTimeoutMs,
    });
    return { kind: "parents-exhausted", missing: this.#missing.size, failedParents, stalled, ...(silent ? { silent: true } : {}) };
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
    const delay = Math.max(0, Math.ceil(ms));
    const at = performance.now() + delay;
    // A timer due sooner than needed only wakes the loop early, which re-plans; one due
    // later would oversleep a deadline.
    if (this.#timer === undefined || at < this.#timerAt - 1) {
      clearTimeout(this.#timer);
      this.#timerAt = at;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        const wake = this.#wake;
        this.#wake = undefined;
        wake?.();
      }, delay);
    }
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    this.#wake = undefined;
    this.#pending = false;
  }
}

/** What one more request to `link` gets per ms, at its measured rate shared by the requests on it. */
function perRequestRate(link: ParentLink): number {
  return (link.rate ?? 1) / Math.max(1, link.inflight);
}

/** The other pieces a seed's spread refusal listed (see PieceSpread); none when it listed none. */
function spreadingOf(failure: DfError): readonly number[] {
  const listed = failure.details?.["spreading"];
  // A parent says this, so it is bounded like everything a parent says (the HTTP header allows 1024).
  return Array.isArray(listed) ? listed.slice(0, MAX_SPREADING_LISTED).filter((n): n is number => Number.isSafeInteger(n)) : [];
}
