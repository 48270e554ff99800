import { DfError, toDfError } from "@df/interface";

/**
 * The error for an operation stopped by its signal: CANCELLED, or DEADLINE_EXCEEDED
 * when the signal was a timeout, with a message that says what was being waited for.
 */
export function abortError(signal: AbortSignal, what: string): DfError {
  const reason: unknown = signal.reason;
  const base = toDfError(reason, "CANCELLED");
  const code = base.code === "DEADLINE_EXCEEDED" ? "DEADLINE_EXCEEDED" : "CANCELLED";
  return new DfError(code, `${what}: ${base.message}`, { cause: reason });
}
