import { describe, expect, it } from "vitest";
import { formatByteSize, formatDuration, parseByteSize, parseDuration } from "./units-parse.js";

describe("parseByteSize", () => {
  it.each([
    ["1024Mi", 1024 * 2 ** 20],
    ["20M", 20_000_000],
    ["4KiB", 4096],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["512", 512],
    ["10 MB", 10_000_000],
    ["1Ti", 2 ** 40],
  ])("%s = %d bytes", (input, bytes) => {
    expect(parseByteSize(input)).toBe(bytes);
  });

  it("accepts numbers and refuses nonsense", () => {
    expect(parseByteSize(4096)).toBe(4096);
    expect(() => parseByteSize("-1M")).toThrow(/invalid byte size "-1M"/);
    expect(() => parseByteSize("12 parsecs")).toThrow(/use a number with an optional unit/);
    expect(() => parseByteSize(Number.NaN)).toThrow(/non-negative/);
  });
});

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["30d", 2_592_000_000],
    ["250", 250],
    ["1.5s", 1500],
  ])("%s = %d ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it("refuses trailing garbage and unknown units", () => {
    expect(() => parseDuration("5 minutes")).toThrow(/invalid duration "5 minutes"/);
    expect(() => parseDuration("10w")).toThrow(/use e\.g\. 500ms/);
    expect(() => parseDuration("1h-")).toThrow(/invalid duration/);
  });
});

describe("formatDuration and formatByteSize", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [90 * 60_000, "1h30m"],
    [30 * 86_400_000, "30d"],
    [2 ** 31 - 1, "24d20h31m23s647ms"],
  ])("%d ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    [1024, "1Ki"],
    [2 ** 40, "1Ti"],
    [1500, "1500"],
  ])("%d bytes is %s", (bytes, text) => {
    expect(formatByteSize(bytes)).toBe(text);
    expect(parseByteSize(text)).toBe(bytes);
  });
});
