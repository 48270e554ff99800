import { DfError } from "@df/interface";

interface Upload {
  hostId: string;
  startedAt: number;
  /** Undefined while the bytes are still going out. */
  finishedAt: number | undefined;
}

/** Every this many uploads, entries older than the window are swept. */
const SWEEP_EVERY = 1024;
/**
 * A refusal names the task's other pieces in spread among this many of its latest
 * first copies, so the child skips them all after one refusal instead of learning
 * them one round trip each (a refused request leaves a seed slot idle for that trip).
 */
export const SPREADING_LISTED = 128;

interface TaskSpread {
  pieces: Map<number, Upload>;
  /** The latest first copies, oldest first, at most SPREADING_LISTED. */
  recent: number[];
}

/**
 * A seed's first copies go to different children: while a piece is on its way to one
 * host, or went there less than `windowMs` ago, another host asking for it is refused
 * (RESOURCE_EXHAUSTED, reason `piece-spread`) and takes another piece from the seed, or
 * this one from the child that has it. The seed's uplink then carries each piece about
 * once at first and the children trade among themselves, as BitTorrent's super-seeding
 * does; past the window a piece is served to anyone, so a child that cannot reach the
 * first holder still gets it. Only pieces a caller could fetch anyway (stored here) are
 * tracked, so what it keeps is bounded by the store. A refusal lists the task's other
 * pieces in spread (`details.spreading`), which the byte server passes on in a header.
 */
export class PieceSpread {
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #tasks = new Map<string, TaskSpread>();
  #admitted = 0;

  constructor(windowMs: number, now: () => number = () => performance.now()) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /**
   * Lets `hostId`'s upload of piece `number` start, or refuses it as above. Returns the
   * function that marks the upload done: sent (the window starts), or not (the piece is
   * free for anyone at once: nobody got it).
   */
  admit(taskId: string, number: number, hostId: string | undefined): (sent: boolean) => void {
    const now = this.#now();
    if (++this.#admitted % SWEEP_EVERY === 0) this.#sweep(now);
    let task = this.#tasks.get(taskId);
    const last = task?.pieces.get(number);
    if (task && last && hostId !== undefined && hostId !== "" && this.#spreading(last, hostId, now)) {
      throw new DfError("RESOURCE_EXHAUSTED", `piece ${number} of task ${taskId} is being spread through another child; take it from a peer, or another piece from here`, {
        reason: "piece-spread",
        details: { taskId, number, spreading: this.#listSpreading(task, hostId, now) },
      });
    }
    if (!task) this.#tasks.set(taskId, (task = { pieces: new Map(), recent: [] }));
    // Anonymous callers are served but leave no mark: nobody could be told to go elsewhere for them.
    if (hostId === undefined || hostId === "") return () => {};
    const upload: Upload = { hostId, startedAt: now, finishedAt: undefined };
    const held = task;
    held.pieces.set(number, upload);
    held.recent.push(number);
    if (held.recent.length > SPREADING_LISTED) held.recent.shift();
    return (sent) => {
      if (upload.finishedAt !== undefined) return;
      upload.finishedAt = this.#now();
      if (!sent && held.pieces.get(number) === upload) held.pieces.delete(number);
    };
  }

  /** Whether `upload` keeps its piece from `hostId` now: another host's, under way or within the window. */
  #spreading(upload: Upload, hostId: string, now: number): boolean {
    return upload.hostId !== hostId && (upload.finishedAt === undefined || now - upload.finishedAt < this.#windowMs);
  }

  /** The task's recent pieces that `hostId` would be refused now, ascending. */
  #listSpreading(task: TaskSpread, hostId: string, now: number): number[] {
    const listed = new Set<number>();
    for (const number of task.recent) {
      const upload = task.pieces.get(number);
      if (upload && this.#spreading(upload, hostId, now)) listed.add(number);
    }
    return [...listed].sort((a, b) => a - b);
  }

  #sweep(now: number): void {
    for (const [taskId, task] of this.#tasks) {
      for (const [number, upload] of task.pieces) {
        if (upload.finishedAt !== undefined && now - upload.finishedAt >= this.#windowMs) task.pieces.delete(number);
      }
      if (task.pieces.size === 0) this.#tasks.delete(taskId);
    }
  }
}
