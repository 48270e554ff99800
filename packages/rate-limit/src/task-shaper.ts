import { DfError, throwIfAborted } from "@df/interface/errors";
import type { AbortOptions, ShapedTask, TrafficShaper } from "@df/interface";
import type { TokenBucket } from "./token-bucket.js";
import { UsageMeter } from "./usage-meter.js";

/** What a shaper keeps per task; `limiter` is absent when the task has no limit of its own. */
export interface ShapedTaskState {
  readonly task: ShapedTask;
  readonly limiter: TokenBucket | undefined;
  /** Bytes recorded for the task since it was added. */
  recorded: number;
}

/**
 * The bookkeeping every traffic shaper shares: the running tasks, argument checks,
 * the node's per-second usage, and waiting on a task's own limiter. Subclasses decide
 * what limiter a task gets and how limits change.
 */
export abstract class TaskShaper<State extends ShapedTaskState = ShapedTaskState> implements TrafficShaper {
  abstract readonly name: string;
  protected readonly tasks = new Map<string, State>();
  readonly #usage: UsageMeter;
  #stopped = false;

  constructor(options: { now?: () => number } = {}) {
    this.#usage = new UsageMeter(options.now ? { now: options.now } : {});
  }

  /** Makes the state of a task being added (its limiter included). */
  protected abstract admit(task: ShapedTask): State;

  start(): void {}

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const state of this.tasks.values()) state.limiter?.close(stoppedError());
    this.tasks.clear();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  addTask(task: ShapedTask): void {
    checkTask(task);
    if (this.#stopped) throw stoppedError();
    // Added again (a run restarted): the old limiter's waiters move on, the new one rules.
    this.removeTask(task.taskId);
    this.tasks.set(task.taskId, this.admit(task));
  }

  removeTask(taskId: string): void {
    const state = this.tasks.get(taskId);
    if (!state) return;
    this.tasks.delete(taskId);
    // Pieces still waiting belong to a download that is over: let them go.
    state.limiter?.setRate(Infinity);
    this.released(state);
  }

  /** A task left; a subclass may hand its share to the others. */
  protected released(_state: State): void {}

  acquire(taskId: string, bytes: number, options: AbortOptions = {}): Promise<void> {
    try {
      checkBytes(bytes, "acquire");
      throwIfAborted(options.signal);
      if (this.#stopped) throw stoppedError();
    } catch (error) {
      return Promise.reject(error);
    }
    const limiter = this.tasks.get(taskId)?.limiter;
    return limiter ? limiter.take(bytes, options.signal) : Promise.resolve();
  }

  record(taskId: string, bytes: number): void {
    checkBytes(bytes, "record");
    this.#usage.record(bytes);
    const state = this.tasks.get(taskId);
    if (state) state.recorded += bytes;
  }

  limitOf(taskId: string): number {
    return this.tasks.get(taskId)?.limiter?.rate ?? Infinity;
  }

  lastSecondUsage(): number {
    return this.#usage.lastPeriod();
  }
}

function checkBytes(bytes: number, what: string): void {
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw new DfError("INVALID_ARGUMENT", `${what} needs a non-negative number of bytes, got ${String(bytes)}`);
  }
}

function checkTask(task: ShapedTask): void {
  if (typeof task?.taskId !== "string" || task.taskId.length === 0) {
    throw new DfError("INVALID_ARGUMENT", "a shaped task needs a non-empty taskId");
  }
  if (!Number.isSafeInteger(task.pieceLength) || task.pieceLength <= 0) {
    throw new DfError("INVALID_ARGUMENT", `task ${task.taskId}: pieceLength must be a positive integer, got ${String(task.pieceLength)}`);
  }
  if (task.contentLength !== undefined && (!Number.isSafeInteger(task.contentLength) || task.contentLength < 0)) {
    throw new DfError("INVALID_ARGUMENT", `task ${task.taskId}: contentLength must be a non-negative integer, got ${String(task.contentLength)}`);
  }
}

function stoppedError(): DfError {
  return new DfError("CANCELLED", "the traffic shaper was stopped", { reason: "shaper-stopped" });
}
