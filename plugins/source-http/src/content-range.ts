/** What a `Content-Range` response header says (RFC 9110 §14.4). */
export type ContentRange =
  /** Bytes `start..end` inclusive of a resource of `total` bytes (undefined when the origin wrote `*`). */
  | { readonly kind: "range"; readonly start: number; readonly end: number; readonly total: number | undefined }
  /** The answer to an unsatisfiable range: only the resource's length. */
  | { readonly kind: "unsatisfied"; readonly total: number };

const RANGE = /^\s*bytes\s+(\d+)\s*-\s*(\d+)\s*\/\s*(\d+|\*)\s*$/i;
const UNSATISFIED = /^\s*bytes\s+\*\s*\/\s*(\d+)\s*$/i;

/** Parses a `Content-Range` header; undefined when absent or not a valid single byte range. */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  if (value === undefined) return undefined;
  const range = RANGE.exec(value);
  if (range) {
    const start = Number(range[1]);
    const end = Number(range[2]);
    const total = range[3] === "*" ? undefined : Number(range[3]);
    if (!Number.isSafeInteger(end) || end < start || (total !== undefined && end >= total)) return undefined;
    return { kind: "range", start, end, total };
  }
  const unsatisfied = UNSATISFIED.exec(value);
  if (unsatisfied) {
    const total = Number(unsatisfied[1]);
    return Number.isSafeInteger(total) ? { kind: "unsatisfied", total } : undefined;
  }
  return undefined;
}

/** Parses a `Content-Length` header; undefined when absent or malformed. */
export function parseContentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  const length = Number(value);
  return Number.isSafeInteger(length) ? length : undefined;
}
