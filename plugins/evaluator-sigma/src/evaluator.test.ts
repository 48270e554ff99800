import { makePeer } from "@df/compliance-tests";
import { describe, expect, it } from "vitest";
import { createSigmaEvaluator } from "./evaluator.js";

describe("sigma evaluator", () => {
  it("only filters", () => {
    const evaluator = createSigmaEvaluator();
    expect(evaluator.name).toBe("sigma");
    expect(evaluator.score).toBeUndefined();
  });

  it("flags a parent whose newest piece is an outlier and explains why", () => {
    const evaluator = createSigmaEvaluator({ k: 3 });
    const steady = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 90 : 110));
    const slow = makePeer({ pieceCosts: [...steady, 131] });
    expect(evaluator.isBadParent(slow)).toBe(true);
    expect(evaluator.judge(slow)).toMatchObject({ bad: true, rule: "sigma" });
    expect(evaluator.isBadParent(makePeer({ pieceCosts: [...steady, 129] }))).toBe(false);
    expect(evaluator.judge(makePeer({ state: "left" }))).toEqual({ bad: true, rule: "state", state: "left" });
  });

  it("is not affected by later changes to the options object", () => {
    const options = { k: 3 };
    const evaluator = createSigmaEvaluator(options);
    options.k = 100;
    const steady = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 90 : 110));
    expect(evaluator.isBadParent(makePeer({ pieceCosts: [...steady, 150] }))).toBe(true);
  });

  it("throws a DfError for invalid options given from code", () => {
    expect(() => createSigmaEvaluator({ k: 0 })).toThrow(/options\.k/);
  });
});
