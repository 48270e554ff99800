import { DfError } from "@df/interface";
import { piecesInRange, type ByteRange } from "@df/piece";
import type { Piece, Task as StoredTask } from "@df/storage";
import { AsyncQueue } from "./async-queue.js";
import type { DownloadEvent, PieceInfo, RunListener } from "./events.js";

export interface SubscriptionOptions {
  /** Only these bytes; the client is finished once the pieces they touch are stored. */
  range?: ByteRange;
  signal?: AbortSignal;
  /** The client's own time limit; the download itself goes on for others. */
  timeoutMs?: number;
}

/** A piece that was on this host before the client asked for it. */
export function localPiece(piece: Piece): PieceInfo {
  return {
    number: piece.number,
    offset: piece.offset,
    length: piece.length,
    digest: piece.digest,
    traffic: "local-peer",
    costMs: 0,
    createdAt: new Date(piece.finishedAt),
  };
}

/**
 * One client's view of a (possibly shared) download: its own `started` with the pieces
 * already here, then each further piece it wants, then `finished`. Leaving early, an
 * abort or a timeout ends only this client's view, never the download.
 */
export class Subscription implements AsyncIterable<DownloadEvent>, RunListener {
  readonly taskId: string;
  readonly peerId: string;
  readonly #queue: AsyncQueue<DownloadEvent>;
  readonly #range: ByteRange | undefined;
  readonly #seen = new Set<number>();
  readonly #startedAt = performance.now();
  readonly #cleanup: (() => void)[] = [];
  #wanted: Set<number> | undefined;
  #task: StoredTask | undefined;
  #started = false;
  #finished = false;

  constructor(taskId: string, peerId: string, options: SubscriptionOptions = {}) {
    this.taskId = taskId;
    this.peerId = peerId;
    this.#range = options.range;
    this.#queue = new AsyncQueue<DownloadEvent>(() => this.#release());
    const { signal, timeoutMs } = options;
    if (signal) {
      const onAbort = (): void =>
        this.#fail(new DfError("CANCELLED", `the download of task ${taskId} was cancelled by the client`, { cause: signal.reason }));
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        this.#cleanup.push(() => signal.removeEventListener("abort", onAbort));
      }
    }
    if (timeoutMs !== undefined && timeoutMs > 0) {
      const timer = setTimeout(
        () =>
          this.#fail(
            new DfError("DEADLINE_EXCEEDED", `the download of task ${taskId} did not finish within ${timeoutMs} ms`, {
              reason: "download-timeout",
              details: { taskId, timeoutMs },
            }),
          ),
        timeoutMs,
      );
      this.#cleanup.push(() => clearTimeout(timer));
    }
  }

  /** Runs when this client stops listening (finished, failed or gone). */
  onRelease(release: () => void): void {
    if (this.#queue.closed) release();
    else this.#cleanup.push(release);
  }

  get range(): ByteRange | undefined {
    return this.#range;
  }

  metadata(task: StoredTask): void {
    if (this.#started || this.#queue.closed) return;
    this.#started = true;
    this.#task = task;
    let wanted: number[] | undefined;
    if (this.#range) {
      try {
        wanted = piecesInRange(this.#range, task.contentLength, task.pieceLength).map((piece) => piece.number);
      } catch (error) {
        this.#fail(error);
        return;
      }
      this.#wanted = new Set(wanted);
    }
    const stored = wanted ? wanted.flatMap((n) => task.piece(n) ?? []) : task.pieces();
    const localPieces = stored.map(localPiece);
    for (const piece of localPieces) this.#seen.add(piece.number);
    const isFinished = wanted ? wanted.every((n) => this.#seen.has(n)) : task.complete;
    this.#queue.push({
      kind: "started",
      task,
      contentLength: task.contentLength,
      pieceLength: task.pieceLength,
      pieceCount: task.pieceCount,
      ...(this.#range ? { range: this.#range } : {}),
      responseHeader: task.info.responseHeader,
      localPieces,
      isFinished,
    });
    if (isFinished) this.#finish(task);
  }

  piece(piece: PieceInfo): void {
    if (!this.#started || this.#queue.closed || this.#seen.has(piece.number)) return;
    if (this.#wanted && !this.#wanted.has(piece.number)) return;
    this.#seen.add(piece.number);
    this.#queue.push({ kind: "piece", piece });
    if (this.#wanted && this.#seen.size >= this.#wanted.size && this.#task) this.#finish(this.#task);
  }

  complete(task: StoredTask): void {
    if (!this.#started) this.metadata(task);
    else if (!this.#wanted) this.#finish(task);
  }

  end(error?: unknown): void {
    if (this.#finished || this.#queue.closed) return;
    this.#fail(
      error ??
        new DfError("ABORTED", `the download of task ${this.taskId} ended before this client's pieces were stored; retry`, {
          reason: "download-ended",
        }),
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<DownloadEvent> {
    return this.#queue;
  }

  #finish(task: StoredTask): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#queue.push({
      kind: "finished",
      task,
      contentLength: task.contentLength,
      pieceCount: task.pieceCount,
      costMs: performance.now() - this.#startedAt,
    });
    this.#queue.end();
    this.#release();
  }

  #fail(error: unknown): void {
    this.#queue.fail(error);
    this.#release();
  }

  #release(): void {
    for (const cleanup of this.#cleanup.splice(0)) cleanup();
  }
}
