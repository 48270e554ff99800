import { describe, expect, it } from "vitest";
import { z } from "zod";
import { byteSize, duration, listUnitFields } from "./units-zod.js";
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

describe("listUnitFields", () => {
  it("finds unit fields through defaults, optionals and refinements, with their ranges", () => {
    const schema = z.strictObject({
      a: duration("5s", { min: "1s", max: "1m" }),
      nested: z.strictObject({ b: byteSize(undefined, { max: "1Gi" }).optional(), c: duration("1s").refine((ms) => ms > 0) }).prefault({}),
      plain: z.number().default(1),
    });
    expect(listUnitFields(schema)).toEqual([
      { key: "a", field: { kind: "duration", min: 1000, max: 60_000 } },
      { key: "nested.b", field: { kind: "size", min: 0, max: 2 ** 30 } },
      { key: "nested.c", field: { kind: "duration", min: 0, max: 2 ** 31 - 1 } },
    ]);
    expect(schema.safeParse({ nested: { c: "30d" } }).error?.issues[0]?.message).toMatch(/must be at most 24.8 days/);
  });
});
