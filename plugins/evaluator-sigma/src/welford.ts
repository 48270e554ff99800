/**
 * Running mean and variance by Welford's method: one pass, no sum of squares, so costs
 * around 10⁹ ms with a spread of a few ms keep their variance instead of losing it to
 * cancellation.
 */
export class RunningStats {
  #count = 0;
  #mean = 0;
  #m2 = 0;

  push(value: number): void {
    this.#count++;
    const delta = value - this.#mean;
    this.#mean += delta / this.#count;
    this.#m2 += delta * (value - this.#mean);
  }

  get count(): number {
    return this.#count;
  }

  /** 0 before any value. */
  get mean(): number {
    return this.#mean;
  }

  /**
   * Population variance (÷ n), as upstream's statistics library computes it. `m2` cannot
   * go negative in exact arithmetic; the max keeps rounding from producing a NaN root.
   */
  get variance(): number {
    return this.#count === 0 ? 0 : Math.max(0, this.#m2) / this.#count;
  }

  get standardDeviation(): number {
    return Math.sqrt(this.variance);
  }
}
