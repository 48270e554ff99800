import { DfError, errorMessage, isDfError, type ErrorCode } from "@df/interface";
import type { RequestScope } from "./scope.js";

/** Which request an error is about; `url` is already redacted. */
export interface Attempt {
  readonly method: string;
  readonly url: string;
}

export function describe(attempt: Attempt): string {
  return `${attempt.method} ${attempt.url}`;
}

/** The DfError code for an HTTP status the client does not accept. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 404 || status === 410) return "NOT_FOUND";
  if (status === 401 || status === 403 || status === 407) return "PERMISSION_DENIED";
  if (status === 416) return "OUT_OF_RANGE";
  if (status === 400) return "INVALID_ARGUMENT";
  if (status === 429) return "RESOURCE_EXHAUSTED";
  if (status === 408 || status >= 500) return "UNAVAILABLE";
  return "FAILED_PRECONDITION";
}

export function statusError(status: number, attempt: Attempt, extra: Record<string, unknown> = {}): DfError {
  return new DfError(codeForStatus(status), `${describe(attempt)}: the origin answered ${status}`, {
    reason: `http-${status}`,
    details: { status, ...attempt, ...extra },
  });
}

const TIMEOUTS: Readonly<Record<string, string>> = {
  UND_ERR_CONNECT_TIMEOUT: "connect-timeout",
  ETIMEDOUT: "connect-timeout",
  UND_ERR_HEADERS_TIMEOUT: "header-timeout",
  UND_ERR_BODY_TIMEOUT: "body-idle-timeout",
};

/** Failures of the connection itself: worth a retry for idempotent requests. */
const CONNECTION = new Set([
  "UND_ERR_SOCKET",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

const INVALID_REQUEST = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED", "ERR_INVALID_CHAR", "ERR_INVALID_HTTP_TOKEN"]);

const CLOSED = new Set(["UND_ERR_DESTROYED", "UND_ERR_CLOSED"]);

function isTlsFailure(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.includes("CERT") ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
  );
}

export interface TransportContext {
  readonly attempt: Attempt;
  readonly scope: RequestScope;
  /** Set once response headers arrived: a connection lost then means bytes were lost. */
  readonly body?: { readonly received: number; readonly expected: number | undefined };
}

/**
 * Maps whatever undici or the socket threw into a DfError. The scope is asked first,
 * because an abort surfaces from undici as whatever the signal's reason was.
 */
export function transportError(error: unknown, context: TransportContext): DfError {
  const { attempt, scope, body } = context;
  const what = describe(attempt);
  // Asked first: undici rejects with the signal's reason, whatever it is.
  const aborted = scope.abortError(what, error);
  if (aborted) return aborted;
  if (isDfError(error)) return error;
  const code = errorCode(error);
  const message = errorMessage(error);
  const details = { ...attempt, ...(code ? { errno: code } : {}) };
  const timeout = code ? TIMEOUTS[code] : undefined;
  if (timeout) {
    return new DfError("DEADLINE_EXCEEDED", `${what}: ${timeout.replaceAll("-", " ")} expired (${message})`, {
      reason: timeout,
      details,
      cause: error,
    });
  }
  if (code && CLOSED.has(code)) {
    return new DfError("CANCELLED", `${what}: the source client was closed`, { reason: "closed", details, cause: error });
  }
  if (body) {
    const of = body.expected === undefined ? "" : ` of ${body.expected}`;
    return new DfError("DATA_LOSS", `${what}: the connection broke after ${body.received}${of} bytes (${message})`, {
      reason: "truncated",
      details: { ...details, received: body.received, expected: body.expected },
      cause: error,
    });
  }
  if (code && CONNECTION.has(code)) {
    return new DfError("UNAVAILABLE", `${what}: ${message}`, { reason: "connection", details, cause: error });
  }
  if (code && INVALID_REQUEST.has(code)) {
    return new DfError("INVALID_ARGUMENT", `${what}: the request is invalid (${message})`, {
      reason: "invalid-request",
      details,
      cause: error,
    });
  }
  if (code && isTlsFailure(code)) {
    return new DfError(
      "FAILED_PRECONDITION",
      `${what}: TLS failed (${message}); trust the origin's CA with tls.caFile, or set tls.insecure for tests only`,
      { reason: "tls", details, cause: error },
    );
  }
  return new DfError("UNAVAILABLE", `${what}: ${message}`, { reason: "transport", details, cause: error });
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
