/**
 * The Standard Schema interface (standardschema.dev), implemented by zod 4, valibot and
 * arktype. Plugins declare their options with it, so a plugin author is free to pick
 * a validator and df does not force its own zod version on them.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** Joins an issue path onto a dotted config key: `scheduler.evaluator.options.k`. */
export function issueKey(base: string, issue: StandardIssue): string {
  const parts = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p));
  return [base, ...parts].filter((p) => p !== "").join(".");
}
