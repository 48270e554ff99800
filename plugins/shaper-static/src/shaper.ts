import type { ShapedTask } from "@df/interface";
import { TaskShaper, TokenBucket, type ShapedTaskState } from "@df/rate-limit";

export interface StaticShaperOptions {
  /** Every task's fixed limit, bytes per second. */
  perPeerRateLimit: number;
  now?: () => number;
}

/**
 * The seed's old static policy: each task is held to the same fixed `perPeerRateLimit`
 * however many tasks run; `totalRateLimit` (enforced by the daemon) caps their sum. One
 * task alone leaves the rest of the total unused.
 */
export class StaticShaper extends TaskShaper {
  readonly name = "static";
  readonly #rate: number;
  readonly #now: (() => number) | undefined;

  constructor(options: StaticShaperOptions) {
    super(options.now ? { now: options.now } : {});
    this.#rate = options.perPeerRateLimit;
    this.#now = options.now;
  }

  protected admit(task: ShapedTask): ShapedTaskState {
    return {
      task,
      // A piece must fit in one burst; a quarter second's worth smooths the rest.
      limiter: new TokenBucket({ rate: this.#rate, burst: Math.max(task.pieceLength, this.#rate / 4), ...(this.#now ? { now: this.#now } : {}) }),
      recorded: 0,
    };
  }
}
