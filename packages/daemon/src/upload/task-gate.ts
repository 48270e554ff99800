import { DfError, isDfError } from "@df/interface";
import { UploadLimiter, type UploadSlot } from "./limiter.js";

/**
 * At most `perTask` uploads of one task at once, the rest queued (first come, first
 * served) and refused as busy after the queue timeout. An uplink shared by every child
 * at once delivers each piece late (sixteen uploads of 4 MiB at 100 Mbit/s take 5.4 s
 * each); served a few at a time, the same bytes go out in the same time but each piece
 * reaches its child, and from there the swarm, in a fraction of that (BitTorrent's
 * unchoke slots). A child refused as busy takes pieces from other parents meanwhile.
 */
export class TaskUploadGate {
  readonly #perTask: number;
  readonly #queueTimeoutMs: number | undefined;
  readonly #tasks = new Map<string, UploadLimiter>();

  constructor(perTask: number, queueTimeoutMs?: number) {
    this.#perTask = perTask;
    this.#queueTimeoutMs = queueTimeoutMs;
  }

  async acquire(taskId: string, signal?: AbortSignal): Promise<UploadSlot> {
    let limiter = this.#tasks.get(taskId);
    if (!limiter) {
      limiter = new UploadLimiter({ concurrency: this.#perTask, ...(this.#queueTimeoutMs === undefined ? {} : { queueTimeoutMs: this.#queueTimeoutMs }) });
      this.#tasks.set(taskId, limiter);
    }
    const held = limiter;
    try {
      const slot = await held.acquire(signal);
      return {
        ...slot,
        release: (ok) => {
          slot.release(ok);
          this.#forgetIfIdle(taskId, held);
        },
      };
    } catch (error) {
      this.#forgetIfIdle(taskId, held);
      if (isDfError(error) && error.reason === "upload-busy") {
        throw new DfError(
          "RESOURCE_EXHAUSTED",
          `this host is serving ${this.#perTask} uploads of task ${taskId} at once and none finished within ${held.queueTimeoutMs} ms; take the piece from another parent or retry later`,
          { reason: "upload-busy", details: { perTask: this.#perTask }, cause: error },
        );
      }
      throw error;
    }
  }

  /** Tasks with uploads running or queued (what the gate holds on to). */
  get tasks(): number {
    return this.#tasks.size;
  }

  #forgetIfIdle(taskId: string, limiter: UploadLimiter): void {
    if (limiter.active === 0 && limiter.waiting === 0 && this.#tasks.get(taskId) === limiter) this.#tasks.delete(taskId);
  }
}
