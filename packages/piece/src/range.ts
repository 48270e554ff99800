import { DfError } from "@df/interface/errors";
import { pieceCount } from "./length.js";
import { assertNonNegativeInteger, assertPositiveInteger } from "./validate.js";

/** Where one piece lies in the task's content. */
export interface PieceRange {
  number: number;
  offset: number;
  length: number;
}

/** A run of bytes of the content: `length` bytes from `start`. */
export interface ByteRange {
  start: number;
  length: number;
}

/** The byte range of piece `number`; the last piece is the remainder. */
export function pieceRange(number: number, contentLength: number, pieceLength: number): PieceRange {
  const count = pieceCount(contentLength, pieceLength);
  if (!Number.isSafeInteger(number)) {
    throw new DfError("INVALID_ARGUMENT", `piece number must be an integer, got ${String(number)}`, {
      details: { number },
    });
  }
  if (number < 0 || number >= count) {
    throw new DfError(
      "OUT_OF_RANGE",
      count === 0
        ? `piece ${number} does not exist: the content is empty and has no pieces`
        : `piece ${number} does not exist: the content has ${count} piece(s), numbered 0 to ${count - 1}`,
      { details: { number, pieceCount: count, contentLength, pieceLength } },
    );
  }
  const offset = number * pieceLength;
  return { number, offset, length: Math.min(pieceLength, contentLength - offset) };
}

/**
 * The first and last piece numbers whose bytes intersect `range`, or undefined for an
 * empty range (which needs no piece). A range reaching past the content is an error:
 * callers clamp HTTP ranges first (see parseByteRange), so anything else is a bug.
 */
export function piecesForRange(
  range: ByteRange,
  contentLength: number,
  pieceLength: number,
): { first: number; last: number } | undefined {
  assertNonNegativeInteger(range.start, "range.start");
  assertNonNegativeInteger(range.length, "range.length");
  assertNonNegativeInteger(contentLength, "contentLength");
  assertPositiveInteger(pieceLength, "pieceLength");
  const end = range.start + range.length;
  if (end > contentLength) {
    throw new DfError(
      "OUT_OF_RANGE",
      `range of ${range.length} byte(s) from ${range.start} ends at ${end}, past the end of the ${contentLength}-byte content; ask for bytes below ${contentLength}`,
      { details: { start: range.start, length: range.length, contentLength } },
    );
  }
  if (range.length === 0) return undefined;
  return { first: Math.floor(range.start / pieceLength), last: Math.floor((end - 1) / pieceLength) };
}

/** The pieces whose bytes intersect `range`, in order (empty for an empty range). */
export function piecesInRange(range: ByteRange, contentLength: number, pieceLength: number): PieceRange[] {
  const span = piecesForRange(range, contentLength, pieceLength);
  if (span === undefined) return [];
  const pieces: PieceRange[] = [];
  for (let number = span.first; number <= span.last; number++) {
    const offset = number * pieceLength;
    pieces.push({ number, offset, length: Math.min(pieceLength, contentLength - offset) });
  }
  return pieces;
}
