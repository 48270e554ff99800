import { inject, injectable } from "tsyringe";
import { Tokens, type Logger } from "@df/interface";
import type { ManagerConfig } from "../config.js";
import { ManagerTokens } from "../tokens.js";
import { FleetCache } from "./cache.js";
import { FleetStore, type MemberKey, type MemberKind } from "./store.js";

export interface KeepAliveEvents {
  onInactive?(kind: MemberKind, id: number, reason: "stream-ended" | "silent" | "swept"): void;
  onActive?(kind: MemberKind, id: number): void;
}

/** One member's stream on this manager. */
export interface KeepAliveSession {
  /** Records a keepalive message; resolves to the member (undefined: not registered). */
  beat(key: MemberKey): Promise<{ id: number; clusterId: number } | undefined>;
  /** The stream ended (or broke): the member becomes inactive unless it beat elsewhere since. */
  end(): Promise<void>;
}

/**
 * Liveness of schedulers and seed peers. A member is active while it keeps sending on
 * its KeepAlive stream; it becomes inactive when the stream ends or stays silent for
 * `keepalive.timeout` (default 1.5 × interval). A sweep over the database catches
 * members whose manager died (nobody is left to notice their stream break).
 */
@injectable()
export class KeepAliveTracker {
  readonly timeoutMs: number;
  readonly #sweepMs: number;
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;
  #streams = 0;
  events: KeepAliveEvents = {};

  constructor(
    @inject(FleetStore) private readonly store: FleetStore,
    @inject(FleetCache) private readonly cache: FleetCache,
    @inject(ManagerTokens.Config) config: ManagerConfig,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {
    this.timeoutMs = config.keepalive.timeout ?? Math.round(config.keepalive.interval * 1.5);
    // Sweep often enough that a silent member is caught within 2 × interval.
    this.#sweepMs = Math.max(100, Math.min(Math.floor(config.keepalive.interval / 4), 5000));
  }

  get streams(): number {
    return this.#streams;
  }

  start(): void {
    this.#sweeper = setInterval(() => void this.sweep(), this.#sweepMs);
    this.#sweeper.unref();
  }

  stop(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Marks inactive every member silent past the timeout (any manager's). */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const changed = await this.store.sweep(this.timeoutMs);
      for (const id of changed.schedulerClusters) this.cache.invalidate(id);
      if (changed.seedPeerClusters.length) this.cache.invalidate();
      if (changed.schedulerClusters.length || changed.seedPeerClusters.length) {
        this.logger.info("silent members marked inactive", { schedulerClusters: changed.schedulerClusters, seedPeerClusters: changed.seedPeerClusters });
      }
    } catch (error) {
      this.logger.warn("keepalive sweep failed", { error: (error as Error).message });
    } finally {
      this.#sweeping = false;
    }
  }

  open(): KeepAliveSession {
    this.#streams++;
    let member: { kind: MemberKind; id: number; clusterId: number; lastBeat: Date } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const deactivate = async (reason: "stream-ended" | "silent"): Promise<void> => {
      if (!member) return;
      const { kind, id, clusterId, lastBeat } = member;
      try {
        if (await this.store.deactivate(kind, id, lastBeat)) {
          this.cache.invalidate(kind === "scheduler" ? clusterId : undefined);
          this.logger.info("member inactive", { kind, id, reason });
          this.events.onInactive?.(kind, id, reason);
        }
      } catch (error) {
        // The sweep will catch it once the database is back.
        this.logger.warn("cannot mark member inactive", { kind, id, error: (error as Error).message });
      }
    };
    return {
      beat: async (key) => {
        const touched = await this.store.touch(key);
        if (!touched || ended) return touched;
        member = { kind: key.kind, id: touched.id, clusterId: touched.clusterId, lastBeat: touched.at };
        if (touched.wasInactive) {
          this.cache.invalidate(key.kind === "scheduler" ? touched.clusterId : undefined);
          this.logger.info("member active", { kind: key.kind, id: touched.id, hostname: key.hostname, ip: key.ip });
          this.events.onActive?.(key.kind, touched.id);
        }
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void deactivate("silent"), this.timeoutMs);
        timer.unref();
        return touched;
      },
      end: async () => {
        if (ended) return;
        ended = true;
        this.#streams--;
        if (timer) clearTimeout(timer);
        await deactivate("stream-ended");
      },
    };
  }
}
