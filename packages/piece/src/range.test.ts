import { describe, expect, it } from "vitest";
import { pieceRange, piecesForRange, piecesInRange } from "./range.js";
import { thrown } from "./test-support/errors.js";

const MiB = 1024 * 1024;
const P = 4 * MiB;

describe("pieceRange", () => {
  it("gives full pieces and a remainder last piece", () => {
    const length = 2 * P + 10;
    expect(pieceRange(0, length, P)).toEqual({ number: 0, offset: 0, length: P });
    expect(pieceRange(1, length, P)).toEqual({ number: 1, offset: P, length: P });
    expect(pieceRange(2, length, P)).toEqual({ number: 2, offset: 2 * P, length: 10 });
  });

  it("gives a full last piece when the length divides evenly", () => {
    expect(pieceRange(1, 2 * P, P)).toEqual({ number: 1, offset: P, length: P });
  });

  it("handles a single short piece", () => {
    expect(pieceRange(0, 1, P)).toEqual({ number: 0, offset: 0, length: 1 });
  });

  it("stays exact for offsets beyond 2^32", () => {
    const length = 16 * 1024 * MiB + 7;
    const last = pieceRange(256, length, 64 * MiB);
    expect(last).toEqual({ number: 256, offset: 16 * 1024 * MiB, length: 7 });
  });

  it("refuses piece numbers outside the content", () => {
    for (const n of [-1, 3, 100]) {
      const error = thrown(() => pieceRange(n, 2 * P + 10, P));
      expect(error.code).toBe("OUT_OF_RANGE");
      expect(error.message).toContain("numbered 0 to 2");
    }
    const empty = thrown(() => pieceRange(0, 0, P));
    expect(empty.code).toBe("OUT_OF_RANGE");
    expect(empty.message).toContain("empty");
  });

  it("refuses a fractional piece number", () => {
    expect(thrown(() => pieceRange(0.5, 10, 4)).code).toBe("INVALID_ARGUMENT");
  });
});

describe("piecesForRange / piecesInRange", () => {
  const content = 10; // pieces of 4: [0,4) [4,8) [8,10)

  it("returns undefined / [] for an empty range", () => {
    expect(piecesForRange({ start: 3, length: 0 }, content, 4)).toBeUndefined();
    expect(piecesForRange({ start: 10, length: 0 }, content, 4)).toBeUndefined();
    expect(piecesInRange({ start: 0, length: 0 }, 0, 4)).toEqual([]);
  });

  it("finds the single piece around a range inside it", () => {
    expect(piecesForRange({ start: 1, length: 2 }, content, 4)).toEqual({ first: 0, last: 0 });
  });

  it("touches exactly the pieces at the edges", () => {
    // Ends on the last byte of piece 0: piece 1 is not needed.
    expect(piecesForRange({ start: 0, length: 4 }, content, 4)).toEqual({ first: 0, last: 0 });
    // One byte further reaches into piece 1.
    expect(piecesForRange({ start: 0, length: 5 }, content, 4)).toEqual({ first: 0, last: 1 });
    // Starting on the first byte of piece 1.
    expect(piecesForRange({ start: 4, length: 1 }, content, 4)).toEqual({ first: 1, last: 1 });
    // Starting on the last byte of piece 0.
    expect(piecesForRange({ start: 3, length: 2 }, content, 4)).toEqual({ first: 0, last: 1 });
    // The very last byte.
    expect(piecesForRange({ start: 9, length: 1 }, content, 4)).toEqual({ first: 2, last: 2 });
  });

  it("lists whole pieces, with the short last piece", () => {
    expect(piecesInRange({ start: 3, length: 7 }, content, 4)).toEqual([
      { number: 0, offset: 0, length: 4 },
      { number: 1, offset: 4, length: 4 },
      { number: 2, offset: 8, length: 2 },
    ]);
    expect(piecesInRange({ start: 5, length: 2 }, content, 4)).toEqual([{ number: 1, offset: 4, length: 4 }]);
  });

  it("works for a large task with 64 MiB pieces", () => {
    const length = 16 * 1024 * MiB;
    const span = piecesForRange({ start: 64 * MiB - 1, length: 2 }, length, 64 * MiB);
    expect(span).toEqual({ first: 0, last: 1 });
    expect(piecesInRange({ start: length - 1, length: 1 }, length, 64 * MiB)).toEqual([
      { number: 255, offset: 255 * 64 * MiB, length: 64 * MiB },
    ]);
  });

  it("refuses a range past the end with a clear message", () => {
    const error = thrown(() => piecesForRange({ start: 8, length: 3 }, content, 4));
    expect(error.code).toBe("OUT_OF_RANGE");
    expect(error.message).toContain("ends at 11");
    expect(error.message).toContain("10-byte content");
    expect(thrown(() => piecesInRange({ start: 11, length: 0 }, content, 4)).code).toBe("OUT_OF_RANGE");
  });

  it("rejects negative or fractional ranges", () => {
    expect(thrown(() => piecesForRange({ start: -1, length: 2 }, content, 4)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => piecesForRange({ start: 0, length: 1.5 }, content, 4)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => piecesForRange({ start: 0, length: 1 }, content, 0)).code).toBe("INVALID_ARGUMENT");
  });
});
