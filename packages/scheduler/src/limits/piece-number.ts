import { DfError } from "@df/interface";
import type { SchedulerLimits } from "../config.js";
import type { Peer } from "../resource/peer.js";

/** A reported piece must exist: each one is kept in the peer's finished set. */
export function checkPieceNumber(number: number, peer: Peer | undefined, limits: SchedulerLimits): void {
  const known = peer?.task.contentLength !== undefined ? peer.task.totalPieceCount : undefined;
  const bound = known ?? limits.maxPieceCount;
  if (Number.isInteger(number) && number >= 0 && number < bound) return;
  throw new DfError("INVALID_ARGUMENT", `piece ${number} does not exist: the task has ${known !== undefined ? `${known} pieces` : `at most ${bound} pieces (limits.maxPieceCount)`}`, {
    reason: "piece-out-of-range",
    details: { pieceNumber: number, pieceCount: bound },
  });
}
