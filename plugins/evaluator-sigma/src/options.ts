import { DfError } from "@df/interface";
import { z } from "zod";

/**
 * Options of the `sigma` evaluator. Defaults follow reference §4.4 except `k`: the
 * design asks for 6σ (upstream uses 3), a bar a healthy parent's jitter does not reach.
 */
export const sigmaOptionsSchema = z
  .strictObject({
    /** A parent is bad when its newest cost exceeds mean + k·σ of the earlier ones. */
    k: z.number().positive("k must be greater than 0").default(6),
    /** Valid costs (newest included) needed before a parent can be judged at all. */
    minSamples: z.int().min(2, "minSamples must be at least 2: one earlier cost to compare the newest with").default(2),
    /** Earlier costs needed before the σ rule replaces the multiple-of-the-mean rule. */
    normalDistributionSamples: z.int().min(2, "normalDistributionSamples must be at least 2").default(30),
    /** Before that, a parent is bad when its newest cost exceeds this many times the mean. */
    fewSamplesMultiplier: z.number().min(1, "fewSamplesMultiplier must be at least 1").default(20),
    /** Only the newest `window` recorded costs are looked at. */
    window: z.int().min(2, "window must be at least 2").default(2000),
    /**
     * The granularity of the cost measurements (ms): σ and the mean are never taken as
     * smaller than this, so costs equal to the clock's resolution are not outliers.
     */
    resolutionMs: z.number().positive("resolutionMs must be greater than 0").default(1),
  })
  .refine((o) => o.minSamples <= o.window, {
    path: ["minSamples"],
    message: "minSamples must not exceed window: no parent could ever be judged",
  })
  .refine((o) => o.normalDistributionSamples < o.window, {
    path: ["normalDistributionSamples"],
    message: "normalDistributionSamples must be less than window: a window holds at most window − 1 earlier costs, so the σ rule could never apply",
  });

export type SigmaOptions = z.output<typeof sigmaOptionsSchema>;
export type SigmaOptionsInput = z.input<typeof sigmaOptionsSchema>;

/** Validates options given from code (config goes through the plugin resolver instead). */
export function parseSigmaOptions(input: SigmaOptionsInput = {}): SigmaOptions {
  const result = sigmaOptionsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${["options", ...issue.path].join(".")}: ${issue.message}`);
    throw new DfError("INVALID_ARGUMENT", `invalid sigma evaluator options: ${problems.join("; ")}`, {
      reason: "invalid-plugin-options",
      details: { issues: problems },
    });
  }
  return result.data;
}
