import { describe, expect, it } from "vitest";
import { listUnitFields } from "@df/interface/zod";
import { parseConfig, unitRangeProblems } from "@df/service-kit";
import { managerConfigSchema } from "./config.js";

describe("ranges of the manager's durations and sizes", () => {
  it("gives every duration and size key a range, and refuses past it naming the key", () => {
    const keys = listUnitFields(managerConfigSchema).map((f) => f.key);
    expect(keys).toEqual(expect.arrayContaining(["keepalive.interval", "keepalive.timeout", "auth.maxTokenTtl", "rest.bodyLimit"]));
    expect(unitRangeProblems(managerConfigSchema, "manager")).toEqual([]);
  });

  it("refuses a keepalive interval Node could not wait for, and a body limit below 1 KiB", () => {
    expect(() => parseConfig(managerConfigSchema, { keepalive: { interval: "30d" } }, "manager")).toThrow(/keepalive\.interval: must be at most 10m, got "30d"/);
    expect(() => parseConfig(managerConfigSchema, { rest: { bodyLimit: 10 } }, "manager")).toThrow(/rest\.bodyLimit: must be at least 1Ki, got 10/);
  });
});
