import { describe, expect, it } from "vitest";
import { parseContentLength, parseContentRange } from "./content-range.js";

describe("parseContentRange", () => {
  it.each([
    ["bytes 0-0/100", { kind: "range", start: 0, end: 0, total: 100 }],
    ["bytes 10-19/*", { kind: "range", start: 10, end: 19, total: undefined }],
    ["Bytes  5 - 9 / 10", { kind: "range", start: 5, end: 9, total: 10 }],
    ["bytes */0", { kind: "unsatisfied", total: 0 }],
    ["bytes */1234", { kind: "unsatisfied", total: 1234 }],
  ])("%s", (header, expected) => {
    expect(parseContentRange(header)).toEqual(expected);
  });

  it.each([undefined, "", "bytes 5-4/10", "bytes 0-10/10", "items 0-1/2", "bytes 0-1", "bytes -1-2/3", "bytes */*"])(
    "rejects %j",
    (header) => {
      expect(parseContentRange(header)).toBeUndefined();
    },
  );
});

describe("parseContentLength", () => {
  it("reads digits only", () => {
    expect(parseContentLength("123")).toBe(123);
    expect(parseContentLength(" 0 ")).toBe(0);
    expect(parseContentLength(undefined)).toBeUndefined();
    expect(parseContentLength("-1")).toBeUndefined();
    expect(parseContentLength("12, 12")).toBeUndefined();
    expect(parseContentLength("99999999999999999999")).toBeUndefined();
  });
});
