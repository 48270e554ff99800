import type { HostView, PeerView } from "@df/interface";
import { describe, expect, it } from "vitest";
import { createSameIdcEvaluator } from "./index.js";

function host(overrides: Partial<HostView> = {}): HostView {
  return {
    id: "h",
    type: "normal",
    maxTxBandwidth: 1e9,
    txBandwidth: 0,
    concurrentUploadLimit: 200,
    concurrentUploadCount: 0,
    concurrentUploadPieceCount: 0,
    uploadCount: 0,
    uploadFailedCount: 0,
    uploadContentLength: 0,
    ...overrides,
  };
}

function peer(id: string, hostOverrides: Partial<HostView> = {}, finishedPieceCount = 0): PeerView {
  return { id, state: "running", host: host(hostOverrides), finishedPieceCount, pieceCosts: [] };
}

describe("same-idc evaluator", () => {
  const evaluator = createSameIdcEvaluator({ sameIdcBonus: 0.5, maxFailureRatio: 0.2, minUploads: 10 });
  const child = peer("child", { idc: "hz" });

  it("ranks a same-IDC parent above an equally advanced one elsewhere", () => {
    const near = peer("near", { idc: "hz" }, 5);
    const far = peer("far", { idc: "sh" }, 5);
    const context = { totalPieceCount: 10 };
    expect(evaluator.score!(near, child, context)).toBeCloseTo(0.75);
    expect(evaluator.score!(far, child, context)).toBeCloseTo(0.25);
  });

  it("calls a host bad only once it has enough uploads to judge", () => {
    expect(evaluator.isBadParent!(peer("new", { uploadCount: 3, uploadFailedCount: 3 }))).toBe(false);
    expect(evaluator.isBadParent!(peer("flaky", { uploadCount: 20, uploadFailedCount: 5 }))).toBe(true);
    expect(evaluator.isBadParent!(peer("fine", { uploadCount: 20, uploadFailedCount: 2 }))).toBe(false);
  });
});
