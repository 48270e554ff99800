import { statfs } from "node:fs/promises";

/** Space on the file system that holds the store, in bytes. */
export interface DiskUsage {
  /** What an unprivileged writer can ever use: used + available. */
  total: number;
  used: number;
  /** What an unprivileged writer can still allocate (excludes root-reserved blocks). */
  available: number;
}

/** Where the store learns its disk usage; tests inject a fixed figure. */
export type DiskUsageSource = (dir: string) => Promise<DiskUsage>;

/**
 * Reads `fs.statfs`. Usage is counted as `df` shows it, used / (used + available), so
 * blocks reserved for root count neither as used nor as free: otherwise a disk with a
 * 5 % root reserve would look 5 % fuller than the operator sees.
 */
export const statfsDiskUsage: DiskUsageSource = async (dir) => {
  const stats = await statfs(dir);
  const used = (stats.blocks - stats.bfree) * stats.bsize;
  const available = stats.bavail * stats.bsize;
  return { total: used + available, used, available };
};

export function usagePercent(usage: DiskUsage): number {
  return usage.total <= 0 ? 0 : (usage.used / usage.total) * 100;
}
