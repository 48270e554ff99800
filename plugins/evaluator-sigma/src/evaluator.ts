import type { Evaluator, PeerView } from "@df/interface";
import { judgeParent, type ParentVerdict } from "./bad-parent.js";
import { parseSigmaOptions, type SigmaOptionsInput } from "./options.js";

export interface SigmaEvaluator extends Evaluator {
  isBadParent(parent: PeerView): boolean;
  /** The verdict with its rule and numbers, for logs and debugging. */
  judge(parent: PeerView): ParentVerdict;
}

/** The bad-node filter: it only filters, and leaves ranking to a scoring evaluator. */
export function createSigmaEvaluator(input: SigmaOptionsInput = {}): SigmaEvaluator {
  // Copied out of the options, so a caller changing its object later changes nothing.
  const rule = { ...parseSigmaOptions(input) };
  return {
    name: "sigma",
    isBadParent: (parent) => judgeParent(parent, rule).bad,
    judge: (parent) => judgeParent(parent, rule),
  };
}
