import { errorMessage, missingMembers, type EvaluationContext, type Evaluator, type PeerView } from "@df/interface";
import { expect } from "vitest";
import { evaluatorFixtures, makePeer, UNSERVABLE_STATES, type EvaluatorFixtures } from "./evaluator-fixtures.js";

// Each check throws (a vitest assertion error) on the first violation and names the
// fixture that caused it; the suite wraps them in tests, and the suite's own tests call
// them on deliberately broken evaluators to prove they can fail.

// Loops check thousands of results: a plain condition per result, an assertion only on failure.
function ensure(condition: boolean, message: string): void {
  if (!condition) expect.fail(message);
}

const describePair = (parent: PeerView, child: PeerView, context: EvaluationContext) =>
  `score(${parent.id} [${parent.host.type}, ${parent.state}], ${child.id}, totalPieceCount=${context.totalPieceCount})`;

function forEachPair(
  fixtures: EvaluatorFixtures,
  visit: (parent: PeerView, child: PeerView, context: EvaluationContext) => void,
): void {
  for (const context of fixtures.contexts) {
    for (const child of fixtures.children) {
      for (const parent of fixtures.parents) visit(parent, child, context);
    }
  }
}

export function checkEvaluatorShape(evaluator: Evaluator): void {
  expect(typeof evaluator.name, "evaluator.name").toBe("string");
  expect(evaluator.name.length, "evaluator.name must not be empty").toBeGreaterThan(0);
  expect(missingMembers("evaluator", evaluator), "members an evaluator lacks").toEqual([]);
  for (const method of ["score", "isBadParent"] as const) {
    const value = evaluator[method];
    expect(value === undefined || typeof value === "function", `evaluator.${method} is a function or absent`).toBe(true);
  }
}

export function checkScoresInRange(evaluator: Evaluator, fixtures = evaluatorFixtures()): void {
  if (!evaluator.score) return;
  forEachPair(fixtures, (parent, child, context) => {
    const score = evaluator.score!(parent, child, context);
    ensure(
      typeof score === "number" && Number.isFinite(score) && score >= 0 && score <= 1,
      `${describePair(parent, child, context)} = ${String(score)}, not a finite number within [0, 1]`,
    );
  });
}

export function checkScoreDeterministic(evaluator: Evaluator, fixtures = evaluatorFixtures()): void {
  if (!evaluator.score) return;
  const { parents, children, contexts } = fixtures;
  const at = (c: number, k: number, p: number) => (c * children.length + k) * parents.length + p;
  const first: number[] = [];
  for (const [c, context] of contexts.entries()) {
    for (const [k, child] of children.entries()) {
      for (const [p, parent] of parents.entries()) first[at(c, k, p)] = evaluator.score(parent, child, context);
    }
  }
  // The second pass runs in reverse order: hidden state (caches, counters) shows up as a change.
  for (let c = contexts.length - 1; c >= 0; c--) {
    for (let k = children.length - 1; k >= 0; k--) {
      for (let p = parents.length - 1; p >= 0; p--) {
        const [parent, child, context] = [parents[p]!, children[k]!, contexts[c]!];
        const again = evaluator.score(parent, child, context);
        const before = first[at(c, k, p)];
        ensure(Object.is(again, before), `${describePair(parent, child, context)} gave ${before} then ${again}`);
      }
    }
  }
}

export function checkBadParentContract(evaluator: Evaluator, fixtures = evaluatorFixtures()): void {
  if (!evaluator.isBadParent) {
    expect(typeof evaluator.score, "an evaluator without isBadParent must score").toBe("function");
    return;
  }
  const first = fixtures.parents.map((parent) => evaluator.isBadParent!(parent));
  for (const [index, parent] of [...fixtures.parents.entries()].reverse()) {
    const label = `isBadParent(${parent.id} [${parent.state}, ${parent.pieceCosts.length} costs])`;
    ensure(typeof first[index] === "boolean", `${label} returned ${String(first[index])}, not a boolean`);
    const again = evaluator.isBadParent(parent);
    ensure(again === first[index], `${label} gave ${String(first[index])} then ${String(again)}`);
  }
}

/**
 * The filtering contract: a parent that is pending, failed or has left cannot serve, so an
 * evaluator that filters at all must call it bad, whatever its history looks like.
 */
export function checkUnservableParentsAreBad(evaluator: Evaluator, fixtures = evaluatorFixtures()): void {
  if (!evaluator.isBadParent) return;
  const unservable = fixtures.parents.filter((parent) => UNSERVABLE_STATES.includes(parent.state));
  expect(unservable.length, "fixtures hold unservable parents").toBeGreaterThan(0);
  for (const parent of unservable) {
    const verdict = evaluator.isBadParent(parent);
    ensure(verdict === true, `isBadParent(${parent.id} [${parent.state}]) = ${String(verdict)}; an unservable parent must be bad`);
  }
}

/** Calls everything the evaluator has on every fixture; reports the first one that throws. */
export function checkEvaluatorNeverThrows(evaluator: Evaluator, fixtures = evaluatorFixtures()): void {
  const attempt = (label: string, call: () => unknown) => {
    try {
      call();
    } catch (error) {
      expect.fail(`${label} threw: ${errorMessage(error)}`);
    }
  };
  forEachPair(fixtures, (parent, child, context) => {
    if (evaluator.score) attempt(describePair(parent, child, context), () => evaluator.score!(parent, child, context));
  });
  for (const parent of fixtures.parents) {
    if (evaluator.isBadParent) attempt(`isBadParent(${parent.id})`, () => evaluator.isBadParent!(parent));
  }
}

/**
 * Runs the evaluator on writable fixtures and compares them with a fresh copy: a write
 * that a frozen fixture would have turned into a throw (or, in sloppy-mode code, silently
 * ignored) shows up here as a difference.
 */
export function checkEvaluatorDoesNotMutate(evaluator: Evaluator): void {
  const used = evaluatorFixtures({ freeze: false });
  forEachPair(used, (parent, child, context) => evaluator.score?.(parent, child, context));
  for (const parent of used.parents) evaluator.isBadParent?.(parent);
  const pristine = evaluatorFixtures({ freeze: false });
  for (const [index, parent] of used.parents.entries()) {
    expect(parent, `parent ${parent.id} after evaluation`).toStrictEqual(pristine.parents[index]);
  }
  for (const [index, child] of used.children.entries()) {
    expect(child, `child ${child.id} after evaluation`).toStrictEqual(pristine.children[index]);
  }
  expect(used.contexts, "contexts after evaluation").toStrictEqual(pristine.contexts);
}

export interface EvaluatorSpeedBudget {
  /** Parent/child pairs to score, and parents to judge. */
  calls: number;
  /** Wall-clock budget for each of the two loops; generous, to stay clear of CI noise. */
  budgetMs: number;
}

/**
 * Scoring and filtering run for every sampled candidate of every scheduling round, so
 * each must be cheap. Parents carry a full 2000-cost history: the realistic worst case.
 */
export function checkEvaluatorFastEnough(evaluator: Evaluator, budget: EvaluatorSpeedBudget = { calls: 10_000, budgetMs: 2_000 }): void {
  const history = Array.from({ length: 2000 }, (_, i) => 30 + (i % 7));
  const parents = Array.from({ length: 64 }, (_, i) =>
    makePeer({ id: `fast-${i}`, finishedPieceCount: i, pieceCosts: history, host: { id: `fast-host-${i}`, idc: `idc-${i % 3}`, location: `cn|zj|${i % 4}` } }),
  );
  const child = makePeer({ id: "fast-child", host: { id: "fast-child-host", idc: "idc-0", location: "cn|zj|0" } });
  const context = { totalPieceCount: 100 };
  if (evaluator.score) {
    const started = performance.now();
    for (let i = 0; i < budget.calls; i++) evaluator.score(parents[i % parents.length]!, child, context);
    const elapsed = performance.now() - started;
    expect(elapsed, `${budget.calls} scores took ${elapsed.toFixed(0)} ms`).toBeLessThan(budget.budgetMs);
  }
  if (evaluator.isBadParent) {
    const started = performance.now();
    for (let i = 0; i < budget.calls; i++) evaluator.isBadParent(parents[i % parents.length]!);
    const elapsed = performance.now() - started;
    expect(elapsed, `${budget.calls} isBadParent calls took ${elapsed.toFixed(0)} ms`).toBeLessThan(budget.budgetMs);
  }
}
