import { type AbortOptions, type SourceValidators, type SourceValidatorsRequest } from "@df/interface";
import { parseContentLength, parseContentRange } from "./content-range.js";
import type { ClientContext } from "./context.js";
import { statusError } from "./errors.js";
import { abandon, discard, type Exchange, exchange, snippet } from "./exchange.js";
import { withHeadScope } from "./head-call.js";
import type { RequestScope } from "./scope.js";

/** As for stat: HEAD refused, or a URL signed for GET only; a ranged GET asks instead. */
const HEAD_INCONCLUSIVE = new Set([400, 403, 405, 501]);

/** Conditional headers the caller may have set; ours replace them, so the answer means what we asked. */
const CONDITIONALS = new Set(["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range"]);

/**
 * The resource's current validators in one conditional request: HEAD with
 * If-None-Match (the known ETag) and If-Modified-Since (the known Last-Modified). A 304
 * gives back the known validators (with any the 304 repeats); a 2xx gives the ones it
 * carries, which the caller compares (an origin that ignores conditionals answers 200
 * with the same ETag). Only when HEAD is refused (405, 501) or signed away (400, 403)
 * does a second request ask the same with `Range: bytes=0-0`, as stat does.
 */
export async function resourceValidators(
  context: ClientContext,
  request: SourceValidatorsRequest,
  options: AbortOptions,
): Promise<SourceValidators> {
  return withHeadScope(context, request, options, "revalidate", (url, scope) => validatorsOnce(context, url, request, scope));
}

async function validatorsOnce(context: ClientContext, url: URL, request: SourceValidatorsRequest, scope: RequestScope): Promise<SourceValidators> {
  const header = conditionalHeader(request);
  const known = request.known ?? {};
  const head = await exchange(context, { method: "HEAD", url, header }, scope);
  await discard(head.body);
  if (head.status === 304) return notModified(known, head);
  if (head.status >= 200 && head.status < 300) return fromAnswer(head, parseContentLength(head.headers["content-length"]));
  if (!HEAD_INCONCLUSIVE.has(head.status)) throw statusError(head.status, head.attempt);

  const probe = await exchange(context, { method: "GET", url, header, range: "bytes=0-0" }, scope);
  if (probe.status === 304) {
    await discard(probe.body);
    return notModified(known, probe);
  }
  const range = parseContentRange(probe.headers["content-range"]);
  if (probe.status === 206 || probe.status === 416) {
    await discard(probe.body);
    return fromAnswer(probe, range?.total);
  }
  if (probe.status >= 200 && probe.status < 300) {
    // The whole resource is coming: its headers are all we wanted.
    abandon(probe.body);
    return fromAnswer(probe, probe.status === 200 ? parseContentLength(probe.headers["content-length"]) : undefined);
  }
  throw statusError(probe.status, probe.attempt, { body: await snippet(probe) });
}

function conditionalHeader(request: SourceValidatorsRequest): Record<string, string> {
  const header: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.header ?? {})) {
    if (!CONDITIONALS.has(name.toLowerCase())) header[name] = value;
  }
  if (request.known?.etag) header["if-none-match"] = request.known.etag;
  if (request.known?.lastModified) header["if-modified-since"] = request.known.lastModified;
  return header;
}

function notModified(known: SourceValidators, answer: Exchange): SourceValidators {
  // A 304 carries no length; what it repeats of the validators is the newer word.
  return {
    ...known,
    ...(answer.headers.etag === undefined ? {} : { etag: answer.headers.etag }),
    ...(answer.headers["last-modified"] === undefined ? {} : { lastModified: answer.headers["last-modified"] }),
  };
}

function fromAnswer(answer: Exchange, contentLength: number | undefined): SourceValidators {
  return {
    ...(answer.headers.etag === undefined ? {} : { etag: answer.headers.etag }),
    ...(answer.headers["last-modified"] === undefined ? {} : { lastModified: answer.headers["last-modified"] }),
    ...(contentLength === undefined ? {} : { contentLength }),
  };
}
