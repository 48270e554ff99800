import { DfError } from "@df/interface";
import { usagePercent, type DiskUsage } from "./disk-usage.js";

export interface GcOptions {
  /** Evict a task unused for this long (default 30 days, as Dragonfly's `gc.policy.task_ttl`). */
  taskTtlMs?: number;
  /** Start evicting when disk usage reaches this percentage (default 80). */
  highWatermarkPercent?: number;
  /** Evict until usage is back down to this percentage (default 60). */
  lowWatermarkPercent?: number;
  /** How often GC runs by itself (default 15 min); 0 turns the timer off. */
  intervalMs?: number;
}

export type GcConfig = Required<GcOptions>;

const DAY_MS = 24 * 60 * 60 * 1000;

export function resolveGcConfig(options: GcOptions = {}): GcConfig {
  const config: GcConfig = {
    taskTtlMs: options.taskTtlMs ?? 30 * DAY_MS,
    highWatermarkPercent: options.highWatermarkPercent ?? 80,
    lowWatermarkPercent: options.lowWatermarkPercent ?? 60,
    intervalMs: options.intervalMs ?? 15 * 60 * 1000,
  };
  const { taskTtlMs, highWatermarkPercent: high, lowWatermarkPercent: low, intervalMs } = config;
  if (!(taskTtlMs > 0)) throw invalid(`gc.taskTtlMs must be a positive number of ms (Infinity to keep tasks forever), got ${taskTtlMs}`);
  if (!(low >= 0 && low < high && high <= 100)) {
    throw invalid(`gc watermarks must satisfy 0 ≤ low < high ≤ 100, got low ${low} and high ${high}`);
  }
  if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) throw invalid(`gc.intervalMs must be ≥ 0 (0 = no timer), got ${intervalMs}`);
  return config;
}

function invalid(message: string): DfError {
  return new DfError("INVALID_ARGUMENT", message);
}

export interface GcCandidate {
  taskId: string;
  accessedAt: number;
  /** Bytes the task holds on disk. */
  bytes: number;
  inUse: boolean;
}

/**
 * `make-room`: evicted on demand, for a new task that did not fit; `content-changed`:
 * its file no longer matched its pieces at a local hit.
 */
export type EvictionReason = "ttl" | "disk-pressure" | "make-room" | "content-changed";

export interface Eviction {
  taskId: string;
  reason: EvictionReason;
  bytes: number;
}

export interface GcPlan {
  evictions: Eviction[];
  /** Bytes that disk pressure asked for (0 below the high watermark). */
  bytesToFree: number;
}

/**
 * Chooses what to evict: first every idle task past its TTL, then, when usage is at or
 * above the high watermark, idle tasks least recently used first until usage would be
 * down to the low watermark (bytes to free = total × (usage − low) / 100, as Dragonfly
 * computes it). Tasks in use are never chosen.
 */
export function planGc(candidates: readonly GcCandidate[], now: number, usage: DiskUsage | undefined, config: GcConfig): GcPlan {
  const evictions: Eviction[] = [];
  const rest: GcCandidate[] = [];
  for (const task of candidates) {
    if (task.inUse) continue;
    if (task.accessedAt + config.taskTtlMs <= now) evictions.push({ taskId: task.taskId, reason: "ttl", bytes: task.bytes });
    else rest.push(task);
  }
  let bytesToFree = 0;
  if (usage && usagePercent(usage) >= config.highWatermarkPercent) {
    bytesToFree = Math.ceil((usage.total * (usagePercent(usage) - config.lowWatermarkPercent)) / 100);
    let freed = evictions.reduce((sum, eviction) => sum + eviction.bytes, 0);
    rest.sort((a, b) => a.accessedAt - b.accessedAt);
    for (const task of rest) {
      if (freed >= bytesToFree) break;
      evictions.push({ taskId: task.taskId, reason: "disk-pressure", bytes: task.bytes });
      freed += task.bytes;
    }
  }
  return { evictions, bytesToFree };
}
