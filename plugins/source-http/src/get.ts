import { type AbortOptions, DfError, type SourceGetRequest, type SourceResponse, throwIfAborted } from "@df/interface";
import { streamingResponse } from "./body.js";
import { parseContentLength, parseContentRange } from "./content-range.js";
import type { ClientContext } from "./context.js";
import { describe, statusError } from "./errors.js";
import { abandon, type Exchange, exchange, snippet } from "./exchange.js";
import { redactUrl } from "./redact.js";
import { RequestScope } from "./scope.js";
import { parseSourceUrl } from "./url.js";

type ByteRange = NonNullable<SourceGetRequest["range"]>;

/**
 * Streams a resource or one byte range of it. A ranged get must come back as 206 with
 * exactly the asked-for Content-Range; a 200 is accepted only when the range is the
 * whole resource, since anything else would mean reading bytes nobody asked for.
 */
export async function getResource(
  context: ClientContext,
  request: SourceGetRequest,
  options: AbortOptions,
): Promise<SourceResponse> {
  const url = parseSourceUrl(request.url, context.schemes);
  const range = request.range;
  if (range) checkRange(range, url);
  throwIfAborted(options.signal);
  const scope = new RequestScope(options.signal, request.timeoutMs);
  try {
    const answer = await exchange(
      context,
      { method: "GET", url, header: request.header, ...(range ? { range: rangeHeader(range) } : {}) },
      scope,
    );
    const expected = await acceptedLength(answer, range, request.expectedLength);
    return streamingResponse(answer, expected, scope);
  } catch (error) {
    scope.dispose();
    throw error;
  }
}

function checkRange(range: ByteRange, url: URL): void {
  const { start, length } = range;
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(length) || length < 1) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `GET ${redactUrl(url)}: invalid range start ${start}, length ${length}; a range starts at 0 or later and covers at least one byte`,
      { reason: "invalid-range", details: { url: redactUrl(url), start, length } },
    );
  }
}

function rangeHeader(range: ByteRange): string {
  return `bytes=${range.start}-${range.start + range.length - 1}`;
}

/** Checks the answer against the request; returns how many body bytes it must carry. */
async function acceptedLength(
  answer: Exchange,
  range: ByteRange | undefined,
  expectedLength: number | undefined,
): Promise<number | undefined> {
  const { status, headers, attempt } = answer;
  const length = parseContentLength(headers["content-length"]);
  const contentRange = parseContentRange(headers["content-range"]);
  const refuse = (
    code: "FAILED_PRECONDITION" | "OUT_OF_RANGE" | "ABORTED",
    reason: string,
    message: string,
    extra: Record<string, unknown> = {},
  ): DfError => {
    abandon(answer.body);
    return new DfError(code, `${describe(attempt)}: ${message}`, {
      reason,
      details: { ...attempt, status, contentRange: headers["content-range"], ...(range ?? {}), ...extra },
    });
  };

  if (status === 416) {
    const total = contentRange?.kind === "unsatisfied" ? contentRange.total : undefined;
    throw refuse(
      "OUT_OF_RANGE",
      "range-not-satisfiable",
      `range ${describeRange(range)} is past the end of the resource${total === undefined ? "" : ` of ${total} bytes`}`,
      total === undefined ? {} : { total },
    );
  }
  if (status < 200 || status >= 300) throw statusError(status, attempt, { body: await snippet(answer) });

  const total = contentRange?.kind === "range" ? contentRange.total : status === 200 ? length : undefined;
  if (expectedLength !== undefined && total !== undefined && total !== expectedLength) {
    throw refuse(
      "ABORTED",
      "source-changed",
      `the resource changed while it was being fetched: it is now ${total} bytes, it was ${expectedLength}; download it again`,
      { expectedLength, total },
    );
  }

  if (!range) {
    if (status !== 206) return length;
    // Some origins answer 206 for the whole thing; fine if it really is the whole thing.
    if (contentRange?.kind === "range" && contentRange.start === 0 && contentRange.end + 1 === contentRange.total) {
      return contentRange.total;
    }
    throw refuse("FAILED_PRECONDITION", "range-mismatch", `the origin sent a part (${headers["content-range"]}) for a whole-resource request`);
  }

  const end = range.start + range.length - 1;
  if (status === 206) {
    if (contentRange?.kind !== "range" || contentRange.start !== range.start || contentRange.end !== end) {
      throw refuse(
        "FAILED_PRECONDITION",
        "range-mismatch",
        `asked for bytes ${range.start}-${end}, the origin sent Content-Range ${headers["content-range"] ?? "(none)"}`,
      );
    }
    if (length !== undefined && length !== range.length) {
      throw refuse("FAILED_PRECONDITION", "range-mismatch", `a ${range.length}-byte range came with Content-Length ${length}`);
    }
    return range.length;
  }
  if (range.start === 0 && length === range.length) return length;
  throw refuse(
    "FAILED_PRECONDITION",
    "range-ignored",
    `the origin ignored the range bytes ${range.start}-${end} and answered ${status} with the whole resource; it does not serve byte ranges`,
  );
}

function describeRange(range: ByteRange | undefined): string {
  return range ? `bytes ${range.start}-${range.start + range.length - 1}` : "(whole resource)";
}
