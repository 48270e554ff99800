import { describe, expect, it } from "vitest";
import { RunningStats } from "./welford.js";

const statsOf = (values: number[]) => {
  const stats = new RunningStats();
  for (const value of values) stats.push(value);
  return stats;
};

describe("RunningStats", () => {
  it("is empty before any value", () => {
    const stats = new RunningStats();
    expect([stats.count, stats.mean, stats.variance, stats.standardDeviation]).toEqual([0, 0, 0, 0]);
  });

  it("computes the mean and population standard deviation", () => {
    const stats = statsOf([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(stats.count).toBe(8);
    expect(stats.mean).toBe(5);
    expect(stats.variance).toBe(4);
    expect(stats.standardDeviation).toBe(2);
  });

  it("gives σ = 0 for identical values and for one value", () => {
    expect(statsOf([100, 100, 100]).standardDeviation).toBe(0);
    expect(statsOf([42]).standardDeviation).toBe(0);
  });

  it("keeps the spread of large values that a sum of squares would lose", () => {
    const base = 1e9;
    const stats = statsOf([4, 7, 13, 16].map((v) => base + v));
    expect(stats.mean).toBe(base + 10);
    expect(stats.variance).toBeCloseTo(22.5, 6);
    // The textbook one-pass formula, for contrast: E[x²] − E[x]² cancels catastrophically.
    const values = [4, 7, 13, 16].map((v) => base + v);
    const naive = values.reduce((s, v) => s + v * v, 0) / 4 - ((values.reduce((s, v) => s + v, 0) / 4) ** 2);
    expect(Math.abs(naive - 22.5)).toBeGreaterThan(1);
  });
});
