/** Peer states as the scheduler tracks them (reference §4.5). */
export type PeerState =
  | "pending"
  | "received-empty"
  | "received-tiny"
  | "received-small"
  | "received-normal"
  | "running"
  | "back-to-source"
  | "succeeded"
  | "failed"
  | "left";

/** What an evaluator may read of a host. Bandwidths are bits per second. */
export interface HostView {
  readonly id: string;
  readonly type: "normal" | "seed";
  readonly idc?: string;
  /** `country|province|city|zone|cluster`-style, compared by leading elements. */
  readonly location?: string;
  readonly maxTxBandwidth: number;
  readonly txBandwidth: number;
  readonly concurrentUploadLimit: number;
  readonly concurrentUploadCount: number;
  readonly concurrentUploadPieceCount: number;
  readonly uploadCount: number;
  readonly uploadFailedCount: number;
  /** Bytes of content this host was asked to serve recently. */
  readonly uploadContentLength: number;
}

/** What an evaluator may read of a peer (a host's copy of one task). */
export interface PeerView {
  readonly id: string;
  readonly state: PeerState;
  readonly host: HostView;
  readonly finishedPieceCount: number;
  /** Costs (ms) of this peer's recent piece downloads, oldest first. */
  readonly pieceCosts: readonly number[];
}

export interface EvaluationContext {
  /** Pieces of the task, when known (0 when the length is not known yet). */
  readonly totalPieceCount: number;
}

/**
 * Scores and filters candidate parents for a child. An evaluator may do either or both:
 * the scheduler first drops parents any configured evaluator calls bad, then sorts the
 * rest by the scoring evaluator's score, highest first.
 */
export interface Evaluator {
  readonly name: string;
  /** A score in [0, 1]; higher is a better parent for `child`. */
  score?(parent: PeerView, child: PeerView, context: EvaluationContext): number;
  /** True when `parent` must not be handed out (failed, slow beyond its own history, …). */
  isBadParent?(parent: PeerView): boolean;
}
