/**
 * Counts bytes by whole periods (one second by default) without a timer: the period a
 * byte falls in is worked out when it is recorded or read. `lastPeriod` is what the
 * previous full period saw, as Dragonfly's "bandwidth used in the last second".
 */
export class UsageMeter {
  readonly periodMs: number;
  readonly #now: () => number;
  #period: number;
  #current = 0;
  #previous = 0;
  #total = 0;

  constructor(options: { periodMs?: number; now?: () => number } = {}) {
    this.periodMs = options.periodMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#period = Math.floor(this.#now() / this.periodMs);
  }

  record(bytes: number): void {
    this.#roll();
    this.#current += bytes;
    this.#total += bytes;
  }

  /** Bytes recorded during the last full period (0 if it saw none or is long gone). */
  lastPeriod(): number {
    this.#roll();
    return this.#previous;
  }

  /** Bytes recorded so far in the period under way. */
  currentPeriod(): number {
    this.#roll();
    return this.#current;
  }

  /** Bytes recorded since the meter was made. */
  get total(): number {
    return this.#total;
  }

  #roll(): void {
    const period = Math.floor(this.#now() / this.periodMs);
    if (period === this.#period) return;
    this.#previous = period === this.#period + 1 ? this.#current : 0;
    this.#current = 0;
    this.#period = period;
  }
}
