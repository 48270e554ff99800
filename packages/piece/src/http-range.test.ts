import { describe, expect, it } from "vitest";
import { parseByteRange } from "./http-range.js";
import { thrown } from "./test-support/errors.js";

describe("parseByteRange", () => {
  it.each([
    ["bytes=0-99", 1000, { start: 0, length: 100 }],
    ["0-99", 1000, { start: 0, length: 100 }],
    ["Bytes=10-10", 1000, { start: 10, length: 1 }],
    [" bytes=5-9 ", 1000, { start: 5, length: 5 }],
    ["100-", 1000, { start: 100, length: 900 }],
    ["bytes=999-", 1000, { start: 999, length: 1 }],
    ["-100", 1000, { start: 900, length: 100 }],
    ["bytes=-1", 1000, { start: 999, length: 1 }],
    ["0-", 1, { start: 0, length: 1 }],
  ])("%s of %i bytes", (spec, length, expected) => {
    expect(parseByteRange(spec, length)).toEqual(expected);
  });

  it("clamps an end past the content to the last byte", () => {
    expect(parseByteRange("bytes=900-5000", 1000)).toEqual({ start: 900, length: 100 });
    expect(parseByteRange("0-99999999999999999999999", 1000)).toEqual({ start: 0, length: 1000 });
  });

  it("serves all the content for a suffix longer than it", () => {
    expect(parseByteRange("-5000", 1000)).toEqual({ start: 0, length: 1000 });
    expect(parseByteRange("bytes=-1000", 1000)).toEqual({ start: 0, length: 1000 });
  });

  it("gives an empty range for a suffix of empty content (RFC 9110 §14.1.1)", () => {
    expect(parseByteRange("-10", 0)).toEqual({ start: 0, length: 0 });
  });

  it.each([
    ["bytes=1000-", 1000],
    ["1000-1001", 1000],
    ["5000-6000", 1000],
    ["0-", 0],
    ["-0", 1000],
  ])("refuses %s of %i bytes as unsatisfiable, quoting it", (spec, length) => {
    const error = thrown(() => parseByteRange(spec, length));
    expect(error.code).toBe("OUT_OF_RANGE");
    expect(error.message).toContain(`"${spec}"`);
  });

  it("refuses more than one range", () => {
    const error = thrown(() => parseByteRange("bytes=0-1,5-6", 100));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain("only one range is supported");
    expect(error.message).toContain(`"bytes=0-1,5-6"`);
  });

  it.each(["", "-", "bytes=", "bytes=-", "abc", "1-2-3", "a-5", "5-b", "+1-2", "1.5-2", "items=0-1", "10-5", "0x10-20"])(
    "refuses the malformed spec %j, quoting it",
    (spec) => {
      const error = thrown(() => parseByteRange(spec, 100));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain(`"${spec}"`);
    },
  );

  it("rejects a bad content length", () => {
    expect(thrown(() => parseByteRange("0-1", -1)).code).toBe("INVALID_ARGUMENT");
  });
});
