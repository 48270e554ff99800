import { describe, expect, it } from "vitest";
import { parseRangeHeader } from "./origin-range.js";

describe("parseRangeHeader", () => {
  it.each([
    ["bytes=0-0", 100, { start: 0, end: 0 }],
    ["bytes=10-19", 100, { start: 10, end: 19 }],
    ["bytes=90-200", 100, { start: 90, end: 99 }],
    ["bytes=50-", 100, { start: 50, end: 99 }],
    ["bytes=-10", 100, { start: 90, end: 99 }],
    ["bytes=-500", 100, { start: 0, end: 99 }],
    ["BYTES = 1 - 2", 100, { start: 1, end: 2 }],
  ])("%s of %i bytes", (header, size, expected) => {
    expect(parseRangeHeader(header, size)).toEqual(expected);
  });

  it.each([
    ["bytes=100-", 100],
    ["bytes=100-200", 100],
    ["bytes=0-0", 0],
    ["bytes=-0", 100],
  ])("%s of %i bytes is unsatisfiable", (header, size) => {
    expect(parseRangeHeader(header, size)).toBe("unsatisfiable");
  });

  it.each([undefined, "", "bytes=", "bytes=-", "bytes=5-1", "bytes=0-1,5-6", "items=0-1", "bytes=a-b"])(
    "%j is ignored (whole resource)",
    (header) => {
      expect(parseRangeHeader(header, 100)).toBeUndefined();
    },
  );
});
