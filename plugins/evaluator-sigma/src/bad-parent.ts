import type { PeerState, PeerView } from "@df/interface";
import { judgePieceCosts, type CostRule, type CostVerdict } from "./piece-costs.js";

/**
 * The states in which a peer can serve pieces (§4.4): downloading from parents, from the
 * origin, or done. Any other state (pending, merely registered, failed, left) is bad
 * whatever its history says.
 */
export const SERVING_STATES: ReadonlySet<PeerState> = new Set(["running", "back-to-source", "succeeded"]);

export type ParentVerdict = { readonly bad: true; readonly rule: "state"; readonly state: PeerState } | CostVerdict;

export function judgeParent(parent: PeerView, rule: CostRule): ParentVerdict {
  if (!SERVING_STATES.has(parent.state)) return { bad: true, rule: "state", state: parent.state };
  return judgePieceCosts(parent.pieceCosts, rule);
}
