import type { PeerState, PeerView } from "@df/interface";

/**
 * States in which a seed peer is still fetching the task: registered, downloading, or
 * fetching from the origin. §4.3 lists only received-normal and running, but a
 * triggered seed fetches in back-to-source (upstream and here alike), so the literal
 * list would give 0 to exactly the seed it means to favour; back-to-source is added.
 */
const FETCHING: ReadonlySet<PeerState> = new Set(["received-normal", "running", "back-to-source"]);

/**
 * Host-type preference (§4.3): a normal host scores 0.5; a seed host scores 1 while its
 * peer is fetching the task (the task is new and the seed is its one real source, so
 * children should follow it) and 0 otherwise (once the seed holds the task, children
 * should spread over normal peers and leave the seed's uplink to tasks only it has).
 */
export function hostTypeScore(parent: Pick<PeerView, "state"> & { readonly host: Pick<PeerView["host"], "type"> }): number {
  if (parent.host.type !== "seed") return 0.5;
  return FETCHING.has(parent.state) ? 1 : 0;
}
