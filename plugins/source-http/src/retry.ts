import { hasErrorCode } from "@df/interface";
import type { RequestScope } from "./scope.js";

/**
 * Runs an idempotent request again when the connection failed before any answer
 * (reset, refused, DNS hiccup), up to `retries` more times, 100 ms then doubling to at
 * most 1 s between tries. HTTP answers, timeouts and aborts are never retried here.
 */
export async function retryOnConnectionError<T>(
  retries: number,
  scope: RequestScope,
  run: () => Promise<T>,
  onRetry?: (error: unknown, attempt: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= retries || scope.aborted || !hasErrorCode(error, "UNAVAILABLE", "connection")) throw error;
      onRetry?.(error, attempt + 1);
      await pause(Math.min(100 * 2 ** attempt, 1000), scope.signal);
      if (scope.aborted) throw error;
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
