import { hasErrorCode, isPluginDefinition, type Evaluator } from "@df/interface";
import { resolvePlugin } from "@df/service-kit";
import { expect } from "vitest";
import { checkEvaluatorShape } from "./evaluator-checks.js";

/** The config key the definition checks resolve under; errors must name it. */
export const EVALUATOR_DEFINITION_KEY = "compliance.evaluator";

export function checkIsEvaluatorDefinition(definition: unknown): void {
  expect(isPluginDefinition(definition), "the default export is a definePlugin(...) definition").toBe(true);
  const { kind, name } = definition as { kind: unknown; name: unknown };
  expect(kind, "definition.kind").toBe("evaluator");
  expect(typeof name === "string" && name.length > 0, "definition.name is a non-empty string").toBe(true);
}

const nameOf = (definition: unknown): string => String((definition as { name?: unknown }).name);

/** Resolves the way a scheduler config would: by built-in name, module-shaped. */
export async function resolveEvaluatorDefinition(definition: unknown, options?: Record<string, unknown>): Promise<Evaluator> {
  const name = nameOf(definition);
  return resolvePlugin(options === undefined ? name : [name, options], {
    kind: "evaluator",
    key: EVALUATOR_DEFINITION_KEY,
    // Shaped like `await import(pkg)`: the resolver must find the default export itself.
    builtins: { [name]: async () => ({ default: definition }) },
  });
}

export async function checkEvaluatorResolvesWithDefaults(definition: unknown): Promise<void> {
  for (const entry of [undefined, {}]) {
    const evaluator = await resolveEvaluatorDefinition(definition, entry);
    checkEvaluatorShape(evaluator);
  }
}

export async function checkEvaluatorResolvesWithOptions(definition: unknown, options: Record<string, unknown>): Promise<void> {
  checkEvaluatorShape(await resolveEvaluatorDefinition(definition, options));
}

/**
 * Invalid options must fail at resolve time, as a DfError INVALID_ARGUMENT naming the
 * options' config key (and the offending field, when given): the operator's only clue.
 */
export async function checkEvaluatorRejectsInvalidOptions(
  definition: unknown,
  invalidOptions: Record<string, unknown>,
  invalidField?: string,
): Promise<void> {
  const outcome = await resolveEvaluatorDefinition(definition, invalidOptions).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome, `options ${JSON.stringify(invalidOptions)} were accepted`).toBeInstanceOf(Error);
  expect(hasErrorCode(outcome, "INVALID_ARGUMENT"), "the error is a DfError INVALID_ARGUMENT").toBe(true);
  // The resolver writes `<key>: <problem>`; the colon keeps `….k` from matching `….kk`.
  const key = invalidField === undefined ? `${EVALUATOR_DEFINITION_KEY}.1` : `${EVALUATOR_DEFINITION_KEY}.1.${invalidField}:`;
  expect((outcome as Error).message, "the error names the config key").toContain(key);
}
