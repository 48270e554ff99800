import { describe, expect, it } from "vitest";
import { MAX_PIECE_LENGTH, MIN_PIECE_LENGTH, TARGET_MAX_PIECE_COUNT, pieceCount, pieceLengthFor } from "./length.js";
import { thrown } from "./test-support/errors.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("constants", () => {
  it("match Dragonfly v2", () => {
    expect(MIN_PIECE_LENGTH).toBe(4 * MiB);
    expect(MAX_PIECE_LENGTH).toBe(64 * MiB);
    expect(TARGET_MAX_PIECE_COUNT).toBe(500);
  });
});

describe("pieceLengthFor", () => {
  it.each([
    [0, 4 * MiB],
    [1, 4 * MiB],
    [4 * MiB - 1, 4 * MiB],
    [4 * MiB, 4 * MiB],
    [4 * MiB + 1, 4 * MiB],
    [2000 * MiB, 4 * MiB],
    [2000 * MiB + 499, 4 * MiB], // floor(len/500) is still exactly 4 MiB
    [2000 * MiB + 500, 8 * MiB], // floor(len/500) = 4 MiB + 1
    [2001 * MiB, 8 * MiB],
    [4000 * MiB, 8 * MiB],
    [4001 * MiB, 16 * MiB],
    [8000 * MiB, 16 * MiB],
    [8001 * MiB, 32 * MiB],
    [16000 * MiB, 32 * MiB],
    [16000 * MiB + 500, 64 * MiB],
    [16 * GiB, 64 * MiB],
    [32000 * MiB, 64 * MiB],
    [1024 * GiB, 64 * MiB],
    [Number.MAX_SAFE_INTEGER, 64 * MiB],
  ])("content of %i bytes gets %i-byte pieces", (length, expected) => {
    expect(pieceLengthFor(length)).toBe(expected);
  });

  it("keeps the piece count at or under 500 until the 64 MiB cap", () => {
    for (const length of [2000 * MiB, 2001 * MiB, 3999 * MiB, 12345 * MiB, 32000 * MiB]) {
      expect(pieceCount(length, pieceLengthFor(length))).toBeLessThanOrEqual(TARGET_MAX_PIECE_COUNT);
    }
    expect(pieceCount(64 * GiB, pieceLengthFor(64 * GiB))).toBe(1024);
  });

  it("honours a fixed length in [4 MiB, 64 MiB], whatever the content length", () => {
    expect(pieceLengthFor(1, 4 * MiB)).toBe(4 * MiB);
    expect(pieceLengthFor(100 * GiB, 64 * MiB)).toBe(64 * MiB);
    expect(pieceLengthFor(10 * MiB, 5 * MiB + 3)).toBe(5 * MiB + 3);
  });

  it.each([4 * MiB - 1, 64 * MiB + 1, 0, -4 * MiB, 4.5 * MiB + 0.5, Number.NaN, Infinity])(
    "rejects the fixed length %d and names it",
    (fixed) => {
      const error = thrown(() => pieceLengthFor(100, fixed));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain(String(fixed));
      expect(error.message).toContain("4 MiB");
    },
  );

  it.each([-1, 1.5, Number.NaN, Infinity, Number.MAX_SAFE_INTEGER + 1])(
    "rejects the content length %d",
    (length) => {
      const error = thrown(() => pieceLengthFor(length));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain("contentLength");
    },
  );
});

describe("pieceCount", () => {
  it("is zero for empty content", () => {
    expect(pieceCount(0, 4 * MiB)).toBe(0);
  });

  it("rounds up so the last piece holds the remainder", () => {
    expect(pieceCount(1, 4 * MiB)).toBe(1);
    expect(pieceCount(4 * MiB - 1, 4 * MiB)).toBe(1);
    expect(pieceCount(4 * MiB, 4 * MiB)).toBe(1);
    expect(pieceCount(4 * MiB + 1, 4 * MiB)).toBe(2);
    expect(pieceCount(2000 * MiB, 4 * MiB)).toBe(500);
    expect(pieceCount(2001 * MiB, 8 * MiB)).toBe(251);
    expect(pieceCount(16 * GiB, 64 * MiB)).toBe(256);
    expect(pieceCount(10, 3)).toBe(4);
  });

  it("rejects a non-positive or fractional piece length and a bad content length", () => {
    expect(thrown(() => pieceCount(10, 0)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => pieceCount(10, -1)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => pieceCount(10, 1.5)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => pieceCount(-1, 4)).code).toBe("INVALID_ARGUMENT");
  });
});
