import { describe, expect, it } from "vitest";
import { TINY_FILE_SIZE, sizeScope } from "./size-scope.js";
import { thrown } from "./test-support/errors.js";

describe("sizeScope", () => {
  it.each([
    [undefined, 0, "UNKNOWN"],
    [-1, 0, "UNKNOWN"],
    [1000, -1, "UNKNOWN"],
    [0, 0, "EMPTY"],
    [1, 1, "TINY"],
    [128, 1, "TINY"],
    [129, 1, "SMALL"],
    [4 * 1024 * 1024, 1, "SMALL"],
    [4 * 1024 * 1024 + 1, 2, "NORMAL"],
    [16 * 1024 ** 3, 256, "NORMAL"],
  ] as const)("length %s with %i piece(s) is %s", (length, pieces, expected) => {
    expect(sizeScope(length, pieces)).toBe(expected);
  });

  it("uses 128 bytes as the tiny limit", () => {
    expect(TINY_FILE_SIZE).toBe(128);
  });

  it("refuses NaN", () => {
    expect(thrown(() => sizeScope(Number.NaN, 1)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => sizeScope(10, Number.NaN)).code).toBe("INVALID_ARGUMENT");
  });
});
