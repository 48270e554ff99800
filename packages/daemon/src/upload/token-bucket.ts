import { setTimeout as sleep } from "node:timers/promises";
import { DfError, isDfError } from "@df/interface";

/**
 * A token bucket in bytes: `rate` bytes per second, bursts of up to `burst` bytes. A
 * caller may take more than is there; the bucket goes into debt and the caller waits
 * until the debt is paid. Concurrent callers queue up behind each other's debt, so the
 * total stays at `rate` however many uploads share the bucket.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #updatedAt: number;
  readonly #now: () => number;

  constructor(options: { rate: number; burst?: number; now?: () => number }) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) {
      throw new DfError("INVALID_ARGUMENT", `a rate limit must be a positive number of bytes per second, got ${String(options.rate)}`);
    }
    this.rate = options.rate;
    // One second's worth by default: short bursts pass, sustained use is held to the rate.
    this.burst = options.burst ?? options.rate;
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = this.burst;
    this.#updatedAt = this.#now();
  }

  /** Takes `bytes` tokens, waiting while the bucket is in debt. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.#refill();
    this.#tokens -= bytes;
    if (this.#tokens >= 0) return;
    const waitMs = (-this.#tokens / this.rate) * 1000;
    try {
      await sleep(waitMs, undefined, signal ? { signal } : undefined);
    } catch (error) {
      // Give back what was not used, so an abandoned upload does not slow the others.
      this.#tokens += bytes;
      if (isDfError(signal?.reason)) throw signal.reason;
      throw new DfError("CANCELLED", "stopped waiting for upload bandwidth", { cause: error });
    }
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.rate);
    this.#updatedAt = now;
  }
}
