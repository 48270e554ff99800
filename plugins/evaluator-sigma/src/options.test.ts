import { hasErrorCode } from "@df/interface";
import { describe, expect, it } from "vitest";
import { parseSigmaOptions } from "./options.js";

describe("sigma options", () => {
  it("has the documented defaults", () => {
    expect(parseSigmaOptions()).toEqual({
      k: 6,
      minSamples: 2,
      normalDistributionSamples: 30,
      fewSamplesMultiplier: 20,
      window: 2000,
      resolutionMs: 1,
    });
  });

  it("accepts other valid settings, e.g. upstream's 3σ", () => {
    expect(parseSigmaOptions({ k: 3, window: 100, normalDistributionSamples: 99 })).toMatchObject({ k: 3, window: 100, normalDistributionSamples: 99 });
    expect(parseSigmaOptions({ k: 0.5, resolutionMs: 0.001 })).toMatchObject({ k: 0.5, resolutionMs: 0.001 });
  });

  it.each([
    [{ k: 0 }, /options\.k: k must be greater than 0/],
    [{ k: -6 }, /options\.k/],
    [{ k: Number.POSITIVE_INFINITY }, /options\.k/],
    [{ minSamples: 1 }, /options\.minSamples: minSamples must be at least 2/],
    [{ minSamples: 2.5 }, /options\.minSamples/],
    [{ normalDistributionSamples: 1 }, /options\.normalDistributionSamples/],
    [{ fewSamplesMultiplier: 0.5 }, /options\.fewSamplesMultiplier: fewSamplesMultiplier must be at least 1/],
    [{ window: 1 }, /options\.window/],
    [{ resolutionMs: 0 }, /options\.resolutionMs/],
    [{ sigma: 6 }, /sigma/],
  ])("rejects %j", (input, message) => {
    expect(() => parseSigmaOptions(input as never)).toThrow(message);
  });

  it("rejects settings under which a rule could never apply", () => {
    expect(() => parseSigmaOptions({ window: 10, minSamples: 11, normalDistributionSamples: 5 })).toThrow(
      /options\.minSamples: minSamples must not exceed window/,
    );
    expect(() => parseSigmaOptions({ window: 30 })).toThrow(/options\.normalDistributionSamples: .*σ rule could never apply/);
    expect(parseSigmaOptions({ window: 31 }).window).toBe(31);
  });

  it("throws a DfError INVALID_ARGUMENT", () => {
    let caught: unknown;
    try {
      parseSigmaOptions({ k: -1 });
    } catch (error) {
      caught = error;
    }
    expect(hasErrorCode(caught, "INVALID_ARGUMENT", "invalid-plugin-options")).toBe(true);
  });
});
