/**
 * The one error type of df. Its `code` comes from a closed set shaped like gRPC status
 * codes, so that every layer (storage, RPC, CLI exit codes, REST status) maps it in one
 * place. Callers branch on `code` (or `reason` for the few finer cases), never on
 * `instanceof`: two copies of this package in one process must still agree.
 */
export const ERROR_CODES = [
  "INVALID_ARGUMENT",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "UNAUTHENTICATED",
  "FAILED_PRECONDITION",
  "OUT_OF_RANGE",
  "RESOURCE_EXHAUSTED",
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "CANCELLED",
  "ABORTED",
  "DATA_LOSS",
  "UNIMPLEMENTED",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const codeSet: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && codeSet.has(value);
}

export interface DfErrorOptions {
  /** The error this one explains; keep it whenever one exists. */
  cause?: unknown;
  /**
   * A finer, stable, machine-readable reason within the code, for the few places where a
   * caller must tell cases apart (e.g. `piece-digest-mismatch` within DATA_LOSS).
   */
  reason?: string;
  /** Structured facts for logs and RPC error details (task ID, key, path, …). */
  details?: Record<string, unknown>;
}

export class DfError extends Error {
  static readonly errorName = "DfError";
  override readonly name = DfError.errorName;
  readonly code: ErrorCode;
  readonly reason: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: DfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = options.reason;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, reason: this.reason, message: this.message, details: this.details };
  }
}

/** True for a DfError from any copy of this package. */
export function isDfError(error: unknown): error is DfError {
  return (
    error instanceof Error &&
    error.name === DfError.errorName &&
    isErrorCode((error as { code?: unknown }).code)
  );
}

/** True when `error` is a DfError with the given code (and reason, if given). */
export function hasErrorCode(error: unknown, code: ErrorCode, reason?: string): boolean {
  return isDfError(error) && error.code === code && (reason === undefined || error.reason === reason);
}

const errnoCodes: Record<string, ErrorCode> = {
  ENOENT: "NOT_FOUND",
  ENOTDIR: "INVALID_ARGUMENT",
  EISDIR: "INVALID_ARGUMENT",
  EEXIST: "ALREADY_EXISTS",
  ENOTEMPTY: "ALREADY_EXISTS",
  EACCES: "PERMISSION_DENIED",
  EPERM: "PERMISSION_DENIED",
  EROFS: "PERMISSION_DENIED",
  ENOSPC: "RESOURCE_EXHAUSTED",
  EDQUOT: "RESOURCE_EXHAUSTED",
  EMFILE: "RESOURCE_EXHAUSTED",
  ENFILE: "RESOURCE_EXHAUSTED",
  ETIMEDOUT: "DEADLINE_EXCEEDED",
  ECONNREFUSED: "UNAVAILABLE",
  ECONNRESET: "UNAVAILABLE",
  EPIPE: "UNAVAILABLE",
  EHOSTUNREACH: "UNAVAILABLE",
  ENETUNREACH: "UNAVAILABLE",
  ENOTFOUND: "UNAVAILABLE",
  EAI_AGAIN: "UNAVAILABLE",
};

/**
 * Turns anything thrown into a DfError, keeping the original as `cause`. Node system
 * errors and aborts get the code that matches them; anything else becomes `fallback`.
 */
export function toDfError(error: unknown, fallback: ErrorCode = "INTERNAL"): DfError {
  if (isDfError(error)) return error;
  if (error instanceof Error) {
    if (error.name === "AbortError") {
      return new DfError("CANCELLED", error.message || "the operation was cancelled", { cause: error });
    }
    if (error.name === "TimeoutError") {
      return new DfError("DEADLINE_EXCEEDED", error.message || "the operation timed out", { cause: error });
    }
    const errno = (error as NodeJS.ErrnoException).code;
    const mapped = typeof errno === "string" ? errnoCodes[errno] : undefined;
    return new DfError(mapped ?? fallback, error.message, {
      cause: error,
      ...(errno ? { reason: errno.toLowerCase() } : {}),
    });
  }
  return new DfError(fallback, typeof error === "string" ? error : `non-error thrown: ${safeString(error)}`, {
    cause: error,
  });
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Throws a CANCELLED DfError if the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new DfError("CANCELLED", "the operation was cancelled", { cause: signal.reason });
  }
}

/** The message of anything thrown: an Error's message, else its string form. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
