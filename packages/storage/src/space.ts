import type { GcCandidate } from "./gc.js";

export interface RoomPlan {
  /** Idle tasks to evict, least recently used first; empty when they could not make enough room. */
  evict: GcCandidate[];
  /** What evicting every idle task would free: the most room eviction can make. */
  evictable: number;
}

/**
 * Chooses which idle tasks to evict so that `shortfall` more bytes become free: the
 * least recently used first, until enough is freed. Tasks in use (leased: a download,
 * an upload, an export) are never chosen. When even all idle tasks together are not
 * enough, nothing is chosen (evicting them would lose the cache and still refuse) and
 * `evictable` says how much they hold.
 */
export function planRoom(candidates: readonly GcCandidate[], shortfall: number): RoomPlan {
  const idle = candidates.filter((task) => !task.inUse && task.bytes > 0).sort((a, b) => a.accessedAt - b.accessedAt);
  const evictable = idle.reduce((sum, task) => sum + task.bytes, 0);
  if (shortfall <= 0 || evictable < shortfall) return { evict: [], evictable };
  const evict: GcCandidate[] = [];
  let freed = 0;
  for (const task of idle) {
    if (freed >= shortfall) break;
    evict.push(task);
    freed += task.bytes;
  }
  return { evict, evictable };
}
