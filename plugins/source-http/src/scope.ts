import { DfError } from "@df/interface";

/**
 * The life of one stat or get: the caller's AbortSignal and the request's own deadline
 * (`timeoutMs`) folded into one signal for undici, remembering which of the two fired
 * so the error says CANCELLED or DEADLINE_EXCEEDED truthfully. A get's scope lasts
 * until its body is read or cancelled.
 */
export class RequestScope {
  readonly #controller = new AbortController();
  readonly #external: AbortSignal | undefined;
  readonly #timeoutMs: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timedOut = false;
  readonly #onAbort = (): void => this.#controller.abort(this.#external?.reason);

  constructor(external: AbortSignal | undefined, timeoutMs: number | undefined) {
    this.#external = external;
    this.#timeoutMs = timeoutMs;
    if (external?.aborted) this.#onAbort();
    else external?.addEventListener("abort", this.#onAbort, { once: true });
    if (timeoutMs !== undefined && timeoutMs > 0 && !this.#controller.signal.aborted) {
      this.#timer = setTimeout(() => {
        this.#timedOut = true;
        this.#controller.abort(new DOMException(`the request took longer than ${timeoutMs} ms`, "TimeoutError"));
      }, timeoutMs);
      this.#timer.unref();
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Why the scope ended early, as the DfError to throw; undefined while it has not. */
  abortError(what: string, cause?: unknown): DfError | undefined {
    if (!this.aborted) return undefined;
    if (this.#timedOut) {
      return new DfError("DEADLINE_EXCEEDED", `${what}: no answer within the request's ${this.#timeoutMs} ms deadline`, {
        reason: "request-timeout",
        cause: cause ?? this.#controller.signal.reason,
      });
    }
    return new DfError("CANCELLED", `${what}: cancelled by the caller`, {
      cause: this.#external?.reason ?? cause,
    });
  }

  /** Stops the deadline and lets go of the caller's signal; call when the request is over. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#external?.removeEventListener("abort", this.#onAbort);
  }
}
