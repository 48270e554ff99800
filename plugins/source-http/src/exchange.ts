import { DfError } from "@df/interface";
import type { Dispatcher } from "undici";
import { type Attempt, describe, transportError } from "./errors.js";
import { redactUrl } from "./redact.js";
import { flattenHeaders, hopHeaders } from "./request-headers.js";
import type { RequestScope } from "./scope.js";

export type ResponseBody = Dispatcher.ResponseData["body"];

export interface ExchangeSettings {
  readonly dispatcher: Dispatcher;
  readonly userAgent: string;
  readonly maxRedirects: number;
}

export interface ExchangeRequest {
  readonly method: "GET" | "HEAD";
  readonly url: URL;
  readonly header?: Readonly<Record<string, string>>;
  /** `bytes=start-end` */
  readonly range?: string;
}

/** The answer at the end of the redirect chain; its body is still unread. */
export interface Exchange {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: ResponseBody;
  /** The URL that answered: the last hop of the redirect chain. */
  readonly url: URL;
  readonly redirected: boolean;
  /** For error messages: method and redacted final URL. */
  readonly attempt: Attempt;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * One request, following redirects by hand rather than with undici's interceptor, so
 * that the client knows the final URL, tells a loop from a long chain, and drops
 * credentials when the chain leaves the origin the caller named.
 */
export async function exchange(settings: ExchangeSettings, request: ExchangeRequest, scope: RequestScope): Promise<Exchange> {
  const { method } = request;
  const visited = new Set([request.url.href]);
  let current = request.url;
  let leftOrigin = false;
  for (let redirects = 0; ; redirects++) {
    const attempt = { method, url: redactUrl(current) };
    let response: Dispatcher.ResponseData;
    try {
      response = await settings.dispatcher.request({
        origin: current.origin,
        path: `${current.pathname}${current.search}`,
        method,
        headers: hopHeaders(request.header, current, { userAgent: settings.userAgent, leftOrigin, range: request.range }),
        signal: scope.signal,
      });
    } catch (error) {
      throw transportError(error, { attempt, scope });
    }
    const headers = flattenHeaders(response.headers);
    const location = headers.location;
    if (!REDIRECTS.has(response.statusCode) || location === undefined) {
      return { status: response.statusCode, headers, body: response.body, url: current, redirected: redirects > 0, attempt };
    }
    await discard(response.body);
    const next = redirectTarget(location, current, attempt, response.statusCode);
    if (visited.has(next.href)) {
      throw new DfError("FAILED_PRECONDITION", `${describe(attempt)}: redirect loop back to ${redactUrl(next)}`, {
        reason: "redirect-loop",
        details: { ...attempt, status: response.statusCode, location: redactUrl(next), redirects: redirects + 1 },
      });
    }
    if (redirects >= settings.maxRedirects) {
      throw new DfError(
        "FAILED_PRECONDITION",
        `${describe(attempt)}: more than ${settings.maxRedirects} redirects (maxRedirects); the next was to ${redactUrl(next)}`,
        { reason: "too-many-redirects", details: { ...attempt, status: response.statusCode, maxRedirects: settings.maxRedirects } },
      );
    }
    visited.add(next.href);
    leftOrigin ||= next.origin !== request.url.origin;
    current = next;
  }
}

function redirectTarget(location: string, base: URL, attempt: Attempt, status: number): URL {
  let next: URL;
  try {
    next = new URL(location, base);
  } catch (error) {
    throw new DfError("FAILED_PRECONDITION", `${describe(attempt)}: the origin redirected to an invalid URL`, {
      reason: "bad-redirect",
      details: { ...attempt, status },
      cause: error,
    });
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new DfError("FAILED_PRECONDITION", `${describe(attempt)}: the origin redirected to a ${next.protocol} URL`, {
      reason: "bad-redirect",
      details: { ...attempt, status, location: redactUrl(next) },
    });
  }
  return next;
}

/**
 * Reads and drops a small body so the connection goes back to the pool; a body larger
 * than the limit costs its connection instead.
 */
export async function discard(body: ResponseBody): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    // Nothing to keep from an unwanted body; undici has already closed the socket.
  }
}

/**
 * Stops an unwanted, possibly huge body now, giving up its connection. undici destroys
 * an unfinished body with an AbortError; nobody reads it any more, so that error is
 * swallowed here instead of surfacing as an unhandled 'error' event.
 */
export function abandon(body: ResponseBody): void {
  if (body.destroyed || body.readableEnded) return;
  body.on("error", () => undefined);
  body.destroy();
}

/** Up to `limit` bytes of an error body as text, for error details (S3 explains a 403 there). */
export async function snippet(exchangeResult: Exchange, limit = 512): Promise<string | undefined> {
  const type = exchangeResult.headers["content-type"] ?? "";
  if (!/^text\/|json|xml/i.test(type)) {
    await discard(exchangeResult.body);
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of exchangeResult.body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } catch {
    return undefined;
  } finally {
    abandon(exchangeResult.body);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}
