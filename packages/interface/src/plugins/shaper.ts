import type { AbortOptions } from "../abort.js";

export interface ShapedTask {
  readonly taskId: string;
  /** The task's whole length; undefined while it is unknown. */
  readonly contentLength?: number;
  readonly pieceLength: number;
  /** Bytes already stored when the task was added (a resumed download); default 0. */
  readonly completedBytes?: number;
}

/**
 * The limits the daemon gives every shaper plugin, in bytes per second, from its
 * `download` config; a plugin's own options come on top. The daemon itself holds the
 * sum of all tasks to `totalRateLimit`, whatever the shaper does.
 */
export interface ShaperLimits {
  /** The node's download bandwidth, shared by all its tasks. */
  readonly totalRateLimit: number;
  /** A fixed per-task limit, for shapers that use one. */
  readonly perPeerRateLimit: number;
}

/**
 * Hands out a node's download bandwidth (bytes per second) across its running tasks.
 * Every piece download (from a parent or from the source) waits on `acquire` before it
 * starts and reports what it used with `record`, so a shaper can re-divide the total by
 * observed demand. The daemon adds a task before its first piece and removes it when
 * the download ends; `acquire` for a task it never added passes at once.
 */
export interface TrafficShaper {
  readonly name: string;
  /** Starts periodic work (timers must not keep the process alive). */
  start(): void;
  /** Stops periodic work and releases every waiter with an error. Idempotent. */
  stop(): void;
  addTask(task: ShapedTask): void;
  /** The task is done (or failed): its share goes back to the others. Unknown IDs are ignored. */
  removeTask(taskId: string): void;
  /** Waits until `bytes` may be transferred for the task under its current limit. */
  acquire(taskId: string, bytes: number, options?: AbortOptions): Promise<void>;
  /** The task transferred `bytes` (counted even for unknown tasks, in the node's total). */
  record(taskId: string, bytes: number): void;
  /** The task's current limit in bytes per second (Infinity when it has none). */
  limitOf(taskId: string): number;
  /** Bytes recorded across all tasks during the last full second. */
  lastSecondUsage(): number;
}
