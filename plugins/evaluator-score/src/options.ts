import { DfError } from "@df/interface";
import { z } from "zod";

/** The classic evaluator's weights (§4.3): they add up to 1. */
export const DEFAULT_WEIGHTS = {
  finishedPiece: 0.2,
  uploadSuccess: 0.2,
  freeUpload: 0.15,
  hostType: 0.15,
  idc: 0.15,
  location: 0.15,
} as const;

export type ScoreWeights = { readonly [K in keyof typeof DEFAULT_WEIGHTS]: number };

const weight = (fallback: number) => z.number().min(0, "a weight must be 0 or more").default(fallback);

export function weightSum(weights: ScoreWeights): number {
  return (
    weights.finishedPiece + weights.uploadSuccess + weights.freeUpload + weights.hostType + weights.idc + weights.location
  );
}

const weightsSchema = z
  .strictObject({
    finishedPiece: weight(DEFAULT_WEIGHTS.finishedPiece),
    uploadSuccess: weight(DEFAULT_WEIGHTS.uploadSuccess),
    freeUpload: weight(DEFAULT_WEIGHTS.freeUpload),
    hostType: weight(DEFAULT_WEIGHTS.hostType),
    idc: weight(DEFAULT_WEIGHTS.idc),
    location: weight(DEFAULT_WEIGHTS.location),
  })
  // Scores are divided by the sum: zero would leave every parent unranked, and an
  // overflowing sum would turn every score into NaN.
  .refine((weights) => weightSum(weights) > 0 && Number.isFinite(weightSum(weights)), {
    message: "the weights must add up to a positive, finite number",
  });

/**
 * Options of the `score` evaluator. Weights are relative: any non-negative numbers with
 * a positive sum; each is divided by the sum, so only their ratios matter. Weights left
 * out keep their defaults.
 */
export const scoreOptionsSchema = z.strictObject({
  weights: weightsSchema.prefault({}),
});

export type ScoreOptions = z.output<typeof scoreOptionsSchema>;
export type ScoreOptionsInput = z.input<typeof scoreOptionsSchema>;

/** Validates options given from code (config goes through the plugin resolver instead). */
export function parseScoreOptions(input: ScoreOptionsInput = {}): ScoreOptions {
  const result = scoreOptionsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${["options", ...issue.path].join(".")}: ${issue.message}`);
    throw new DfError("INVALID_ARGUMENT", `invalid score evaluator options: ${problems.join("; ")}`, {
      reason: "invalid-plugin-options",
      details: { issues: problems },
    });
  }
  return result.data;
}
