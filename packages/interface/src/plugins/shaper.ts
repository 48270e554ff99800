import type { AbortOptions } from "../abort.js";

export interface ShapedTask {
  readonly taskId: string;
  /** Bytes still to come; undefined while the length is unknown. */
  readonly contentLength?: number;
  readonly pieceLength: number;
}

/**
 * Hands out a node's download bandwidth (bytes per second) across its running tasks.
 * Every piece download waits on `acquire` before it starts and reports what it used
 * with `record`, so a shaper can re-divide the total by observed demand.
 */
export interface TrafficShaper {
  readonly name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  addTask(task: ShapedTask): void;
  removeTask(taskId: string): void;
  /** Waits until `bytes` may be transferred for the task under its current limit. */
  acquire(taskId: string, bytes: number, options?: AbortOptions): Promise<void>;
  record(taskId: string, bytes: number): void;
  /** The task's current limit in bytes per second (Infinity when unlimited). */
  limitOf(taskId: string): number;
  /** Bytes recorded across all tasks during the last full second. */
  lastSecondUsage(): number;
}
