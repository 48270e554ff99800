import type { PeerState, PeerView } from "@df/interface";
import { judgePieceCosts, type CostRule, type CostVerdict } from "./piece-costs.js";

/**
 * The states in which a peer can serve pieces (§4.4): downloading from parents, from the
 * origin, or done. Any other state (pending, merely registered, failed, left) is bad
 * whatever its history says.
 */
export const SERVING_STATES: ReadonlySet<PeerState> = new Set(["running", "back-to-source", "succeeded"]);

export type ParentVerdict =
  | { readonly bad: true; readonly rule: "state"; readonly state: PeerState }
  | { readonly bad: false; readonly rule: "finished" }
  | CostVerdict;

/**
 * A parent still downloading is judged by its newest piece cost against its history:
 * a sudden slow piece says it is struggling now. A finished parent is not: its costs
 * are those of a download that is over, frozen, and say nothing about how it serves
 * now. Judging them (as upstream does) turns one slow last piece, a disk flush say,
 * into a verdict for the rest of the task, and when that parent holds the only
 * complete copy (a seed), every child goes back to the origin. A finished parent that
 * serves badly is caught where it shows: the child blocks it after a failed piece, and
 * the score evaluator weighs its upload success rate.
 */
export function judgeParent(parent: PeerView, rule: CostRule): ParentVerdict {
  if (!SERVING_STATES.has(parent.state)) return { bad: true, rule: "state", state: parent.state };
  if (parent.state === "succeeded") return { bad: false, rule: "finished" };
  return judgePieceCosts(parent.pieceCosts, rule);
}
