import { type AbortOptions, type SourceRequest, type SourceStat } from "@df/interface";
import { FINAL_URL_HEADER } from "./body.js";
import { type ContentRange, parseContentLength, parseContentRange } from "./content-range.js";
import type { ClientContext } from "./context.js";
import { statusError } from "./errors.js";
import { abandon, discard, type Exchange, exchange, snippet } from "./exchange.js";
import { withHeadScope } from "./head-call.js";
import { redactUrl } from "./redact.js";
import type { RequestScope } from "./scope.js";

/**
 * HEAD answers that do not settle anything: the method is refused (405, 501), or the
 * URL is signed for GET only (presigned object-store URLs answer HEAD with 403 or 400).
 * A ranged GET then asks the same question.
 */
const HEAD_INCONCLUSIVE = new Set([400, 403, 405, 501]);

/**
 * Length, range support and validators of a resource.
 *
 * `supportsRange` is true only when the origin answered a `Range: bytes=0-0` GET with
 * 206 and a Content-Range for byte 0 (as Dragonfly's `IsSupportRange`). `Accept-Ranges:
 * bytes` alone is not trusted: proxies and dynamic handlers advertise it and then
 * answer 200. The probe costs one request with a 1-byte body. It is skipped when HEAD
 * already settles the question: an empty resource, or `Accept-Ranges: none`.
 */
export async function statResource(
  context: ClientContext,
  request: SourceRequest,
  options: AbortOptions,
): Promise<SourceStat> {
  return withHeadScope(context, request, options, "stat", (url, scope) => statOnce(context, url, request, scope));
}

async function statOnce(context: ClientContext, url: URL, request: SourceRequest, scope: RequestScope): Promise<SourceStat> {
  const head = await exchange(context, { method: "HEAD", url, header: request.header }, scope);
  await discard(head.body);
  let headLength: number | undefined;
  if (head.status >= 200 && head.status < 300) {
    headLength = parseContentLength(head.headers["content-length"]);
    if (headLength === 0) return describeStat(head, 0, false);
    // An origin that says it takes no ranges is believed: a probe would get the whole
    // body (200), and what it had sent before the probe is abandoned is egress for
    // nothing (up to the socket buffers, about 1 MiB on a busy host). Without a length
    // the body is then read once, to its end, by the fetch.
    if (/^\s*none\s*$/i.test(head.headers["accept-ranges"] ?? "")) return describeStat(head, headLength, false);
  } else if (!HEAD_INCONCLUSIVE.has(head.status)) {
    throw statusError(head.status, head.attempt);
  } else {
    context.logger.debug("HEAD inconclusive; asking with a ranged GET", { url: redactUrl(url), status: head.status });
  }
  const headAnswered = head.status >= 200 && head.status < 300;

  const probe = await exchange(context, { method: "GET", url, header: request.header, range: "bytes=0-0" }, scope);
  const range = parseContentRange(probe.headers["content-range"]);
  if (probe.status === 206 && range?.kind === "range" && range.start === 0 && range.end === 0) {
    await discard(probe.body);
    return describeStat(headAnswered ? head : probe, range.total ?? headLength, true);
  }
  if (probe.status >= 200 && probe.status < 300) {
    // The origin is sending the whole resource (or a range it was not asked for): stop it.
    abandon(probe.body);
    const length = headLength ?? (probe.status === 200 ? parseContentLength(probe.headers["content-length"]) : undefined);
    return describeStat(headAnswered ? head : probe, length, false);
  }
  if (probe.status === 416) {
    await discard(probe.body);
    return describeStat(headAnswered ? head : probe, unsatisfiedTotal(range) ?? headLength, false);
  }
  throw statusError(probe.status, probe.attempt, { body: await snippet(probe) });
}

function unsatisfiedTotal(range: ContentRange | undefined): number | undefined {
  return range?.kind === "unsatisfied" ? range.total : undefined;
}

function describeStat(answer: Exchange, contentLength: number | undefined, supportsRange: boolean): SourceStat {
  // Headers of a ranged probe describe one byte; make them describe the resource.
  const { "content-range": _range, "content-length": _length, ...rest } = answer.headers;
  const header: Record<string, string> = { ...rest };
  if (contentLength !== undefined) header["content-length"] = String(contentLength);
  if (answer.redirected) header[FINAL_URL_HEADER] = answer.url.href;
  return {
    ...(contentLength === undefined ? {} : { contentLength }),
    supportsRange,
    header,
    ...(answer.headers.etag === undefined ? {} : { etag: answer.headers.etag }),
    ...(answer.headers["last-modified"] === undefined ? {} : { lastModified: answer.headers["last-modified"] }),
  };
}
