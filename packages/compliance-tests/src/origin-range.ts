/** An inclusive byte range `[start, end]` of a resource. */
export interface ByteSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * How an origin reads a `Range` header for a resource of `size` bytes (RFC 9110 §14):
 * one satisfiable range gives that span (clamped to the end), a range that starts past
 * the end gives "unsatisfiable" (416), and anything it does not serve as a single range
 * (no header, malformed, several ranges) gives undefined: the whole resource with 200.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteSpan | "unsatisfiable" | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) };
}
