import { InterceptingCall, type Interceptor } from "@grpc/grpc-js";

/**
 * Counts one client's calls in flight (unary and streams alike, from start to status),
 * so a channel can be closed once nothing uses it: closing fails calls in progress.
 * Give `interceptor` to the client: `createRpcClient(C, address, { channelOptions: { interceptors: [tracker.interceptor] } })`.
 */
export class CallTracker {
  #inFlight = 0;
  readonly #idle = new Set<() => void>();

  readonly interceptor: Interceptor = (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, _listener, next) => {
        this.#inFlight++;
        let ended = false;
        next(metadata, {
          onReceiveStatus: (status, nextStatus) => {
            // The caller hears the status first; idle listeners (which may close the channel) after.
            nextStatus(status);
            if (!ended) {
              ended = true;
              this.#ended();
            }
          },
        });
      },
    });

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Calls `listener` whenever the last call in flight ends; returns the function that removes it. */
  onIdle(listener: () => void): () => void {
    this.#idle.add(listener);
    return () => this.#idle.delete(listener);
  }

  #ended(): void {
    this.#inFlight--;
    if (this.#inFlight > 0) return;
    for (const listener of [...this.#idle]) listener();
  }
}
