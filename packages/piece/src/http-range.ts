import { DfError } from "@df/interface/errors";
import type { ByteRange } from "./range.js";
import { assertNonNegativeInteger } from "./validate.js";

const UNIT = /^bytes\s*=/i;
const SPEC = /^(\d*)\s*-\s*(\d*)$/;

/**
 * Parses one HTTP byte range against content of `contentLength` bytes, following
 * RFC 9110 §14.1: `bytes=0-99` and Dragonfly's unit-less `0-99`, `100-` (to the end) and
 * `-100` (the last 100 bytes). An end past the content is clamped, a suffix longer than
 * the content selects all of it; a start at or past the end is unsatisfiable
 * (OUT_OF_RANGE, HTTP 416). Multi-range requests are refused: a task download serves one
 * contiguous run of bytes.
 */
export function parseByteRange(spec: string, contentLength: number): ByteRange {
  assertNonNegativeInteger(contentLength, "contentLength");
  let body = spec.trim();
  const unit = UNIT.exec(body);
  if (unit) {
    body = body.slice(unit[0].length).trim();
  } else if (body.includes("=")) {
    throw invalid(spec, `only the "bytes" unit is supported`);
  }
  if (body.includes(",")) {
    throw invalid(spec, "only one range is supported; request the ranges one at a time");
  }
  const match = SPEC.exec(body);
  if (!match) throw invalid(spec, `expected "start-end", "start-" or "-suffixLength"`);
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") throw invalid(spec, "give a start, an end or both");

  if (first === "") {
    // Digit strings beyond 2^53 lose precision, but only in ways that cannot flip a
    // comparison against a safe-integer content length.
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(spec, contentLength, "a suffix of zero bytes selects nothing");
    const length = Math.min(suffix, contentLength);
    return { start: contentLength - length, length };
  }

  const start = Number(first);
  const end = last === "" ? undefined : Number(last);
  if (end !== undefined && end < start) throw invalid(spec, "the end comes before the start");
  if (start >= contentLength) {
    throw unsatisfiable(spec, contentLength, `it starts at or after the end of the content`);
  }
  const lastByte = end === undefined ? contentLength - 1 : Math.min(end, contentLength - 1);
  return { start, length: lastByte - start + 1 };
}

function invalid(spec: string, why: string): DfError {
  return new DfError("INVALID_ARGUMENT", `range "${spec}" is malformed: ${why}`, { details: { range: spec } });
}

function unsatisfiable(spec: string, contentLength: number, why: string): DfError {
  return new DfError(
    "OUT_OF_RANGE",
    `range "${spec}" cannot be served from ${contentLength} byte(s) of content: ${why}; ask for bytes below ${contentLength}`,
    { details: { range: spec, contentLength } },
  );
}
