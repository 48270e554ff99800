import type { ShapedTask } from "@df/interface";
import { TaskShaper, TokenBucket, type ShapedTaskState } from "@df/rate-limit";
import { admitTask, divideTotal, releaseTask, type TaskSample } from "./divide.js";

export interface SamplingShaperOptions {
  /** The node's download bandwidth, bytes per second, re-divided among its tasks. */
  totalRateLimit: number;
  /** How often limits are re-divided (default 1000 ms, as upstream). */
  intervalMs?: number;
  /** Share of an interval a task's limiter must hold pieces back for it to count as saturated (default 0.5). */
  saturatedShare?: number;
  now?: () => number;
}

interface SampledTask extends ShapedTaskState {
  readonly limiter: TokenBucket;
  /** Recorded bytes and limiter busy time at the last tick. */
  recordedAtTick: number;
  busyAtTick: number;
  /** Added since the last tick. */
  fresh: boolean;
}

/**
 * The sampling shaper (Dragonfly PR #1654): every interval, each task's limit is set
 * from what it used during the last one, so one task alone gets the whole total and many
 * share it by demand. See `divideTotal` for the arithmetic.
 */
export class SamplingShaper extends TaskShaper<SampledTask> {
  readonly name = "sampling";
  readonly total: number;
  readonly intervalMs: number;
  readonly #saturatedShare: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #tickAt: number;

  constructor(options: SamplingShaperOptions) {
    const now = options.now ?? (() => performance.now());
    super({ now });
    this.total = options.totalRateLimit;
    this.intervalMs = options.intervalMs ?? 1000;
    this.#saturatedShare = options.saturatedShare ?? 0.5;
    this.#now = now;
    this.#tickAt = now();
  }

  override start(): void {
    if (this.#timer || this.stopped) return;
    this.#tickAt = this.#now();
    this.#timer = setInterval(() => this.resample(), this.intervalMs);
    // A shaper alone must not keep a process alive.
    this.#timer.unref();
  }

  override stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    super.stop();
  }

  protected admit(task: ShapedTask): SampledTask {
    const running = [...this.tasks.values()];
    const rates = admitTask(
      this.total,
      running.map((state) => ({ rate: state.limiter.rate, pieceLength: state.task.pieceLength })),
      task.pieceLength,
    );
    running.forEach((state, i) => setLimit(state, rates[i] as number));
    const rate = rates[rates.length - 1] as number;
    const limiter = new TokenBucket({ rate, burst: burstFor(task.pieceLength, rate), now: this.#now });
    return { task, limiter, recorded: 0, recordedAtTick: 0, busyAtTick: limiter.busyMs(), fresh: true };
  }

  protected override released(): void {
    const running = [...this.tasks.values()];
    const rates = releaseTask(
      this.total,
      running.map((state) => ({ rate: state.limiter.rate, pieceLength: state.task.pieceLength })),
    );
    running.forEach((state, i) => setLimit(state, rates[i] as number));
  }

  /** Re-divides the total from what each task used since the last call (the timer calls it every interval). */
  resample(): void {
    const now = this.#now();
    const elapsed = now - this.#tickAt;
    this.#tickAt = now;
    if (elapsed <= 0) return;
    const running = [...this.tasks.values()];
    const samples: TaskSample[] = running.map((state) => {
      const used = state.recorded - state.recordedAtTick;
      const busy = state.limiter.busyMs() - state.busyAtTick;
      const { contentLength, completedBytes = 0 } = state.task;
      return {
        rate: state.limiter.rate,
        pieceLength: state.task.pieceLength,
        used: (used * 1000) / elapsed,
        fresh: state.fresh,
        remaining: contentLength === undefined ? Infinity : Math.max(contentLength - completedBytes - state.recorded, 0),
        saturated: busy >= elapsed * this.#saturatedShare,
      };
    });
    const rates = divideTotal(this.total, samples);
    running.forEach((state, i) => {
      state.recordedAtTick = state.recorded;
      state.busyAtTick = state.limiter.busyMs();
      state.fresh = false;
      setLimit(state, rates[i] as number);
    });
  }
}

function setLimit(state: SampledTask, rate: number): void {
  state.limiter.setRate(rate, burstFor(state.task.pieceLength, rate));
}

/** One piece must pass in one go; a quarter second's worth smooths the rest. */
function burstFor(pieceLength: number, rate: number): number {
  return Math.max(pieceLength, rate / 4);
}
