import type { HostView } from "@df/interface";
import { unitInterval } from "./unit-interval.js";

export type LoadView = Pick<HostView, "maxTxBandwidth" | "txBandwidth" | "concurrentUploadLimit" | "concurrentUploadCount">;

/** `1 − txBandwidth / maxTxBandwidth` (the current upstream "peak bandwidth" term); undefined when the capacity is unknown (0). */
export function freeBandwidthShare(host: LoadView): number | undefined {
  if (!(host.maxTxBandwidth > 0)) return undefined;
  return unitInterval((host.maxTxBandwidth - host.txBandwidth) / host.maxTxBandwidth);
}

/** `(limit − count) / limit` (the classic free-upload term); undefined when the host states no limit (0). */
export function freeSlotShare(host: LoadView): number | undefined {
  if (!(host.concurrentUploadLimit > 0)) return undefined;
  return unitInterval((host.concurrentUploadLimit - host.concurrentUploadCount) / host.concurrentUploadLimit);
}

/**
 * How much upload capacity the parent host has left, in [0, 1].
 *
 * - Both capacities known: the smaller share. A host with idle bandwidth but every
 *   upload slot taken cannot serve one more child, nor can one whose slots are free
 *   but whose uplink is full; the scarcer resource is the one that limits it (the old
 *   hard slot filter, §4.2 step 4, folded into the score).
 * - One known: that share. Bandwidth is the better signal (it reflects what children
 *   actually pull) but hosts that do not announce a capacity still state a slot limit.
 * - Neither known: 0, as upstream does when `max_tx_bandwidth` is 0: a host that says
 *   nothing about its capacity ranks below one that reports room to spare.
 */
export function freeUploadScore(host: LoadView): number {
  const bandwidth = freeBandwidthShare(host);
  const slots = freeSlotShare(host);
  if (bandwidth !== undefined && slots !== undefined) return Math.min(bandwidth, slots);
  return bandwidth ?? slots ?? 0;
}
