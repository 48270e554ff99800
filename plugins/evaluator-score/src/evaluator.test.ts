import { makePeer } from "@df/compliance-tests";
import { describe, expect, it } from "vitest";
import { createScoreEvaluator, scoreFeatures } from "./evaluator.js";

const child = makePeer({ id: "child", finishedPieceCount: 2, host: { id: "c", idc: "hz", location: "cn|zj|hz|az1|r1" } });

describe("score evaluator", () => {
  const evaluator = createScoreEvaluator();

  it("combines the six features with the classic weights", () => {
    // finished 5/10 = 0.5; uploads 8/10 = 0.8; free min(1 − 250/1000, 1 − 50/200) = 0.75;
    // normal host 0.5; same IDC (case aside) 1; location 3 of 5 elements = 0.6.
    const parent = makePeer({
      id: "parent",
      finishedPieceCount: 5,
      host: {
        id: "p",
        idc: "HZ",
        location: "cn|zj|hz|az2|r1",
        maxTxBandwidth: 1000,
        txBandwidth: 250,
        concurrentUploadLimit: 200,
        concurrentUploadCount: 50,
        uploadCount: 10,
        uploadFailedCount: 2,
      },
    });
    const context = { totalPieceCount: 10 };
    expect(scoreFeatures(parent, child, context)).toEqual({
      finishedPiece: 0.5,
      uploadSuccess: 0.8,
      freeUpload: 0.75,
      hostType: 0.5,
      idc: 1,
      location: 0.6,
    });
    // 0.2·0.5 + 0.2·0.8 + 0.15·0.75 + 0.15·0.5 + 0.15·1 + 0.15·0.6 = 0.6875
    expect(evaluator.score!(parent, child, context)).toBeCloseTo(0.6875, 12);
  });

  it("scores a perfect parent 1 and a hopeless one 0", () => {
    const perfect = makePeer({
      finishedPieceCount: 10,
      state: "running",
      host: { type: "seed", idc: "hz", location: "cn|zj|hz|az1|r1" },
    });
    expect(evaluator.score!(perfect, child, { totalPieceCount: 10 })).toBe(1);
    const hopeless = makePeer({
      state: "succeeded",
      host: { type: "seed", maxTxBandwidth: 0, concurrentUploadLimit: 0, uploadCount: 1, uploadFailedCount: 3 },
    });
    expect(evaluator.score!(hopeless, child, { totalPieceCount: 10 })).toBe(0);
  });

  it("normalises custom weights by their sum", () => {
    const idcOnly = createScoreEvaluator({
      weights: { finishedPiece: 0, uploadSuccess: 0, freeUpload: 0, hostType: 0, idc: 3, location: 1 },
    });
    const parent = makePeer({ host: { idc: "hz", location: "cn|zj|sh" } });
    // (3·1 + 1·0.4) / 4 = 0.85
    expect(idcOnly.score!(parent, child, { totalPieceCount: 0 })).toBeCloseTo(0.85, 12);
  });

  it("ranks the nearer, emptier, further-ahead parent first", () => {
    const near = makePeer({ id: "near", finishedPieceCount: 8, host: { idc: "hz", location: "cn|zj|hz|az1|r1" } });
    const far = makePeer({ id: "far", finishedPieceCount: 8, host: { idc: "sh", location: "cn|sh" } });
    const busy = makePeer({ id: "busy", finishedPieceCount: 8, host: { idc: "hz", location: "cn|zj|hz|az1|r1", txBandwidth: 9e9 } });
    const behind = makePeer({ id: "behind", finishedPieceCount: 1, host: { idc: "hz", location: "cn|zj|hz|az1|r1" } });
    const context = { totalPieceCount: 10 };
    const score = (p: typeof near) => evaluator.score!(p, child, context);
    expect(score(near)).toBeGreaterThan(score(far));
    expect(score(near)).toBeGreaterThan(score(busy));
    expect(score(near)).toBeGreaterThan(score(behind));
  });

  it("is not affected by later changes to the options object", () => {
    const weights = { finishedPiece: 0, uploadSuccess: 0, freeUpload: 0, hostType: 0, idc: 1, location: 0 };
    const evaluator = createScoreEvaluator({ weights });
    weights.idc = 0;
    weights.location = 1;
    const parent = makePeer({ host: { idc: "hz", location: "us" } });
    expect(evaluator.score!(parent, child, { totalPieceCount: 1 })).toBe(1);
  });

  it("throws a DfError for invalid options given from code", () => {
    expect(() => createScoreEvaluator({ weights: { idc: -1 } })).toThrow(/weights\.idc/);
  });
});
