import { DfError } from "@df/interface/errors";
import { assertNonNegativeInteger, assertPositiveInteger } from "./validate.js";

const MiB = 1024 * 1024;

/** The smallest piece Dragonfly v2 cuts a task into (and the smallest a user may fix). */
export const MIN_PIECE_LENGTH = 4 * MiB;

/** The largest piece length; past ~16 000 MiB the piece count grows instead. */
export const MAX_PIECE_LENGTH = 64 * MiB;

/**
 * The piece count the length formula aims to stay under. Fewer, larger pieces cost
 * less scheduling and metadata; more, smaller pieces spread a task over more parents.
 */
export const TARGET_MAX_PIECE_COUNT = 500;

/**
 * The piece length of a task with `contentLength` bytes: the next power of two of
 * floor(contentLength / 500), clamped to [4 MiB, 64 MiB], as the Rust client computes it
 * (so ≤ 2000 MiB → 4 MiB, ≤ 4000 MiB → 8 MiB, …, > 16 000 MiB → 64 MiB). A fixed length
 * chosen by the user wins, but must itself lie in [4 MiB, 64 MiB].
 */
export function pieceLengthFor(contentLength: number, fixedPieceLength?: number): number {
  assertNonNegativeInteger(contentLength, "contentLength");
  if (fixedPieceLength !== undefined) {
    if (
      !Number.isSafeInteger(fixedPieceLength) ||
      fixedPieceLength < MIN_PIECE_LENGTH ||
      fixedPieceLength > MAX_PIECE_LENGTH
    ) {
      throw new DfError(
        "INVALID_ARGUMENT",
        `piece length ${String(fixedPieceLength)} is not allowed; choose a whole number of bytes from ${MIN_PIECE_LENGTH} (4 MiB) to ${MAX_PIECE_LENGTH} (64 MiB)`,
        { details: { pieceLength: fixedPieceLength, min: MIN_PIECE_LENGTH, max: MAX_PIECE_LENGTH } },
      );
    }
    return fixedPieceLength;
  }
  const target = Math.floor(contentLength / TARGET_MAX_PIECE_COUNT);
  // The smallest power of two in [MIN, MAX] that is ≥ target equals the clamped next
  // power of two; doubling avoids the rounding of Math.log2 near large powers of two.
  let length = MIN_PIECE_LENGTH;
  while (length < target && length < MAX_PIECE_LENGTH) length *= 2;
  return length;
}

/** How many pieces `contentLength` bytes make; the last one holds the remainder. */
export function pieceCount(contentLength: number, pieceLength: number): number {
  assertNonNegativeInteger(contentLength, "contentLength");
  assertPositiveInteger(pieceLength, "pieceLength");
  return Math.ceil(contentLength / pieceLength);
}
