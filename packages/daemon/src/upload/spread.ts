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
 * A seed's first copies go to different children: while a piece is on its way to one
 * host, or went there less than `windowMs` ago, another host asking for it is refused
 * (RESOURCE_EXHAUSTED, reason `piece-spread`) and takes another piece from the seed, or
 * this one from the child that has it. The seed's uplink then carries each piece about
 * once at first and the children trade among themselves, as BitTorrent's super-seeding
 * does; past the window a piece is served to anyone, so a child that cannot reach the
 * first holder still gets it. Only pieces a caller could fetch anyway (stored here) are
 * tracked, so what it keeps is bounded by the store.
 */
export class PieceSpread {
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #tasks = new Map<string, Map<number, Upload>>();
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
    let pieces = this.#tasks.get(taskId);
    const last = pieces?.get(number);
    if (last && hostId !== undefined && hostId !== "" && last.hostId !== hostId && (last.finishedAt === undefined || now - last.finishedAt < this.#windowMs)) {
      throw new DfError("RESOURCE_EXHAUSTED", `piece ${number} of task ${taskId} is being spread through another child; take it from a peer, or another piece from here`, {
        reason: "piece-spread",
        details: { taskId, number },
      });
    }
    if (!pieces) this.#tasks.set(taskId, (pieces = new Map()));
    // Anonymous callers are served but leave no mark: nobody could be told to go elsewhere for them.
    if (hostId === undefined || hostId === "") return () => {};
    const upload: Upload = { hostId, startedAt: now, finishedAt: undefined };
    const held = pieces;
    held.set(number, upload);
    return (sent) => {
      if (upload.finishedAt !== undefined) return;
      upload.finishedAt = this.#now();
      if (!sent && held.get(number) === upload) held.delete(number);
    };
  }

  #sweep(now: number): void {
    for (const [taskId, pieces] of this.#tasks) {
      for (const [number, upload] of pieces) {
        if (upload.finishedAt !== undefined && now - upload.finishedAt >= this.#windowMs) pieces.delete(number);
      }
      if (pieces.size === 0) this.#tasks.delete(taskId);
    }
  }
}
