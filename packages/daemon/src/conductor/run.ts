import { DfError, toDfError, type Logger } from "@df/interface";
import { pieceLengthFor, piecesInRange, type ByteRange } from "@df/piece";
import { common } from "@df/rpc";
import type { Lease, Task as StoredTask } from "@df/storage";
import type { PieceInfo, RunListener } from "./events.js";
import { pieceReport } from "./piece-report.js";
import type { BackToSourceReason } from "./metrics.js";
import type { RunContext, RunPhase } from "./phase.js";
import { downloadFromParents, type ParentRoundResult } from "./run-parents.js";
import { downloadFromSource } from "./run-source.js";
import { SchedulerSession, type PeerEvent, type ScheduleAnswer } from "../scheduler-link/session.js";
import type { Subscription } from "./subscription.js";
import { storedIdentity, storedValidators, type TaskIdentity } from "../task/identity.js";

/**
 * Pieces fetched from the origin per ranged request slot before a peer that fell back
 * to the origin asks the swarm again (two: 32 MiB at the default four slots of 4 MiB).
 */
const SOURCE_BATCH_PER_REQUEST = 2;

/** How a task is cut: known up front, the stored task can be made before any parent is asked. */
export interface TaskLayout {
  contentLength: number;
  pieceLength: number;
}

/**
 * The one download of a task on this daemon, shared by every client that wants (part
 * of) it. It registers with the scheduler and fills the stored task from parents or
 * from the origin, as the scheduler says, until every piece any attached client wants
 * is stored; then reports to the scheduler and tells its clients. A run takes new
 * clients until the moment it has what they all want; later ones start a new run.
 */
export type { RunContext } from "./phase.js";

export class TaskRun implements RunPhase {
  readonly taskId: string;
  readonly peerId: string;
  readonly identity: TaskIdentity;
  readonly download: common.Download;
  readonly #ctx: RunContext;
  readonly #logger: Logger;
  readonly #listeners = new Set<RunListener>();
  readonly #ranges: ByteRange[] = [];
  readonly #abort = new AbortController();
  readonly #startedAt = performance.now();
  readonly #onClosed: () => void;
  readonly #layout: TaskLayout | undefined;
  #whole = false;
  #accepting = true;
  #task: StoredTask | undefined;
  #lease: Lease | undefined;
  #session: SchedulerSession | undefined;
  #wentToSource = false;
  #done: Promise<void> | undefined;

  constructor(ctx: RunContext, identity: TaskIdentity, download: common.Download, onClosed: () => void, layout?: TaskLayout) {
    this.#ctx = ctx;
    this.#layout = layout;
    this.identity = identity;
    this.taskId = identity.taskId;
    this.download = download;
    this.peerId = ctx.host.newPeerId();
    this.#onClosed = onClosed;
    this.#logger = ctx.logger.child("task", { taskId: this.taskId, peerId: this.peerId });
  }

  /** Attaches a client; false once the run takes no more (start a new one then). */
  attach(subscription: Subscription): boolean {
    if (!this.#accepting) return false;
    if (subscription.range) this.#ranges.push(subscription.range);
    else this.#whole = true;
    this.#listeners.add(subscription);
    subscription.onRelease(() => this.#listeners.delete(subscription));
    if (this.#task) subscription.metadata(this.#task);
    return true;
  }

  start(): Promise<void> {
    this.#done ??= this.#execute();
    return this.#done;
  }

  /** Stops the download (daemon shutdown); clients get `reason`. */
  abort(reason: DfError): void {
    this.#abort.abort(reason);
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get task(): StoredTask | undefined {
    return this.#task;
  }

  get session(): SchedulerSession | undefined {
    return this.#session;
  }

  async #execute(): Promise<void> {
    try {
      await this.#run();
      await this.#succeed();
    } catch (error) {
      await this.#fail(this.#abort.signal.aborted ? toDfError(this.#abort.signal.reason) : toDfError(error));
    } finally {
      this.#lease?.release();
      if (this.#task) this.#ctx.bandwidth.removeTask(this.taskId, this);
    }
  }

  async #run(): Promise<void> {
    const existing = this.#ctx.storage.getTask(this.taskId);
    if (existing) this.adopt(existing);
    if (this.closeIfSatisfied()) return;

    const { scheduler } = this.#ctx.config;
    const download = common.Download.create({
      ...this.download,
      outputPath: undefined,
      needPieceContent: false,
      // The scheduler books this much upload load on the parents it hands out.
      concurrentPieceCount: this.download.concurrentPieceCount ?? this.#ctx.config.download.concurrentPieceCount,
    });
    // With the layout known, the stored task is made while the scheduler answers.
    const layout = this.#task ? undefined : this.#layout;
    const creating = layout ? this.createTask(layout.contentLength, layout.pieceLength).then(() => undefined, (error: unknown) => ({ error })) : undefined;
    let opened: Awaited<ReturnType<typeof SchedulerSession.open>>;
    try {
      opened = await SchedulerSession.open(
        this.#ctx.schedulers,
        { hostId: this.#ctx.host.id, taskId: this.taskId, peerId: this.peerId },
        download,
        {
          timeoutMs: scheduler.scheduleTimeout,
          announceHost: (address) => this.#ctx.announceHost(address),
          logger: this.#logger,
          signal: this.#abort.signal,
        },
      );
    } finally {
      // Settled before the run can end: the task it adopts is released with the run.
      await creating;
    }
    this.#session = opened.session;
    const creation = await creating;
    if (creation) throw creation.error;
    let answer: ScheduleAnswer = opened.answer;
    let stalls = 0;
    for (let reschedules = 0; ; reschedules++) {
      this.#throwIfAborted();
      this.#logger.debug("scheduling answer", { kind: answer.kind });
      switch (answer.kind) {
        case "empty":
          await this.createTask(0, this.identity.pieceLength ?? pieceLengthFor(0));
          if (!this.closeIfSatisfied()) throw new DfError("INTERNAL", `empty task ${this.taskId} is not satisfied`);
          return;
        case "back-to-source":
          return this.#fromSource("scheduler", answer.reason);
        case "no-answer":
          return this.#fromSource("no-scheduler", `no scheduling answer: ${answer.error.message}`, answer.error);
        case "parents": {
          const result: ParentRoundResult = await downloadFromParents(this, this.#ctx, answer.parents, this.#logger);
          if (result.kind === "done") return;
          if (result.stalled) stalls++;
          const session = this.#session;
          if (stalls >= 2 || reschedules >= scheduler.maxReschedules || !session || session.broken) {
            const [kind, why]: [BackToSourceReason, string] =
              stalls >= 2
                ? ["stalled", "parents stalled twice"]
                : !session || session.broken
                  ? ["no-scheduler", "the scheduler is gone"]
                  : ["reschedules", `${reschedules} reschedules did not help`];
            return this.#fromSource(kind, `${result.reason}; ${why}`);
          }
          this.#logger.info("rescheduling", { reason: result.reason, failedParents: result.failedParents });
          answer = await session.reschedule(result.failedParents, result.reason);
        }
      }
    }
  }

  async #fromSource(kind: BackToSourceReason, reason: string, cause?: DfError): Promise<void> {
    if (this.download.disableBackToSource) {
      const code = cause?.code === "UNAVAILABLE" || cause?.code === "DEADLINE_EXCEEDED" ? cause.code : "FAILED_PRECONDITION";
      throw new DfError(
        code,
        `task ${this.taskId} (${this.identity.url}) could not be downloaded from peers and back-to-source is disabled for this download: ${reason}`,
        { reason: "back-to-source-disabled", details: { taskId: this.taskId }, ...(cause ? { cause } : {}) },
      );
    }
    if (!this.#wentToSource) {
      this.#wentToSource = true;
      this.#ctx.metrics.backToSource(kind);
      this.report({ $case: "backToSourceStarted", value: { description: reason } });
      this.#logger.info("going back to source", { reason, kind });
    }
    const session = this.#session;
    // A seed is the task's fetcher of record, a download that asked for the source wants
    // the source, and a peer without a scheduler has no one to ask.
    if (this.#ctx.config.seedPeer.enable || this.download.needBackToSource || !session || session.broken) {
      await downloadFromSource(this, this.#ctx, this.#logger);
      return;
    }
    // Not for good: a few pieces at a time from the origin, and between them the swarm
    // is asked again; once it offers a parent that holds the whole task (a finished peer,
    // a seed that is done), the rest comes from the swarm. Parents still downloading are
    // not enough: they may lack exactly what this peer misses, and waiting to find out
    // costs a stall window.
    const batch = SOURCE_BATCH_PER_REQUEST * this.#ctx.config.download.backToSourceConcurrency;
    for (;;) {
      if ((await downloadFromSource(this, this.#ctx, this.#logger, { maxPieces: batch })) === "done") return;
      if (session.broken) {
        await downloadFromSource(this, this.#ctx, this.#logger);
        return;
      }
      const parents = await session.moreParents([]).catch(() => []);
      if (!parents.some((parent) => parent.holdsAll)) continue;
      this.#ctx.metrics.backToPeers();
      this.#logger.info("going back to peers: the swarm can serve again", { parents: parents.map((parent) => parent.peerId) });
      const result = await downloadFromParents(this, this.#ctx, parents, this.#logger);
      if (result.kind === "done") return;
      this.#logger.info("back to source again", { reason: result.reason });
    }
  }

  async #succeed(): Promise<void> {
    const task = this.#task as StoredTask;
    const whole = task.finishedBytes === task.contentLength;
    if (whole) {
      await task.markComplete();
      const session = this.#session;
      if (session && !session.broken) {
        this.report(
          this.#wentToSource
            ? {
                $case: "backToSourceFinished",
                value: { contentLength: task.contentLength, pieceCount: task.pieceCount, pieceLength: task.pieceLength },
              }
            : { $case: "downloadFinished", value: { contentLength: task.contentLength, pieceCount: task.pieceCount } },
        );
        this.#ctx.finishedAsPeer(this.taskId, this.peerId);
      } else {
        // The scheduler never saw this download (unreachable, or all pieces were here).
        this.#ctx.announceHolder(this.identity, task, this.download);
      }
      for (const listener of [...this.#listeners]) listener.complete(task);
    }
    // A range-only download is not reported finished: the peer holds only part of the
    // task, and ending the stream makes the scheduler stop handing it out as a parent.
    await this.#session?.close();
    for (const listener of [...this.#listeners]) listener.end();
    const seconds = (performance.now() - this.#startedAt) / 1000;
    this.#ctx.metrics.download("succeeded", seconds);
    this.#logger.info("download finished", {
      contentLength: task.contentLength,
      pieces: task.pieceCount,
      whole,
      fromSource: this.#wentToSource,
      ms: Math.round(seconds * 1000),
    });
  }

  async #fail(error: DfError): Promise<void> {
    this.#close();
    this.#ctx.failed(this.taskId, error);
    if (error.reason === "daemon-stopping") {
      // Not a failure of the task: just leave. Reporting it failed would make the
      // scheduler avoid this host (a seed, for 30 minutes) after a restart.
      this.#session?.cancel();
    } else {
      const description = error.message;
      this.report(
        this.#wentToSource ? { $case: "backToSourceFailed", value: { description } } : { $case: "downloadFailed", value: { description } },
      );
      await this.#session?.close();
    }
    for (const listener of [...this.#listeners]) listener.end(error);
    this.#ctx.metrics.download("failed", (performance.now() - this.#startedAt) / 1000);
    this.#logger.warn("download failed", { code: error.code, error: error.message });
  }

  // ---- used by the phases (run-parents, run-source) ----

  get wentToSource(): boolean {
    return this.#wentToSource;
  }

  /** Sends a report to the scheduler, if there is one. */
  report(event: PeerEvent): void {
    this.#session?.send(event);
  }

  /** Takes `task` as this run's stored task and tells the clients its size. */
  adopt(task: StoredTask): void {
    if (this.#task) return;
    this.#lease = task.acquire();
    this.#task = task;
    this.#ctx.bandwidth.addTask({
      taskId: this.taskId,
      contentLength: task.contentLength,
      pieceLength: task.pieceLength,
      completedBytes: task.finishedBytes,
    }, this);
    for (const listener of [...this.#listeners]) listener.metadata(task);
  }

  async createTask(contentLength: number, pieceLength: number, responseHeader?: Readonly<Record<string, string>>): Promise<StoredTask> {
    const { identity } = this;
    const task = await this.#ctx.storage.createTask({
      taskId: this.taskId,
      contentLength,
      pieceLength,
      ...storedIdentity(identity),
      ...(responseHeader ? { responseHeader: { ...responseHeader } } : {}),
      ...storedValidators(identity, responseHeader, contentLength),
    });
    this.adopt(task);
    return task;
  }

  /** A piece was stored: the clients and the metrics hear of it, then the scheduler. */
  pieceStored(piece: PieceInfo): void {
    this.#ctx.metrics.piece(piece.traffic === "back-to-source" ? "back_to_source" : "remote_peer", piece.length);
    for (const listener of [...this.#listeners]) listener.piece(piece);
    this.report(pieceReport(piece));
  }

  /** The piece numbers the attached clients want (every piece when one wants the whole task). */
  wantedPieces(): number[] {
    const task = this.#task;
    if (!task) return [];
    if (this.#whole) return Array.from({ length: task.pieceCount }, (_, n) => n);
    const wanted = new Set<number>();
    for (const range of this.#ranges) {
      try {
        for (const piece of piecesInRange(range, task.contentLength, task.pieceLength)) wanted.add(piece.number);
      } catch {
        // A range past the end fails its own client; it adds nothing to fetch.
      }
    }
    return [...wanted].sort((a, b) => a - b);
  }

  /** Only the wanted pieces, for the piece downloader; undefined when all are wanted. */
  wantedSubset(): number[] | undefined {
    return this.#whole ? undefined : this.wantedPieces();
  }

  satisfied(): boolean {
    const task = this.#task;
    if (!task) return false;
    if (this.#whole) return task.finishedBytes === task.contentLength;
    return this.wantedPieces().every((n) => task.hasPiece(n));
  }

  /**
   * When every wanted piece is stored, stops taking clients (atomically with the
   * check, so no client attaches to a run that will not fetch for it) and returns true.
   */
  closeIfSatisfied(): boolean {
    if (!this.satisfied()) return false;
    this.#close();
    return true;
  }

  #close(): void {
    if (!this.#accepting) return;
    this.#accepting = false;
    this.#onClosed();
  }

  #throwIfAborted(): void {
    if (this.#abort.signal.aborted) throw toDfError(this.#abort.signal.reason);
  }
}
