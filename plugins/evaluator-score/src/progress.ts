import { unitInterval } from "./unit-interval.js";

/**
 * How far along the parent is, in [0, 1].
 *
 * - Total known (> 0): `parentFinished / total`, as upstream.
 * - Total unknown (0, content length not yet known): upstream uses the raw difference
 *   `parentFinished − childFinished`, which is unbounded and would swamp every other
 *   feature. Here the parent's lead over the child is scaled by the parent's own count:
 *   `max(0, parentFinished − childFinished) / (parentFinished + 1)`. For one child
 *   this still grows with the parent's count (it is what the candidates are compared
 *   by), is 0 when the parent has nothing the child lacks, and stays below 1.
 */
export function finishedPieceScore(parentFinished: number, childFinished: number, totalPieceCount: number): number {
  if (totalPieceCount > 0) return unitInterval(parentFinished / totalPieceCount);
  const lead = parentFinished - childFinished;
  if (!(lead > 0)) return 0;
  return unitInterval(lead / (parentFinished + 1));
}
