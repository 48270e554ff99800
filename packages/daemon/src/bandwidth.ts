import { type AbortOptions, type Logger, type ShapedTask, type TrafficShaper } from "@df/interface";
import { resolvePlugin, type BuiltinPlugins } from "@df/service-kit";
import { TokenBucket } from "@df/rate-limit";
import type { DaemonConfig } from "./config.js";

/** Traffic shapers shipped with df, by the names `download.trafficShaperType` uses. */
export const BUILTIN_SHAPERS: BuiltinPlugins<"shaper"> = {
  plain: () => import("@df/shaper-plain"),
  static: () => import("@df/shaper-static"),
  sampling: () => import("@df/shaper-sampling"),
};

/** The slice of the download bandwidth a piece download sees: wait, then say what was used. */
export interface PieceBandwidth {
  acquire(taskId: string, bytes: number, options?: AbortOptions): Promise<void>;
  record(taskId: string, bytes: number): void;
}

/**
 * The daemon's download bandwidth: the configured traffic shaper divides it among tasks,
 * and one bucket holds the sum of all of them to `download.totalRateLimit` whatever the
 * shaper does. Every piece, from a parent or from an origin, waits on the task's limit
 * first and then on the total, so a task held back by its own limit takes nothing from
 * the others meanwhile.
 */
export class DownloadBandwidth implements PieceBandwidth {
  readonly shaper: TrafficShaper;
  readonly #total: TokenBucket;
  /** Task ID → the download that added it: a run ending late must not remove its successor. */
  readonly #owners = new Map<string, object>();

  constructor(shaper: TrafficShaper, totalRateLimit: number) {
    this.shaper = shaper;
    // A tenth of a second's worth: enough to ride out a late timer, small enough that
    // any few seconds stay within a few percent of the limit. Larger pieces go into debt.
    this.#total = new TokenBucket({ rate: totalRateLimit, burst: Math.max(totalRateLimit / 10, 64 * 1024) });
  }

  /** Resolves the shaper named in config, with the download limits as its options. */
  static async fromConfig(
    config: DaemonConfig,
    options: { logger: Logger; baseDir?: string; builtins?: BuiltinPlugins<"shaper"> },
  ): Promise<DownloadBandwidth> {
    const { trafficShaperType, totalRateLimit, perPeerRateLimit } = config.download;
    const shaper = await resolvePlugin(withLimits(trafficShaperType, { totalRateLimit, perPeerRateLimit }), {
      kind: "shaper",
      key: "download.trafficShaperType",
      builtins: options.builtins ?? BUILTIN_SHAPERS,
      logger: options.logger,
      ...(options.baseDir ? { baseDir: options.baseDir } : {}),
    });
    return new DownloadBandwidth(shaper, totalRateLimit);
  }

  get totalRateLimit(): number {
    return this.#total.rate;
  }

  start(): void {
    this.shaper.start();
  }

  /** Adds a task for `owner` (its download), replacing an earlier owner's. */
  addTask(task: ShapedTask, owner: object): void {
    this.#owners.set(task.taskId, owner);
    this.shaper.addTask(task);
  }

  /** Removes the task if `owner` is still the one that added it. */
  removeTask(taskId: string, owner: object): void {
    if (this.#owners.get(taskId) !== owner) return;
    this.#owners.delete(taskId);
    this.shaper.removeTask(taskId);
  }

  async acquire(taskId: string, bytes: number, options: AbortOptions = {}): Promise<void> {
    await this.shaper.acquire(taskId, bytes, options);
    await this.#total.take(bytes, options.signal);
  }

  record(taskId: string, bytes: number): void {
    this.shaper.record(taskId, bytes);
  }

  stop(): void {
    this.shaper.stop();
    this.#total.close();
  }
}

/**
 * The config entry with the download limits as the plugin's options; options written in
 * the entry itself win (a shaper may want its own total).
 */
function withLimits(entry: unknown, limits: { totalRateLimit: number; perPeerRateLimit: number }): unknown {
  if (typeof entry === "string") return [entry, limits];
  if (Array.isArray(entry)) return [entry[0], { ...limits, ...(entry[1] as Record<string, unknown> | undefined) }];
  if (typeof entry === "object" && entry !== null && "name" in entry) {
    const { name, options } = entry as { name: unknown; options?: Record<string, unknown> };
    return { name, options: { ...limits, ...options } };
  }
  return entry;
}
