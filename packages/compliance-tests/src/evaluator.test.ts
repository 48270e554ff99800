import { definePlugin, type Evaluator, type PeerView, type StandardSchemaV1 } from "@df/interface";
import { describe, expect, it } from "vitest";
import {
  checkBadParentContract,
  checkEvaluatorDoesNotMutate,
  checkEvaluatorFastEnough,
  checkEvaluatorNeverThrows,
  checkEvaluatorRejectsInvalidOptions,
  checkEvaluatorResolvesWithDefaults,
  checkEvaluatorShape,
  checkIsEvaluatorDefinition,
  checkScoreDeterministic,
  checkScoresInRange,
  checkUnservableParentsAreBad,
  describeEvaluatorCompliance,
  describeEvaluatorDefinitionCompliance,
} from "./evaluator.js";

const servable = new Set(["running", "back-to-source", "succeeded"]);
const progress = (parent: PeerView, total: number) => (total > 0 ? Math.min(1, parent.finishedPieceCount / total) : 0);

const reference: Evaluator = {
  name: "reference",
  score: (parent, _child, { totalPieceCount }) => progress(parent, totalPieceCount),
  isBadParent: (parent) => !servable.has(parent.state),
};

// The suite passes the evaluators it should pass, in all three shapes.
describeEvaluatorCompliance("reference", () => reference);
describeEvaluatorCompliance("score only (async setup)", async () => ({ name: "score-only", score: reference.score! }));
describeEvaluatorCompliance("filter only", () => ({ name: "filter-only", isBadParent: reference.isBadParent! }));

// A definition whose options use a hand-written Standard Schema: no validator library needed.
const weightSchema: StandardSchemaV1<unknown, { weight: number }> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate(value) {
      const weight = (value as { weight?: unknown }).weight ?? 0.5;
      if (typeof weight !== "number" || weight < 0 || weight > 1) {
        return { issues: [{ message: "must be a number in [0, 1]", path: ["weight"] }] };
      }
      return { value: { weight } };
    },
  },
};

const constant = definePlugin({
  kind: "evaluator",
  name: "constant",
  options: weightSchema,
  create: ({ weight }): Evaluator => ({ name: "constant", score: () => weight }),
});

describeEvaluatorDefinitionCompliance(constant, { invalidOptions: { weight: 2 }, invalidField: "weight", validOptions: { weight: 0.3 } });

// Each check must be able to fail: broken evaluators with the bugs real ones have.
describe("evaluator checks catch broken evaluators", () => {
  it("rejects a nameless evaluator and one that neither scores nor filters", () => {
    expect(() => checkEvaluatorShape({ ...reference, name: "" })).toThrow(/name/);
    expect(() => checkEvaluatorShape({ name: "nothing" })).toThrow(/score or isBadParent/);
  });

  it("rejects scores above 1 (progress not clamped) and NaN (0/0 when the total is unknown)", () => {
    const unclamped: Evaluator = { name: "unclamped", score: (p, _c, { totalPieceCount }) => (totalPieceCount > 0 ? p.finishedPieceCount / totalPieceCount : 0) };
    expect(() => checkScoresInRange(unclamped)).toThrow(/not a finite number within \[0, 1\]/);
    const nan: Evaluator = { name: "nan", score: (p, _c, { totalPieceCount }) => Math.min(1, p.finishedPieceCount / totalPieceCount) };
    expect(() => checkScoresInRange(nan)).toThrow(/= NaN/);
  });

  it("rejects scores that depend on call history", () => {
    let calls = 0;
    const drifting: Evaluator = { name: "drifting", score: () => (calls++ > 40_000 ? 0.2 : 0.1) };
    expect(() => checkScoreDeterministic(drifting)).toThrow(/gave 0.1 then 0.2/);
  });

  it("rejects non-boolean and non-deterministic verdicts", () => {
    const counting = { name: "counting", isBadParent: (p: PeerView) => p.pieceCosts.length } as unknown as Evaluator;
    expect(() => checkBadParentContract(counting)).toThrow(/not a boolean/);
    let flip = false;
    const flipping: Evaluator = { name: "flipping", isBadParent: () => (flip = !flip) };
    expect(() => checkBadParentContract(flipping)).toThrow(/gave (true|false) then/);
    expect(() => checkBadParentContract({ name: "neither" })).toThrow(/must score/);
  });

  it("rejects a filter that lets a failed, left or pending parent through", () => {
    const lenient: Evaluator = { name: "lenient", isBadParent: (p) => p.state === "failed" };
    expect(() => checkUnservableParentsAreBad(lenient)).toThrow(/\[(pending|left)\]\) = false/);
  });

  it("rejects an evaluator that throws on a missing location", () => {
    const careless: Evaluator = { name: "careless", score: (p) => (p.host.location!.split("|").length > 2 ? 1 : 0) };
    expect(() => checkEvaluatorNeverThrows(careless)).toThrow(/threw/);
  });

  it("rejects an evaluator that sorts a parent's costs in place", () => {
    const sorting: Evaluator = {
      name: "sorting",
      isBadParent: (p) => (p.pieceCosts as number[]).sort((a, b) => a - b).at(-1)! > 1e9,
    };
    expect(() => checkEvaluatorNeverThrows(sorting)).toThrow(/threw/);
    expect(() => checkEvaluatorDoesNotMutate(sorting)).toThrow(/after evaluation/);
  });

  it("rejects an evaluator that fills in a missing total on the shared context", () => {
    const defaulting: Evaluator = {
      name: "defaulting",
      score: (p, _c, context) => {
        (context as { totalPieceCount: number }).totalPieceCount ||= 1;
        return Math.min(1, p.finishedPieceCount / context.totalPieceCount);
      },
    };
    expect(() => checkEvaluatorNeverThrows(defaulting)).toThrow(/threw/);
    expect(() => checkEvaluatorDoesNotMutate(defaulting)).toThrow(/contexts after evaluation/);
  });

  it("rejects an evaluator slower than its budget", () => {
    const slow: Evaluator = {
      name: "slow",
      score: () => {
        const until = performance.now() + 1;
        while (performance.now() < until) {
          // busy: a stand-in for an evaluator that does I/O-sized work per call
        }
        return 0.5;
      },
    };
    expect(() => checkEvaluatorFastEnough(slow, { calls: 50, budgetMs: 10 })).toThrow(/50 scores took/);
  });
});

describe("definition checks catch broken definitions", () => {
  it("rejects a plain object and a definition of another kind", () => {
    expect(() => checkIsEvaluatorDefinition({ kind: "evaluator", name: "x", create: () => reference })).toThrow(/definePlugin/);
    const shaper = definePlugin({ kind: "shaper", name: "s", create: () => ({}) as never });
    expect(() => checkIsEvaluatorDefinition(shaper)).toThrow(/definition.kind/);
  });

  it("rejects a definition whose instance neither scores nor filters", async () => {
    const empty = definePlugin({ kind: "evaluator", name: "empty", create: () => ({ name: "empty" }) });
    await expect(checkEvaluatorResolvesWithDefaults(empty)).rejects.toThrow(/without score or isBadParent/);
  });

  it("rejects a definition that accepts invalid options, or blames the wrong field", async () => {
    const schemaless = definePlugin({ kind: "evaluator", name: "schemaless", create: (): Evaluator => reference });
    await expect(checkEvaluatorRejectsInvalidOptions(schemaless, { weight: 2 })).rejects.toThrow(/were accepted/);
    await expect(checkEvaluatorRejectsInvalidOptions(constant, { weight: 2 }, "weights")).rejects.toThrow(/names the config key/);
  });
});
