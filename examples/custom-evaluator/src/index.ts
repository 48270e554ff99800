/**
 * @packageDocumentation
 * A df evaluator written outside df, as a plugin author would: a package whose default
 * export is `definePlugin({ kind: "evaluator", … })`. It prefers parents in the child's
 * own IDC and refuses parents whose hosts fail too many uploads.
 *
 * Use it from a scheduler config by package name:
 * ```yaml
 * evaluators:
 *   - [ "@df/example-custom-evaluator", { sameIdcBonus: 0.5, maxFailureRatio: 0.2 } ]
 * ```
 */
import { definePlugin, type Evaluator, type PeerView } from "@df/interface";
import { z } from "zod";

const options = z.strictObject({
  /** Added to the score of a parent in the child's IDC. */
  sameIdcBonus: z.number().min(0).max(1).default(0.5),
  /** A parent whose host failed more than this share of its uploads is bad. */
  maxFailureRatio: z.number().min(0).max(1).default(0.2),
  /** Uploads a host must have made before its failure ratio is trusted. */
  minUploads: z.number().int().min(1).default(10),
});

export type SameIdcOptions = z.output<typeof options>;

export function createSameIdcEvaluator(settings: SameIdcOptions): Evaluator {
  const failureRatio = (parent: PeerView): number =>
    parent.host.uploadCount === 0 ? 0 : parent.host.uploadFailedCount / parent.host.uploadCount;
  return {
    name: "same-idc",
    score(parent, child, context) {
      const progress = context.totalPieceCount > 0 ? parent.finishedPieceCount / context.totalPieceCount : 0;
      const sameIdc = parent.host.idc !== undefined && parent.host.idc === child.host.idc;
      return Math.min(1, (1 - settings.sameIdcBonus) * progress + (sameIdc ? settings.sameIdcBonus : 0));
    },
    isBadParent(parent) {
      return parent.host.uploadCount >= settings.minUploads && failureRatio(parent) > settings.maxFailureRatio;
    },
  };
}

export default definePlugin({
  kind: "evaluator",
  name: "same-idc",
  options,
  create: (settings) => createSameIdcEvaluator(settings),
});
