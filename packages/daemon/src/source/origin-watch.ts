import { DfError } from "@df/interface";

/** A request's silence is cut after a third of the origin's stall window, within these bounds. */
const REQUEST_IDLE_MIN_MS = 1000;
const REQUEST_IDLE_MAX_MS = 10_000;

/**
 * Watches one download's traffic from its origin. A request that goes silent for a
 * while is cut so that it can be retried on a new connection (a stuck connection or a
 * stuck origin worker often recovers that way); when the origin as a whole sent nothing
 * for the stall window, across every request and retry, the download fails and says so.
 */
export class OriginWatch {
  #lastByteAt = performance.now();

  constructor(
    /** `download.sourceStallTimeout`. */
    readonly stallMs: number,
    /** Host (and port) of the origin, for messages: never the whole URL, which may carry a token. */
    readonly origin: string,
  ) {}

  get requestIdleMs(): number {
    return Math.min(REQUEST_IDLE_MAX_MS, Math.max(REQUEST_IDLE_MIN_MS, this.stallMs / 3));
  }

  /** Ends with the origin-silent error once the whole origin went quiet for the stall window. */
  throwIfSilent(now = performance.now()): void {
    const silent = now - this.#lastByteAt;
    if (silent < this.stallMs) return;
    throw new DfError(
      "DEADLINE_EXCEEDED",
      `the origin ${this.origin} sent nothing for ${formatSeconds(silent)} (download.sourceStallTimeout is ${formatSeconds(this.stallMs)}); it may be down or overloaded: try again later, or raise the timeout`,
      { reason: "origin-silent", details: { origin: this.origin, silentMs: Math.round(silent), stallTimeoutMs: this.stallMs } },
    );
  }

  /**
   * Watches one request: its `signal` aborts (reason `origin-idle`) after requestIdleMs
   * without a byte. Only bytes past `reached` (what earlier attempts of the same range
   * got) count as the origin's progress: an origin that sends the same first MiB on
   * every retry and then stalls is stuck, not slow.
   */
  request(outer: AbortSignal | undefined, reached = 0): WatchedRequest {
    return new WatchedRequest(this, (now) => (this.#lastByteAt = now), outer, reached);
  }
}

export class WatchedRequest {
  readonly #controller = new AbortController();
  readonly #watch: OriginWatch;
  readonly #onByte: (now: number) => void;
  readonly signal: AbortSignal;
  readonly #reached: number;
  #lastByteAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  /** Body bytes this request got. */
  received = 0;

  constructor(watch: OriginWatch, onByte: (now: number) => void, outer: AbortSignal | undefined, reached: number) {
    this.#watch = watch;
    this.#onByte = onByte;
    this.#reached = reached;
    this.signal = outer ? AbortSignal.any([outer, this.#controller.signal]) : this.#controller.signal;
    this.#arm(watch.requestIdleMs);
  }

  /** Its own idle cut, when that is what ended it. */
  get idleCut(): DfError | undefined {
    const reason: unknown = this.#controller.signal.reason;
    return this.#controller.signal.aborted ? (reason as DfError) : undefined;
  }

  bytes(count: number): void {
    const now = performance.now();
    this.#lastByteAt = now;
    this.received += count;
    if (this.received > this.#reached) this.#onByte(now);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * One timer, re-armed only when it fires: bytes arrive thousands of times a second and
   * only stamp the time.
   */
  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      const idle = performance.now() - this.#lastByteAt;
      const limit = this.#watch.requestIdleMs;
      if (idle < limit) return this.#arm(limit - idle);
      this.#controller.abort(
        new DfError("DEADLINE_EXCEEDED", `the origin ${this.#watch.origin} sent nothing on this request for ${formatSeconds(idle)}`, {
          reason: "origin-idle",
          details: { origin: this.#watch.origin },
        }),
      );
    }, Math.ceil(ms));
    this.#timer.unref();
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${seconds >= 10 ? Math.round(seconds) : seconds.toFixed(1).replace(/\.0$/, "")} s`;
}
