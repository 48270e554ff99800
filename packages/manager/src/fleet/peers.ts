import { inject, injectable } from "tsyringe";
import { Tokens, type Logger } from "@df/interface";
import type { manager } from "@df/rpc";
import { FleetStore, type SeenPeer } from "./store.js";

const FLUSH_MS = 5000;
const MAX_PENDING = 10_000;

/**
 * Remembers the peers that ask for schedulers and writes them in batches, so that
 * ListSchedulers (thousands a second) never waits on a write.
 */
@injectable()
export class PeerRecorder {
  readonly #pending = new Map<string, SeenPeer>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(
    @inject(FleetStore) private readonly store: FleetStore,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {}

  seen(request: manager.ListSchedulersRequest, clusterId: number | undefined): void {
    if (this.#pending.size >= MAX_PENDING) return;
    this.#pending.set(`${request.hostname}\u0000${request.ip}`, {
      hostname: request.hostname,
      ip: request.ip,
      type: "normal",
      idc: request.idc ?? "",
      location: request.location ?? "",
      version: request.version,
      commit: request.commit,
      clusterId,
    });
  }

  start(): void {
    this.#timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }

  /** Writes what was seen since the last flush. */
  flush(): Promise<void> {
    // Assigned before the body runs: a body that finishes at once (nothing pending) must
    // not leave a settled promise behind that every later flush would return.
    this.#flushing ??= Promise.resolve().then(async () => {
      try {
        while (this.#pending.size) {
          const batch = [...this.#pending.values()].slice(0, 500);
          for (const p of batch) this.#pending.delete(`${p.hostname}\u0000${p.ip}`);
          await this.store.recordPeers(batch);
        }
      } catch (error) {
        this.logger.warn("cannot record peers", { error: (error as Error).message });
      } finally {
        this.#flushing = undefined;
      }
    });
    return this.#flushing;
  }
}
