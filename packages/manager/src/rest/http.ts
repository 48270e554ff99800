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

/** Reads a JSON body of at most `limit` bytes: 413 beyond, 400 when it is not JSON. */
export async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
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
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new DfError("INVALID_ARGUMENT", `the request body is not valid JSON: ${(error as Error).message}`, { cause: error, reason: "invalid-json" });
  }
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
