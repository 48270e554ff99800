/**
 * @packageDocumentation
 * The `score` evaluator: ranks a child's candidate parents by a weighted score in
 * [0, 1], after the classic Dragonfly evaluator (reference §4.3) with the current
 * upstream load signal folded in. It only scores; pair it with `sigma` to filter.
 *
 * ```text
 * score = Σ wᵢ·fᵢ / Σ wᵢ                                   (each fᵢ in [0, 1])
 *
 * finishedPiece  total > 0: parentFinished / total
 *                total = 0: max(0, parentFinished − childFinished) / (parentFinished + 1)
 * uploadSuccess  1 if the host never uploaded; 0 if failed > uploads;
 *                else (uploads − failed) / uploads
 * freeUpload     min of the shares that are known, 0 if neither is:
 *                bandwidth  1 − txBandwidth / maxTxBandwidth      (maxTxBandwidth > 0)
 *                slots      1 − concurrentUploadCount / concurrentUploadLimit  (limit > 0)
 * hostType       normal host 0.5; seed host 1 while its peer is received-normal,
 *                running or back-to-source (fetching a new task), else 0
 * idc            1 if both IDCs are non-empty and equal, case-insensitive; else 0
 * location       1 if equal (case-insensitive); else the count of equal leading
 *                `|`-separated elements, over at most 5, divided by 5; 0 if either is empty
 * ```
 * Every feature is clamped to [0, 1] (NaN → 0), so inconsistent counters never produce
 * a score that wins the sort.
 *
 * Options (all optional; weights are relative, non-negative, with a positive sum):
 * `weights.finishedPiece` 0.2, `weights.uploadSuccess` 0.2, `weights.freeUpload` 0.15,
 * `weights.hostType` 0.15, `weights.idc` 0.15, `weights.location` 0.15.
 *
 * ```yaml
 * # scheduler config
 * scheduling:
 *   evaluators:
 *     - sigma
 *     - [score, { weights: { idc: 0.3, location: 0.3 } }]
 * ```
 */
import { definePlugin } from "@df/interface";
import { createScoreEvaluator } from "./evaluator.js";
import { scoreOptionsSchema } from "./options.js";

export { idcAffinity, locationAffinity, MAX_LOCATION_ELEMENTS } from "./affinity.js";
export { createScoreEvaluator, scoreFeatures, type ScoreFeatures } from "./evaluator.js";
export { hostTypeScore } from "./host-type.js";
export { freeBandwidthShare, freeSlotShare, freeUploadScore, type LoadView } from "./load.js";
export {
  DEFAULT_WEIGHTS,
  parseScoreOptions,
  scoreOptionsSchema,
  weightSum,
  type ScoreOptions,
  type ScoreOptionsInput,
  type ScoreWeights,
} from "./options.js";
export { finishedPieceScore } from "./progress.js";
export { uploadSuccessScore } from "./reliability.js";

export default definePlugin({
  kind: "evaluator",
  name: "score",
  options: scoreOptionsSchema,
  create: (options) => createScoreEvaluator(options),
});
