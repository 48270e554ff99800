/** How failed sign-ins are counted and for how long a lockout lasts (auth.signin in the config). */
export interface SigninLimits {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  windowMs: number;
  lockoutMs: number;
}

export type LockScope = "user" | "address";

/** A refusal: who is locked out and for how much longer. */
export interface Lockout {
  scope: LockScope;
  retryAfterMs: number;
}

interface Entry {
  /** Failure times within the window, oldest first. */
  failures: number[];
  /** Sign-ins begun and not yet decided: they count as failures until they succeed. */
  pending: number;
  lockedUntil: number;
}

// An attacker cycling through names or IPv6 addresses must not grow the map without
// bound (see #trim).
const MAX_KEYS = 100_000;

// How long to wait when the failures so far and the sign-ins still being checked reach
// the limit: about one password check.
const BUSY_RETRY_MS = 1000;

/**
 * Failed sign-ins per user name and per client address, in this process's memory: a
 * restart forgets them, and managers behind one load balancer count separately. A key
 * with `max` failures within the window is locked for the lockout time, whatever
 * password it then tries. A sign-in counts as a failure from `begin` until `succeed`,
 * so many guesses sent at once cannot all be checked before the first one fails. A
 * success clears the user's failures, never the address's (one known account must not
 * let an address go on guessing others).
 */
export class SigninLimiter {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly limits: SigninLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a sign-in: the lockout that refuses it (the longer of user's and address's), or undefined and it is counted. */
  begin(name: string, address: string): Lockout | undefined {
    const now = this.now();
    let refused: Lockout | undefined;
    for (const [scope, key, max] of this.#keys(name, address)) {
      // Looked at, not added: a refused sign-in leaves nothing behind.
      const entry = this.#entries.get(key);
      if (!entry) continue;
      this.#prune(entry, now);
      const retryAfterMs = entry.lockedUntil > now ? entry.lockedUntil - now : entry.failures.length + entry.pending >= max ? BUSY_RETRY_MS : 0;
      if (retryAfterMs > (refused?.retryAfterMs ?? 0)) refused = { scope, retryAfterMs };
    }
    if (refused) return refused;
    for (const [, key] of this.#keys(name, address)) this.#entry(key, now).pending++;
    this.#trim(now);
    return undefined;
  }

  /** The begun sign-in failed; the scopes it locked out (empty when none). */
  fail(name: string, address: string): LockScope[] {
    const now = this.now();
    const locked: LockScope[] = [];
    for (const [scope, key, max] of this.#keys(name, address)) {
      const entry = this.#entry(key, now);
      entry.pending = Math.max(0, entry.pending - 1);
      entry.failures.push(now);
      if (entry.failures.length >= max && entry.lockedUntil <= now) {
        entry.lockedUntil = now + this.limits.lockoutMs;
        entry.failures = [];
        locked.push(scope);
      }
    }
    return locked;
  }

  /** The begun sign-in succeeded: the user starts again from no failures. */
  succeed(name: string, address: string): void {
    const now = this.now();
    for (const [scope, key] of this.#keys(name, address)) {
      const entry = this.#entry(key, now);
      entry.pending = Math.max(0, entry.pending - 1);
      if (scope === "user") entry.failures = [];
      this.#forgetIfEmpty(key, entry, now);
    }
  }

  /** Ends a begun sign-in that was decided neither way (the database failed): it counts for nothing. */
  abandon(name: string, address: string): void {
    const now = this.now();
    for (const [, key] of this.#keys(name, address)) {
      const entry = this.#entry(key, now);
      entry.pending = Math.max(0, entry.pending - 1);
      this.#forgetIfEmpty(key, entry, now);
    }
  }

  /** Keeps the map to keys with something to remember. */
  #forgetIfEmpty(key: string, entry: Entry, now: number): void {
    if (entry.pending === 0 && entry.failures.length === 0 && entry.lockedUntil <= now) this.#entries.delete(key);
  }

  #keys(name: string, address: string): Array<[LockScope, string, number]> {
    return [
      ["user", `u:${name}`, this.limits.maxFailuresPerUser],
      ["address", `a:${address}`, this.limits.maxFailuresPerAddress],
    ];
  }

  /** The key's entry, failures older than the window dropped. */
  #entry(key: string, now: number): Entry {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { failures: [], pending: 0, lockedUntil: 0 };
      this.#entries.set(key, entry);
    }
    this.#prune(entry, now);
    return entry;
  }

  /** Drops failures older than the window. */
  #prune(entry: Entry, now: number): void {
    const since = now - this.limits.windowMs;
    while (entry.failures.length > 0 && entry.failures[0]! <= since) entry.failures.shift();
  }

  /**
   * Past MAX_KEYS, forgets the failure counts of keys neither locked out nor being
   * checked, then (if that is not enough) the oldest lockouts, down to half: one sweep
   * per MAX_KEYS / 2 new keys. Filling the map takes that many sign-ins, each a password
   * hash (~0.1 s of CPU), so a lockout cannot cheaply be pushed out.
   */
  #trim(now: number): void {
    if (this.#entries.size <= MAX_KEYS) return;
    for (const [key, entry] of this.#entries) {
      if (entry.pending === 0 && entry.lockedUntil <= now) this.#entries.delete(key);
    }
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= MAX_KEYS / 2) break;
      if (entry.pending === 0) this.#entries.delete(key);
    }
  }

  /** How many keys are remembered (for tests of the bound). */
  get size(): number {
    return this.#entries.size;
  }
}
