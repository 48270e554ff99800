import { DfError, isDfError } from "@df/interface";

const UNAVAILABLE_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const UNAVAILABLE_MESSAGES = [
  "PGlite is closed",
  "Connection terminated",
  "connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error",
  "Cannot use a pool after calling end",
  "the database connection is closed",
  "driver has already been destroyed",
];

interface DriverError {
  code?: unknown;
  message?: unknown;
  constraint?: unknown;
  detail?: unknown;
  column?: unknown;
  table?: unknown;
}

/** True when a driver error means the database cannot be reached right now. */
export function isUnavailable(error: unknown): boolean {
  if (isDfError(error)) return error.code === "UNAVAILABLE";
  const e = (error ?? {}) as DriverError;
  const code = typeof e.code === "string" ? e.code : "";
  // 08: connection exceptions; 57P01-57P03: admin/crash shutdown, cannot connect now;
  // 53300: too many connections.
  if (code.startsWith("08") || /^57P0[123]$/.test(code) || code === "53300") return true;
  if (UNAVAILABLE_ERRNO.has(code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isUnavailable);
  const message = typeof e.message === "string" ? e.message : "";
  return UNAVAILABLE_MESSAGES.some((m) => message.includes(m));
}

/**
 * One mapping from PostgreSQL / PGlite / pg errors to DfError codes, with the driver
 * error as `cause`: unreachable → UNAVAILABLE, unique violation → ALREADY_EXISTS,
 * foreign key → FAILED_PRECONDITION, bad data → INVALID_ARGUMENT, serialisation →
 * ABORTED, anything else INTERNAL.
 */
export function toDbError(error: unknown, what = "database query"): DfError {
  if (isDfError(error)) return error;
  const e = (error ?? {}) as DriverError;
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" && e.message ? e.message : String(error);
  const details: Record<string, unknown> = {
    ...(code ? { sqlState: code } : {}),
    ...(typeof e.constraint === "string" ? { constraint: e.constraint } : {}),
    ...(typeof e.table === "string" ? { table: e.table } : {}),
  };
  if (isUnavailable(error)) {
    return new DfError("UNAVAILABLE", `the database is unavailable (${what}): ${message}`, { cause: error, reason: "database-unavailable", details });
  }
  // Constraints are named <table>_<columns>_key / _fkey by PostgreSQL: name the column.
  if ((code === "23505" || code === "23503") && typeof e.constraint === "string" && typeof e.table === "string") {
    const field = e.constraint.replace(new RegExp(`^${e.table}_`), "").replace(/_(f?key)$/, "");
    if (field && field !== e.constraint) details["field"] = field;
  }
  if (code === "23505") {
    return new DfError("ALREADY_EXISTS", typeof e.detail === "string" ? e.detail : message, { cause: error, reason: "unique-violation", details });
  }
  if (code === "23503") {
    return new DfError("FAILED_PRECONDITION", typeof e.detail === "string" ? e.detail : message, { cause: error, reason: "foreign-key-violation", details });
  }
  if (code.startsWith("22") || code === "23514" || code === "23502") {
    return new DfError("INVALID_ARGUMENT", message, { cause: error, reason: "invalid-data", details });
  }
  if (code === "40001" || code === "40P01") {
    return new DfError("ABORTED", message, { cause: error, reason: "serialization-failure", details });
  }
  return new DfError("INTERNAL", `${what} failed: ${message}`, { cause: error, details });
}
