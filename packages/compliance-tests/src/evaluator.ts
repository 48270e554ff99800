import type { Evaluator } from "@df/interface";
import { beforeAll, describe, expect, it } from "vitest";
import {
  checkBadParentContract,
  checkEvaluatorDoesNotMutate,
  checkEvaluatorShape,
  checkEvaluatorFastEnough,
  checkEvaluatorNeverThrows,
  checkScoreDeterministic,
  checkScoresInRange,
  checkUnservableParentsAreBad,
} from "./evaluator-checks.js";
import {
  checkIsEvaluatorDefinition,
  checkEvaluatorRejectsInvalidOptions,
  checkEvaluatorResolvesWithDefaults,
  checkEvaluatorResolvesWithOptions,
} from "./evaluator-definition-checks.js";

export * from "./evaluator-checks.js";
export * from "./evaluator-definition-checks.js";
export {
  deepFreeze as deepFreezeEvaluatorFixture,
  evaluatorFixtures,
  makeHost,
  makePeer,
  PEER_STATES,
  UNSERVABLE_STATES,
  type EvaluatorFixtures,
  type PeerOverrides,
} from "./evaluator-fixtures.js";

/**
 * Registers the tests every evaluator must pass. The contract:
 * - it has a non-empty string `name` and `score`, `isBadParent` or both;
 * - `score` returns a finite number in [0, 1] for every fixture pair (any host type,
 *   IDC, location, load including unknown or overflowing values, totalPieceCount 0), and
 *   the same number for the same inputs;
 * - `isBadParent` returns a boolean, the same one for the same parent, and `true` for a
 *   parent that is pending, failed or has left (it cannot serve; an evaluator that filters
 *   at all must say so);
 * - neither throws on the fixtures nor mutates its inputs;
 * - 10,000 calls of each take well under the 2 s the suite allows.
 *
 * Call it from the plugin's test file: `describeEvaluatorCompliance("mine", () => create())`.
 */
export function describeEvaluatorCompliance(name: string, setup: () => Evaluator | Promise<Evaluator>): void {
  describe(`evaluator compliance: ${name}`, () => {
    let evaluator: Evaluator;
    beforeAll(async () => {
      evaluator = await setup();
    });

    it("has a name and scores, filters or both", () => checkEvaluatorShape(evaluator));
    it("scores every fixture pair with a finite number in [0, 1]", () => checkScoresInRange(evaluator));
    it("scores the same inputs the same way", () => checkScoreDeterministic(evaluator));
    it("judges parents with a deterministic boolean", () => checkBadParentContract(evaluator));
    it("calls a pending, failed or left parent bad when it filters", () => checkUnservableParentsAreBad(evaluator));
    it("never throws on the fixtures, frozen as they are", () => checkEvaluatorNeverThrows(evaluator));
    it("does not mutate parents, children or contexts", () => checkEvaluatorDoesNotMutate(evaluator));
    it("scores and judges 10,000 times in under 2 s", () => checkEvaluatorFastEnough(evaluator));
  });
}

export interface EvaluatorDefinitionComplianceOptions {
  /** Options the plugin must reject, e.g. `{ k: -1 }`. */
  invalidOptions: Record<string, unknown>;
  /** The field `invalidOptions` gets wrong (dotted for nesting); the error must name it. */
  invalidField?: string;
  /** Options that must be accepted besides the defaults. */
  validOptions?: Record<string, unknown>;
}

/**
 * Registers the tests a plugin package's default export must pass: it is a definition of
 * kind evaluator; `resolvePlugin` makes a working instance from it with default options
 * (and `validOptions`); and rejects `invalidOptions` with an error naming the field.
 */
export function describeEvaluatorDefinitionCompliance(
  definition: unknown,
  options: EvaluatorDefinitionComplianceOptions,
): void {
  const name = String((definition as { name?: unknown } | undefined)?.name);
  describe(`evaluator definition compliance: ${name}`, () => {
    it("is a definePlugin definition of kind evaluator", () => checkIsEvaluatorDefinition(definition));
    it("resolves with default options", () => checkEvaluatorResolvesWithDefaults(definition));
    it("resolves with valid options", async () => {
      await checkEvaluatorResolvesWithOptions(definition, options.validOptions ?? {});
    });
    it("rejects invalid options, naming the field", async () => {
      expect(Object.keys(options.invalidOptions).length, "invalidOptions must not be empty").toBeGreaterThan(0);
      await checkEvaluatorRejectsInvalidOptions(definition, options.invalidOptions, options.invalidField);
    });
  });
}
