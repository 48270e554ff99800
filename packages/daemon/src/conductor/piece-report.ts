import type { DfError } from "@df/interface";
import { common } from "@df/rpc";
import type { PeerEvent } from "../scheduler-link/session.js";
import type { PieceInfo } from "./events.js";

const TRAFFIC: Record<PieceInfo["traffic"], common.TrafficType> = {
  "back-to-source": common.TrafficType.BACK_TO_SOURCE,
  "remote-peer": common.TrafficType.REMOTE_PEER,
  "local-peer": common.TrafficType.LOCAL_PEER,
};

/**
 * What the scheduler is told of a stored piece: a piece from the origin is a
 * back-to-source piece (the scheduler counts those against the task's origin quota),
 * any other a finished piece with the parent that served it.
 */
export function pieceReport(piece: PieceInfo): PeerEvent {
  const reported = common.Piece.create({
    number: piece.number,
    ...(piece.parentId === undefined ? {} : { parentId: piece.parentId }),
    offset: piece.offset,
    length: piece.length,
    digest: piece.digest,
    trafficType: TRAFFIC[piece.traffic],
    costMs: piece.costMs,
    createdAt: piece.createdAt,
  });
  return piece.traffic === "back-to-source"
    ? { $case: "pieceBackToSourceFinished", value: { piece: reported } }
    : { $case: "pieceFinished", value: { piece: reported } };
}

/**
 * Whether a failed piece means the parent served wrong bytes (its digest or length did
 * not match), as opposed to a slow, busy or refusing parent: the scheduler blocks a
 * parent several hosts report so for the whole task.
 */
export function isBadContent(error: DfError, temporary: boolean): boolean {
  return !temporary && error.code === "DATA_LOSS" && (error.reason === "piece-digest-mismatch" || error.reason === "piece-length-mismatch");
}
