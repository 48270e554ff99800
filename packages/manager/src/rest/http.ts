import type { IncomingMessage, ServerResponse } from "node:http";
import { DfError, isDfError, type ErrorCode } from "@df/interface";
import type { z } from "zod";

/** The JSON body of every error answer. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** The dotted request field at fault, when one is. */
  field?: string;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** The one mapping from DfError to an HTTP status. */
export function httpStatusOf(error: DfError): number {
  if (error.reason === "body-too-large") return 413;
  if (error.reason === "method-not-allowed") return 405;
  if (error.reason === "unsupported-media-type") return 415;
  if (error.reason === "foreign-key-violation") return 400;
  return STATUS[error.code] ?? 500;
}

/** The error answer: DfErrors keep their code and message; anything else is a bare 500. */
export function errorBody(error: unknown): { status: number; body: ErrorBody } {
  if (!isDfError(error)) return { status: 500, body: { code: "INTERNAL", message: "internal error" } };
  const status = httpStatusOf(error);
  const field = typeof error.details?.["field"] === "string" ? (error.details["field"] as string) : undefined;
  // Internal errors carry driver and stack details that are for the log, not the client.
  const message = status === 500 ? "internal error" : error.message;
  return { status, body: { code: error.code, message, ...(field ? { field } : {}) } };
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  response.writeHead(status, {
    ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...headers,
  });
  response.end(text);
}

/**
 * Reads a JSON body of at most `limit` bytes nested at most `maxDepth` arrays and
 * objects deep: 413 beyond the size, 400 beyond the depth or when it is not JSON.
 */
export async function readJson(request: IncomingMessage, limit: number, maxDepth: number): Promise<unknown> {
  const tooLarge = () =>
    new DfError("RESOURCE_EXHAUSTED", `the request body is larger than ${limit} bytes`, { reason: "body-too-large", details: { limit } });
  const declared = Number(request.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const type = String(request.headers["content-type"] ?? "application/json");
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new DfError("INVALID_ARGUMENT", `the request body must be application/json, got ${type}`, { reason: "unsupported-media-type" });
  }
  const text = Buffer.concat(chunks).toString("utf8");
  // Checked before parsing: every later step (validation, audit, the database's jsonb)
  // walks the value recursively, and a deep enough one overflows a stack there (a 500).
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw new DfError("INVALID_ARGUMENT", `the request body is nested more than ${maxDepth} levels deep`, {
      reason: "json-too-deep",
      details: { maxDepth },
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DfError("INVALID_ARGUMENT", `the request body is not valid JSON: ${(error as Error).message}`, { cause: error, reason: "invalid-json" });
  }
}

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * How deep arrays and objects nest in JSON text, brackets inside strings not counted;
 * stops counting once past `stopAbove`. Not a validator: JSON.parse judges the rest.
 */
export function jsonDepth(text: string, stopAbove: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return deepest;
}

/** Validates with a zod schema; the first problem becomes a 400 naming the field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query"): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join(".");
  const keys = issue.code === "unrecognized_keys" ? issue.keys : undefined;
  const label = keys ? (field ? `${field}.${keys[0]}` : keys[0]!) : field || where;
  const message = keys ? `unknown field${keys.length > 1 ? "s" : ""} ${keys.join(", ")}` : issue.message;
  throw new DfError("INVALID_ARGUMENT", `${label}: ${message}`, {
    cause: result.error,
    reason: "validation-failed",
    details: { field: label, issues: result.error.issues.length },
  });
}
