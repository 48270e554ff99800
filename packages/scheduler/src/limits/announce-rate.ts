import { TokenBucket } from "@df/rate-limit";
import type { SchedulerConfig } from "../config.js";
import { rateKey } from "./caller.js";
import { limitRefusal } from "./refusal.js";

type RateLimits = Pick<SchedulerConfig["limits"], "announceRate" | "announceBurst" | "maxCallers">;

/** A full sweep of idle buckets runs at most this often, so a spray of new addresses cannot make every call pay for one. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * Announces per caller address, one token bucket each: a flood from one address is
 * refused at once (RESOURCE_EXHAUSTED, no queueing) and leaves the others' budgets
 * untouched. Buckets of quiet callers are dropped when the table is full: a full bucket
 * carries no state a new one would not.
 */
export class AnnounceRate {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #limits: RateLimits;
  readonly #now: () => number;
  #sweptAt = -Infinity;

  constructor(limits: RateLimits, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Callers with a bucket now. */
  get callers(): number {
    return this.#buckets.size;
  }

  /** Counts one announce from `address`; throws when its budget is spent. */
  take(address: string, call: string): void {
    const key = rateKey(address);
    const bucket = this.#buckets.get(key) ?? this.#add(key);
    if (bucket.tryTake(1)) return;
    const { announceRate, announceBurst } = this.#limits;
    throw limitRefusal(
      "RESOURCE_EXHAUSTED",
      "announceRate",
      `${call} from ${key} refused: more than ${announceRate} announces a second (burst ${announceBurst}) from one address (limits.announceRate, limits.announceBurst); slow down, or raise those limits on the scheduler`,
      { caller: key, rate: announceRate, burst: announceBurst },
    );
  }

  #add(key: string): TokenBucket {
    const { maxCallers, announceRate, announceBurst } = this.#limits;
    if (this.#buckets.size >= maxCallers) this.#sweep();
    if (this.#buckets.size >= maxCallers) {
      throw limitRefusal(
        "RESOURCE_EXHAUSTED",
        "maxCallers",
        `announce from ${key} refused: ${this.#buckets.size} other addresses are announcing now (limits.maxCallers = ${maxCallers}); raise limits.maxCallers on the scheduler`,
        { caller: key, max: maxCallers },
      );
    }
    const bucket = new TokenBucket({ rate: announceRate, burst: announceBurst, now: this.#now });
    this.#buckets.set(key, bucket);
    return bucket;
  }

  #sweep(): void {
    const now = this.#now();
    if (now - this.#sweptAt < SWEEP_INTERVAL_MS) return;
    this.#sweptAt = now;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens() >= bucket.burst) this.#buckets.delete(key);
    }
  }
}
