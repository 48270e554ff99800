import { describeEvaluatorCompliance, describeEvaluatorDefinitionCompliance, makePeer } from "@df/compliance-tests";
import { hasErrorCode } from "@df/interface";
import { resolvePlugin } from "@df/service-kit";
import { describe, expect, it } from "vitest";
import definition, { createSigmaEvaluator } from "./index.js";

describeEvaluatorCompliance("sigma", () => createSigmaEvaluator());
describeEvaluatorCompliance("sigma (3σ, short window)", () => createSigmaEvaluator({ k: 3, window: 50, normalDistributionSamples: 10 }));
describeEvaluatorDefinitionCompliance(definition, { invalidOptions: { k: 0 }, invalidField: "k", validOptions: { k: 3, window: 500 } });

const resolve = (entry: unknown) =>
  resolvePlugin(entry, { kind: "evaluator", key: "scheduler.evaluators.0", builtins: { sigma: () => definition } });

describe("sigma as a configured plugin", () => {
  it("resolves by name with options and filters with them", async () => {
    const evaluator = await resolve(["sigma", { fewSamplesMultiplier: 2 }]);
    expect(evaluator.name).toBe("sigma");
    expect(evaluator.isBadParent!(makePeer({ pieceCosts: [10, 10, 21] }))).toBe(true);
    expect(evaluator.isBadParent!(makePeer({ pieceCosts: [10, 10, 19] }))).toBe(false);
  });

  it("names the offending option under the entry's key", async () => {
    const error = await resolve(["sigma", { k: -1 }]).catch((e: unknown) => e);
    expect(hasErrorCode(error, "INVALID_ARGUMENT", "invalid-plugin-options")).toBe(true);
    expect((error as Error).message).toMatch(/scheduler\.evaluators\.0\.1\.k: k must be greater than 0/);
    await expect(resolve(["sigma", { window: 20 }])).rejects.toThrow(/scheduler\.evaluators\.0\.1\.normalDistributionSamples: /);
    await expect(resolve({ name: "sigma", options: { minSamples: 1 } })).rejects.toThrow(/scheduler\.evaluators\.0\.options\.minSamples: /);
  });
});
