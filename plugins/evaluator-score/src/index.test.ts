import { describeEvaluatorCompliance, describeEvaluatorDefinitionCompliance, makePeer } from "@df/compliance-tests";
import { hasErrorCode } from "@df/interface";
import { resolvePlugin } from "@df/service-kit";
import { describe, expect, it } from "vitest";
import definition, { createScoreEvaluator } from "./index.js";

describeEvaluatorCompliance("score", () => createScoreEvaluator());
describeEvaluatorCompliance("score (location only)", () =>
  createScoreEvaluator({ weights: { finishedPiece: 0, uploadSuccess: 0, freeUpload: 0, hostType: 0, idc: 0, location: 1 } }),
);
describeEvaluatorDefinitionCompliance(definition, {
  invalidOptions: { weights: { freeUpload: -1 } },
  invalidField: "weights.freeUpload",
  validOptions: { weights: { idc: 0.5 } },
});

const resolve = (entry: unknown) =>
  resolvePlugin(entry, { kind: "evaluator", key: "scheduler.evaluators.0", builtins: { score: () => definition } });

describe("score as a configured plugin", () => {
  it("resolves by name with options and scores with them", async () => {
    const evaluator = await resolve(["score", { weights: { finishedPiece: 1, uploadSuccess: 0, freeUpload: 0, hostType: 0, idc: 0, location: 0 } }]);
    expect(evaluator.name).toBe("score");
    const parent = makePeer({ finishedPieceCount: 3 });
    expect(evaluator.score!(parent, makePeer(), { totalPieceCount: 4 })).toBe(0.75);
  });

  it("names the offending option under the entry's key", async () => {
    const error = await resolve(["score", { weights: { idc: -2 } }]).catch((e: unknown) => e);
    expect(hasErrorCode(error, "INVALID_ARGUMENT", "invalid-plugin-options")).toBe(true);
    expect((error as Error).message).toMatch(/scheduler\.evaluators\.0\.1\.weights\.idc: /);
    await expect(resolve(["score", { weights: { idc: 0, location: 0, hostType: 0, freeUpload: 0, finishedPiece: 0, uploadSuccess: 0 } }])).rejects.toThrow(
      /scheduler\.evaluators\.0\.1\.weights: the weights must add up/,
    );
    await expect(resolve(["score", { weigths: {} }])).rejects.toThrow(/scheduler\.evaluators\.0\.1: .*weigths/);
  });
});
