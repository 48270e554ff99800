import { describe, expect, it } from "vitest";
import { finishedPieceScore } from "./progress.js";

describe("finishedPieceScore with a known total", () => {
  it("is the parent's finished share", () => {
    expect(finishedPieceScore(5, 0, 10)).toBe(0.5);
    expect(finishedPieceScore(10, 9, 10)).toBe(1);
    expect(finishedPieceScore(0, 3, 10)).toBe(0);
  });

  it("is clamped when counters overshoot the total", () => {
    expect(finishedPieceScore(12, 0, 10)).toBe(1);
    expect(finishedPieceScore(Number.MAX_SAFE_INTEGER, 0, 1)).toBe(1);
  });
});

describe("finishedPieceScore with the total unknown", () => {
  it("scales the parent's lead by its own count", () => {
    expect(finishedPieceScore(3, 1, 0)).toBe(0.5); // 2 / 4
    expect(finishedPieceScore(9, 0, 0)).toBe(0.9); // 9 / 10
    expect(finishedPieceScore(1, 0, 0)).toBe(0.5); // 1 / 2
  });

  it("ranks parents further ahead higher for the same child", () => {
    const child = 50;
    const scores = [51, 60, 100, 1000].map((parent) => finishedPieceScore(parent, child, 0));
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    expect(new Set(scores).size).toBe(4);
  });

  it("is 0 when the parent is not ahead, and below 1 however far ahead it is", () => {
    expect(finishedPieceScore(4, 4, 0)).toBe(0);
    expect(finishedPieceScore(2, 7, 0)).toBe(0);
    expect(finishedPieceScore(0, 0, 0)).toBe(0);
    expect(finishedPieceScore(1e6, 0, 0)).toBeLessThan(1);
    expect(finishedPieceScore(Number.MAX_SAFE_INTEGER, 0, 0)).toBeLessThanOrEqual(1);
  });
});
