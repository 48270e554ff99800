/**
 * @packageDocumentation
 * The `sigma` evaluator: the scheduler's bad-node filter (reference §4.4). It never
 * scores; it tells the scheduler which candidate parents not to hand out. A parent is
 * bad when it cannot serve, or when, still downloading, its newest piece took far
 * longer than its own history says it should.
 *
 * ```text
 * state not running / back-to-source / succeeded        → bad
 * succeeded                                             → not bad (its costs are frozen; see judgeParent)
 * costs = newest `window` piece costs (ms), minus NaN, ±Infinity and negatives
 * fewer than `minSamples` costs                         → not bad
 * last = newest cost; mean, σ over the earlier ones (Welford, population σ)
 * earlier < normalDistributionSamples: bad iff last > fewSamplesMultiplier · max(mean, resolutionMs)
 * otherwise:                           bad iff last > mean + k · max(σ, resolutionMs)
 * ```
 * The `resolutionMs` floors keep a flat or all-zero history (a coarse clock) from
 * turning one tick of jitter into an outlier. Unlike upstream (3σ, 30 costs including
 * the newest), the bar is 6σ, the σ rule waits for 30 costs before the newest, and a
 * finished parent is not judged by the costs of its finished download.
 *
 * Options (all optional): `k` 6 (> 0), `minSamples` 2 (integer ≥ 2, ≤ window),
 * `normalDistributionSamples` 30 (integer ≥ 2, < window), `fewSamplesMultiplier` 20
 * (≥ 1), `window` 2000 (integer ≥ 2), `resolutionMs` 1 (> 0).
 *
 * ```yaml
 * # scheduler config
 * scheduling:
 *   evaluators:
 *     - [sigma, { k: 3 }]
 *     - score
 * ```
 */
import { definePlugin } from "@df/interface";
import { createSigmaEvaluator } from "./evaluator.js";
import { sigmaOptionsSchema } from "./options.js";

export { judgeParent, SERVING_STATES, type ParentVerdict } from "./bad-parent.js";
export { createSigmaEvaluator, type SigmaEvaluator } from "./evaluator.js";
export { parseSigmaOptions, sigmaOptionsSchema, type SigmaOptions, type SigmaOptionsInput } from "./options.js";
export { judgePieceCosts, type CostRule, type CostVerdict } from "./piece-costs.js";
export { RunningStats } from "./welford.js";

export default definePlugin({
  kind: "evaluator",
  name: "sigma",
  options: sigmaOptionsSchema,
  create: (options) => createSigmaEvaluator(options),
});
