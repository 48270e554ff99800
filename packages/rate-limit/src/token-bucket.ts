import { DfError, isDfError } from "@df/interface/errors";

export interface TokenBucketOptions {
  /** Bytes per second; Infinity means unlimited (every take passes at once). */
  rate: number;
  /**
   * Most tokens the bucket holds, i.e. the largest burst after a quiet spell (default:
   * one second's worth). A take of more than the burst is allowed: it waits for a full
   * bucket and leaves it in debt, so the long-run rate still holds.
   */
  burst?: number;
  /** Start full (default) or empty. */
  startFull?: boolean;
  /** Milliseconds, monotonic; tests pass a fake. */
  now?: () => number;
}

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

/**
 * A token bucket in bytes with a first-come, first-served queue. Tokens accrue by the
 * real time elapsed, so a late timer never loses rate (only the burst caps what
 * accrues); one timer is armed, for the head of the queue only, and none while nobody
 * waits. The rate can change at any time (a shaper re-divides bandwidth every second)
 * and the waiters are re-timed at once.
 */
export class TokenBucket {
  #rate: number;
  #burst: number;
  /** The burst was not given: it stays one second's worth as the rate changes. */
  readonly #burstFollowsRate: boolean;
  #tokens: number;
  #updatedAt: number;
  readonly #now: () => number;
  readonly #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #granted = 0;
  /** Milliseconds with someone waiting, up to `#busySince` when a wait is under way. */
  #busyMs = 0;
  #busySince: number | undefined;

  constructor(options: TokenBucketOptions) {
    this.#now = options.now ?? (() => performance.now());
    this.#rate = checkRate(options.rate);
    this.#burstFollowsRate = options.burst === undefined;
    this.#burst = checkBurst(options.burst ?? defaultBurst(this.#rate));
    this.#tokens = options.startFull === false ? 0 : this.#burst;
    this.#updatedAt = this.#now();
  }

  get rate(): number {
    return this.#rate;
  }

  get burst(): number {
    return this.#burst;
  }

  /** Callers waiting now. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Bytes handed out since the bucket was made. */
  get granted(): number {
    return this.#granted;
  }

  /**
   * Milliseconds during which someone was waiting, since the bucket was made: a caller
   * held back by the limit for most of a second wants more than it gets.
   */
  busyMs(): number {
    return this.#busyMs + (this.#busySince === undefined ? 0 : this.#now() - this.#busySince);
  }

  /** Tokens in the bucket now (negative while in debt). */
  tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /**
   * Changes the rate, and the burst when given (a default burst follows the rate).
   * Tokens accrued so far count at the old rate; waiters are re-timed at once.
   */
  setRate(rate: number, burst?: number): void {
    this.#refill();
    this.#rate = checkRate(rate);
    this.#burst = checkBurst(burst ?? (this.#burstFollowsRate ? defaultBurst(this.#rate) : this.#burst));
    if (this.#tokens > this.#burst) this.#tokens = this.#burst;
    this.#drain();
  }

  /**
   * Takes `bytes` tokens, waiting in line until there are enough: `min(bytes, burst)`,
   * the rest becoming debt the next caller waits out. An aborted wait takes nothing.
   */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) {
      return Promise.reject(new DfError("INVALID_ARGUMENT", `a take must be a non-negative number of bytes, got ${String(bytes)}`));
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    this.#refill();
    if (this.#queue.length === 0 && this.#affords(bytes)) {
      this.#grant(bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        resolve,
        reject,
        signal,
        onAbort: signal ? () => this.#abandon(waiter) : undefined,
      };
      if (signal && waiter.onAbort) signal.addEventListener("abort", waiter.onAbort, { once: true });
      this.#queue.push(waiter);
      if (this.#queue.length === 1) {
        this.#busySince = this.#now();
        this.#arm();
      }
    });
  }

  /** Takes `bytes` at once if that needs no wait; true when taken. */
  tryTake(bytes: number): boolean {
    this.#refill();
    if (this.#queue.length > 0 || !this.#affords(bytes)) return false;
    this.#grant(bytes);
    return true;
  }

  /** Rejects every waiter with `reason` and stops the timer (the owner is going away). */
  close(reason: unknown = new DfError("CANCELLED", "the rate limiter was closed", { reason: "limiter-closed" })): void {
    this.#disarm();
    for (const waiter of this.#queue.splice(0)) {
      this.#detach(waiter);
      waiter.reject(reason);
    }
    this.#idleIfEmpty();
  }

  #affords(bytes: number): boolean {
    return this.#rate === Infinity || this.#tokens >= Math.min(bytes, this.#burst);
  }

  #grant(bytes: number): void {
    this.#granted += bytes;
    if (this.#rate !== Infinity) this.#tokens -= bytes;
  }

  #refill(): void {
    const now = this.#now();
    if (this.#rate === Infinity) this.#tokens = this.#burst;
    else if (now > this.#updatedAt) this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate);
    this.#updatedAt = now;
  }

  /** Grants waiters from the head while tokens last, then re-arms for the next one. */
  #drain(): void {
    this.#disarm();
    this.#refill();
    while (this.#queue.length > 0) {
      const head = this.#queue[0] as Waiter;
      if (!this.#affords(head.bytes)) break;
      this.#queue.shift();
      this.#detach(head);
      this.#grant(head.bytes);
      head.resolve();
    }
    this.#idleIfEmpty();
    this.#arm();
  }

  #idleIfEmpty(): void {
    if (this.#queue.length > 0 || this.#busySince === undefined) return;
    this.#busyMs += this.#now() - this.#busySince;
    this.#busySince = undefined;
  }

  #arm(): void {
    if (this.#timer || this.#queue.length === 0) return;
    const head = this.#queue[0] as Waiter;
    const missing = Math.min(head.bytes, this.#burst) - this.#tokens;
    // Whole milliseconds, at least one: an early wake-up only re-arms, a late one loses
    // nothing since tokens accrue by elapsed time.
    const waitMs = Math.max(1, Math.ceil((missing / this.#rate) * 1000));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, waitMs);
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #abandon(waiter: Waiter): void {
    const index = this.#queue.indexOf(waiter);
    if (index < 0) return;
    this.#queue.splice(index, 1);
    this.#detach(waiter);
    waiter.reject(abortError(waiter.signal as AbortSignal));
    // The head left: the next one may go now, or needs another wait.
    if (index === 0) this.#drain();
  }

  #detach(waiter: Waiter): void {
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener("abort", waiter.onAbort);
  }
}

function defaultBurst(rate: number): number {
  return rate;
}

function checkRate(rate: number): number {
  if (!(rate > 0)) {
    throw new DfError("INVALID_ARGUMENT", `a rate limit must be a positive number of bytes per second, got ${String(rate)}`);
  }
  return rate;
}

function checkBurst(burst: number): number {
  if (!(burst > 0)) throw new DfError("INVALID_ARGUMENT", `a burst must be a positive number of bytes, got ${String(burst)}`);
  return burst;
}

function abortError(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  if (isDfError(reason)) return reason;
  return new DfError("CANCELLED", "stopped waiting for bandwidth", { cause: reason, reason: "bandwidth-wait-aborted" });
}
