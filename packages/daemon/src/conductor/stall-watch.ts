import { DfError } from "@df/interface";

/**
 * Aborts its signal when `touch` has not been called for `timeoutMs`: a download from
 * parents that stopped making progress (parents gone quiet, stuck connections) is cut
 * so that it can be rescheduled.
 */
export class StallWatch {
  readonly #controller = new AbortController();
  readonly #timeoutMs: number;
  readonly #unlink: () => void;
  #timer: NodeJS.Timeout | undefined;
  #stalled = false;
  #lastTouch = performance.now();

  constructor(timeoutMs: number, parent?: AbortSignal) {
    this.#timeoutMs = timeoutMs;
    const onAbort = (): void => this.#controller.abort(parent?.reason);
    if (parent?.aborted) onAbort();
    parent?.addEventListener("abort", onAbort, { once: true });
    this.#unlink = () => parent?.removeEventListener("abort", onAbort);
    this.touch();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * True once the watch fired, or when no progress came for the whole timeout anyway
   * (the piece downloader has a stall limit of its own and may give up first).
   */
  get stalled(): boolean {
    return this.#stalled || performance.now() - this.#lastTouch >= this.#timeoutMs;
  }

  touch(): void {
    if (this.#stalled) return;
    this.#lastTouch = performance.now();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#stalled = true;
      this.#controller.abort(
        new DfError("DEADLINE_EXCEEDED", `no piece arrived for ${this.#timeoutMs} ms`, { reason: "download-stalled" }),
      );
    }, this.#timeoutMs);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#unlink();
  }
}
