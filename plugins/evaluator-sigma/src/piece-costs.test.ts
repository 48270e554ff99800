import { describe, expect, it } from "vitest";
import { parseSigmaOptions } from "./options.js";
import { judgePieceCosts } from "./piece-costs.js";

const rule = parseSigmaOptions();
const bad = (costs: number[], overrides = {}) => judgePieceCosts(costs, { ...rule, ...overrides }).bad;

// 15 × 90 and 15 × 110: mean 100, population σ 10, so 6σ puts the bar at 160.
const steady30 = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 90 : 110));

describe("too few samples", () => {
  it("never judges an empty or one-cost history bad", () => {
    expect(judgePieceCosts([], rule)).toEqual({ bad: false, rule: "too-few-samples", samples: 0 });
    expect(judgePieceCosts([5000], rule)).toEqual({ bad: false, rule: "too-few-samples", samples: 1 });
  });

  it("honours a larger minSamples", () => {
    expect(bad([10, 10, 1000], { minSamples: 4 })).toBe(false);
    expect(bad([10, 10, 10, 1000], { minSamples: 4 })).toBe(true);
  });
});

describe("before the σ rule applies: more than 20× the mean", () => {
  it("draws the line at 20× the mean of the earlier costs", () => {
    // earlier 10, 20, 30: mean 20, bar 400
    expect(judgePieceCosts([10, 20, 30, 400], rule)).toMatchObject({ bad: false, rule: "mean-multiple", mean: 20, threshold: 400 });
    expect(bad([10, 20, 30, 401])).toBe(true);
    // one earlier cost is enough
    expect(bad([100, 2000])).toBe(false);
    expect(bad([100, 2001])).toBe(true);
  });

  it("uses the configured multiplier", () => {
    expect(bad([100, 100, 499], { fewSamplesMultiplier: 5 })).toBe(false);
    expect(bad([100, 100, 501], { fewSamplesMultiplier: 5 })).toBe(true);
  });

  it("still applies with 29 earlier costs", () => {
    const verdict = judgePieceCosts([...steady30.slice(0, 29), 1000], rule);
    expect(verdict).toMatchObject({ bad: false, rule: "mean-multiple", samples: 30 });
  });
});

describe("with enough earlier costs: beyond mean + k·σ", () => {
  it("switches to the σ rule at 30 earlier costs", () => {
    const verdict = judgePieceCosts([...steady30, 1000], rule);
    expect(verdict).toMatchObject({ bad: true, rule: "sigma", samples: 31 });
    if (verdict.rule !== "sigma") throw new Error("unreachable");
    expect(verdict.mean).toBeCloseTo(100, 10);
    expect(verdict.sigma).toBeCloseTo(10, 10);
    expect(verdict.threshold).toBeCloseTo(160, 10);
  });

  it("draws the line at mean + 6σ by default", () => {
    expect(bad([...steady30, 159.9])).toBe(false);
    expect(bad([...steady30, 160.1])).toBe(true);
  });

  it("uses the configured k", () => {
    expect(bad([...steady30, 129.9], { k: 3 })).toBe(false);
    expect(bad([...steady30, 130.1], { k: 3 })).toBe(true);
  });

  it("uses the configured sample count", () => {
    // 10 earlier costs of 90/110 also have mean 100, σ 10
    const ten = steady30.slice(0, 10);
    expect(bad([...ten, 170], { normalDistributionSamples: 10 })).toBe(true);
    expect(bad([...ten, 170], { normalDistributionSamples: 11 })).toBe(false);
  });

  it("is not fooled by a fast newest piece", () => {
    expect(bad([...steady30, 0])).toBe(false);
  });
});

describe("window", () => {
  it("ignores costs older than the window", () => {
    // whole history: earlier mean (4·1 + 2·100)/6 = 34, bar 680; window 3: mean 100, bar 2000
    const costs = [1, 1, 1, 1, 100, 100, 1000];
    expect(bad(costs)).toBe(true);
    expect(bad(costs, { window: 3 })).toBe(false);
  });

  it("counts earlier costs within the window only for the σ switch", () => {
    const long = [...steady30, ...steady30, 1000];
    expect(judgePieceCosts(long, { ...rule, window: 31 }).rule).toBe("sigma");
    expect(judgePieceCosts(long, { ...rule, window: 31, normalDistributionSamples: 30 }).bad).toBe(true);
    expect(judgePieceCosts(long, { ...rule, window: 30 }).rule).toBe("mean-multiple");
  });
});

describe("guards against arithmetic noise", () => {
  it("σ = 0: a cost one tick above identical costs is not an outlier", () => {
    const flat = Array.from({ length: 30 }, () => 100);
    // bar: 100 + 6 × max(0, 1 ms) = 106
    expect(judgePieceCosts([...flat, 101], rule)).toMatchObject({ bad: false, sigma: 0, threshold: 106 });
    expect(bad([...flat, 106])).toBe(false);
    expect(bad([...flat, 107])).toBe(true);
    expect(bad([...flat, 100.5], { resolutionMs: 0.01 })).toBe(true);
  });

  it("mean = 0: pieces faster than the clock do not make every later cost 20× slower", () => {
    // bar: 20 × max(0, 1 ms) = 20
    expect(bad([0, 0, 0, 15])).toBe(false);
    expect(bad([0, 0, 0, 20])).toBe(false);
    expect(bad([0, 0, 0, 21])).toBe(true);
  });

  it("drops negative costs instead of dragging the mean down", () => {
    // with −1000 the mean would be negative and the bar 20 ms; without it, 10 ms mean, bar 200
    expect(bad([-1000, 10, 10, 150])).toBe(false);
    expect(bad([-1000, 10, 10, 201])).toBe(true);
  });

  it("drops NaN and Infinity, also as the newest cost", () => {
    expect(judgePieceCosts([10, 10, 5000, Number.NaN], rule)).toMatchObject({ bad: true, last: 5000, samples: 3 });
    expect(judgePieceCosts([10, 10, Number.POSITIVE_INFINITY], rule)).toMatchObject({ bad: false, last: 10, samples: 2 });
    expect(judgePieceCosts([Number.NaN, 5000], rule)).toEqual({ bad: false, rule: "too-few-samples", samples: 1 });
    expect(bad([Number.NaN, 10, Number.NaN, 10, 150])).toBe(false);
  });

  it("never flags a history whose numbers overflow", () => {
    expect(bad([Number.MAX_VALUE, Number.MAX_VALUE, Number.MAX_VALUE])).toBe(false);
    const wild = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 0 : 1e300));
    const verdict = judgePieceCosts([...wild, Number.MAX_VALUE], rule);
    expect(verdict).toMatchObject({ bad: false, rule: "sigma" });
  });

  it("keeps precision for large costs with a small spread", () => {
    // 1e9 ± 10: σ 10, bar 1e9 + 60; a sum of squares would lose σ entirely
    const big = steady30.map((c) => 1e9 - 100 + c);
    expect(bad([...big, 1e9 + 59])).toBe(false);
    expect(bad([...big, 1e9 + 61])).toBe(true);
  });
});
