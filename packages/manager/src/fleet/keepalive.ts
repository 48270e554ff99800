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

/** What a session knows of its member once its first keepalive found the row. */
interface Member {
  kind: MemberKind;
  id: number;
  clusterId: number;
  /** hostname, ip and cluster the stream named: another key goes the direct way. */
  key: string;
  /** The keepalive time the database holds from this session's last write. */
  lastBeat: Date;
  /** The row was gone at the last flush: the next beat looks it up again. */
  gone: boolean;
}

interface Session {
  member: Member | undefined;
  ended: boolean;
}

const keyOf = (key: MemberKey) => `${key.kind}\u0000${key.hostname}\u0000${key.ip}\u0000${key.clusterId}`;

/**
 * Liveness of schedulers and seed peers. A member is active while it keeps sending on
 * its KeepAlive stream; it becomes inactive when the stream ends or stays silent for
 * `keepalive.timeout` (default 1.5 × interval). A sweep over the database catches
 * members whose manager died (nobody is left to notice their stream break).
 *
 * A stream's first keepalive is written at once (it finds the member's row); later ones
 * are batched: every `flushMs` one UPDATE per member kind marks all members that beat
 * since as active. `flushMs` is timeout / 8 (at most 1 s), so a member beating every
 * interval never looks silent to a sweep, and one that stops is still caught within
 * 2 × interval (timeout + flushMs + sweep period).
 */
@injectable()
export class KeepAliveTracker {
  readonly timeoutMs: number;
  readonly flushMs: number;
  readonly #sweepMs: number;
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;
  #streams = 0;
  #pending = new Set<Session>();
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #stopped = false;
  events: KeepAliveEvents = {};

  constructor(
    @inject(FleetStore) private readonly store: FleetStore,
    @inject(FleetCache) private readonly cache: FleetCache,
    @inject(ManagerTokens.Config) config: ManagerConfig,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {
    this.timeoutMs = config.keepalive.timeout ?? Math.round(config.keepalive.interval * 1.5);
    this.flushMs = Math.max(10, Math.min(Math.floor(this.timeoutMs / 8), 1000));
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
    this.#stopped = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }

  /** Marks inactive every member silent past the timeout (any manager's). */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const changed = await this.store.sweep(this.timeoutMs);
      if (changed.schedulerClusters.length || changed.seedPeerClusters.length) {
        this.cache.invalidate();
        this.logger.info("silent members marked inactive", { schedulerClusters: changed.schedulerClusters, seedPeerClusters: changed.seedPeerClusters });
      }
    } catch (error) {
      this.logger.warn("keepalive sweep failed", { error: (error as Error).message });
    } finally {
      this.#sweeping = false;
    }
  }

  /** Writes the batched keepalives now (and waits for a write in flight). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#pending.size) await this.#flush();
  }

  #schedule(): void {
    if (this.#flushTimer || this.#flushing || this.#stopped) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#flush();
    }, this.flushMs);
    this.#flushTimer.unref();
  }

  #flush(): Promise<void> {
    const batch = [...this.#pending];
    this.#pending.clear();
    const flushing = this.#write(batch).finally(() => {
      this.#flushing = undefined;
      if (this.#pending.size) this.#schedule();
    });
    this.#flushing = flushing;
    return flushing;
  }

  async #write(batch: readonly Session[]): Promise<void> {
    for (const kind of ["scheduler", "seed-peer"] as const) {
      const sessions = batch.filter((s) => s.member?.kind === kind);
      if (!sessions.length) continue;
      let rows;
      try {
        rows = await this.store.touchMany(kind, [...new Set(sessions.map((s) => s.member!.id))]);
      } catch (error) {
        // Written with the next batch; the member's silence timer still runs meanwhile.
        this.logger.warn("cannot record keepalives", { kind, members: sessions.length, error: (error as Error).message });
        for (const s of sessions) if (!s.ended) this.#pending.add(s);
        continue;
      }
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const s of sessions) {
        const row = byId.get(s.member!.id);
        if (row) s.member!.lastBeat = row.at;
        else s.member!.gone = true;
      }
      for (const row of rows) if (row.wasInactive) this.#activated(kind, row.id);
    }
  }

  #activated(kind: MemberKind, id: number, hostname?: string): void {
    this.cache.invalidate();
    this.logger.info("member active", { kind, id, ...(hostname ? { hostname } : {}) });
    this.events.onActive?.(kind, id);
  }

  open(): KeepAliveSession {
    this.#streams++;
    const session: Session = { member: undefined, ended: false };
    let timer: NodeJS.Timeout | undefined;
    const deactivate = async (reason: "stream-ended" | "silent"): Promise<void> => {
      // A write in flight may carry this session's last keepalive: let its time land first.
      this.#pending.delete(session);
      if (this.#flushing) await this.#flushing.catch(() => {});
      const member = session.member;
      if (!member) return;
      const { kind, id, lastBeat } = member;
      try {
        if (await this.store.deactivate(kind, id, lastBeat)) {
          this.cache.invalidate();
          this.logger.info("member inactive", { kind, id, reason });
          this.events.onInactive?.(kind, id, reason);
        }
      } catch (error) {
        // The sweep will catch it once the database is back.
        this.logger.warn("cannot mark member inactive", { kind, id, error: (error as Error).message });
      }
    };
    const silent = () => {
      if (timer) timer.refresh();
      else {
        timer = setTimeout(() => void deactivate("silent"), this.timeoutMs);
        timer.unref();
      }
    };
    return {
      beat: async (key) => {
        const known = session.member;
        if (known && !known.gone && !session.ended && known.key === keyOf(key)) {
          this.#pending.add(session);
          this.#schedule();
          silent();
          return { id: known.id, clusterId: known.clusterId };
        }
        const touched = await this.store.touch(key);
        if (!touched || session.ended) return touched;
        session.member = { kind: key.kind, id: touched.id, clusterId: touched.clusterId, key: keyOf(key), lastBeat: touched.at, gone: false };
        if (touched.wasInactive) this.#activated(key.kind, touched.id, key.hostname);
        silent();
        return touched;
      },
      end: async () => {
        if (session.ended) return;
        session.ended = true;
        this.#streams--;
        if (timer) clearTimeout(timer);
        await deactivate("stream-ended");
      },
    };
  }
}
