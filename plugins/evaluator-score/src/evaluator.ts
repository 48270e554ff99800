import type { EvaluationContext, Evaluator, PeerView } from "@df/interface";
import { idcAffinity, locationAffinity } from "./affinity.js";
import { hostTypeScore } from "./host-type.js";
import { freeUploadScore } from "./load.js";
import { parseScoreOptions, weightSum, type ScoreOptionsInput, type ScoreWeights } from "./options.js";
import { finishedPieceScore } from "./progress.js";
import { uploadSuccessScore } from "./reliability.js";
import { unitInterval } from "./unit-interval.js";

/** The six features of a parent for one child, each in [0, 1]. */
export type ScoreFeatures = ScoreWeights;

export function scoreFeatures(parent: PeerView, child: PeerView, context: EvaluationContext): ScoreFeatures {
  return {
    finishedPiece: finishedPieceScore(parent.finishedPieceCount, child.finishedPieceCount, context.totalPieceCount),
    uploadSuccess: uploadSuccessScore(parent.host),
    freeUpload: freeUploadScore(parent.host),
    hostType: hostTypeScore(parent),
    idc: idcAffinity(parent.host.idc, child.host.idc),
    location: locationAffinity(parent.host.location, child.host.location),
  };
}

/**
 * The weighted score: `Σ weight·feature / Σ weight`. Each feature is in [0, 1] and the
 * weights are non-negative, so the score is too; the final clamp only guards the last
 * rounding step.
 */
export function createScoreEvaluator(input: ScoreOptionsInput = {}): Evaluator {
  // Copied out of the options, so a caller changing its object later changes nothing.
  const weights: ScoreWeights = { ...parseScoreOptions(input).weights };
  const total = weightSum(weights);
  return {
    name: "score",
    score(parent, child, context) {
      const f = scoreFeatures(parent, child, context);
      const weighted =
        weights.finishedPiece * f.finishedPiece +
        weights.uploadSuccess * f.uploadSuccess +
        weights.freeUpload * f.freeUpload +
        weights.hostType * f.hostType +
        weights.idc * f.idc +
        weights.location * f.location;
      return unitInterval(weighted / total);
    },
  };
}
