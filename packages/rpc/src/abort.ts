import { DfError, isDfError } from "@df/interface/errors";

/**
 * The error an aborted signal stands for: its reason when that is a DfError, a
 * DEADLINE_EXCEEDED for `AbortSignal.timeout`, CANCELLED for anything else.
 */
export function abortError(signal: AbortSignal, what: string): DfError {
  const reason: unknown = signal.reason;
  if (isDfError(reason)) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new DfError("DEADLINE_EXCEEDED", `${what} timed out`, { cause: reason });
  }
  return new DfError("CANCELLED", `${what} was cancelled`, { cause: reason });
}

/** Runs `onAbort` once when the signal aborts; returns the function that stops listening. */
export function onAbort(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (signal === undefined) return () => {};
  if (signal.aborted) {
    onAbort();
    return () => {};
  }
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}
