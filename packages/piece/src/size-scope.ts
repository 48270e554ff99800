import { DfError } from "@df/interface/errors";

export type SizeScope = "EMPTY" | "TINY" | "SMALL" | "NORMAL" | "UNKNOWN";

/** Content up to this many bytes is TINY: small enough to hand over inline. */
export const TINY_FILE_SIZE = 128;

/**
 * The scheduler's size class of a task: the register path differs per class (empty
 * needs no transfer, tiny fits in a message, small is one piece from one parent).
 * An unknown or negative length, or a negative piece count, is UNKNOWN.
 */
export function sizeScope(contentLength: number | undefined, pieceCount: number): SizeScope {
  if (Number.isNaN(pieceCount) || (contentLength !== undefined && Number.isNaN(contentLength))) {
    throw new DfError("INVALID_ARGUMENT", "content length and piece count must be numbers, got NaN", {
      details: { contentLength, pieceCount },
    });
  }
  if (contentLength === undefined || contentLength < 0 || pieceCount < 0) return "UNKNOWN";
  if (contentLength === 0) return "EMPTY";
  if (contentLength <= TINY_FILE_SIZE) return "TINY";
  if (pieceCount === 1) return "SMALL";
  return "NORMAL";
}
