import { DfError } from "@df/interface";
import type { SchedulerConfig } from "../config.js";
import { limitRefusal } from "./refusal.js";

/**
 * Checks a task's size as a caller states it (AnnounceTask, a finished download) and
 * answers its piece count. The scheduler books every piece of a holder, so the count is
 * capped and must agree with the length: a caller cannot claim millions of pieces of a
 * small file.
 */
export function checkedPieceCount(
  content: { contentLength: number; pieceLength?: number; pieceCount?: number },
  limits: SchedulerConfig["limits"],
  what: string,
): number {
  const { contentLength, pieceLength = 0, pieceCount = 0 } = content;
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new DfError("INVALID_ARGUMENT", `${what}: content length ${contentLength} is not a byte count`, { reason: "bad-content-length" });
  }
  if (contentLength > limits.maxTaskSize) {
    throw limitRefusal(
      "RESOURCE_EXHAUSTED",
      "maxTaskSize",
      `${what}: the task has ${contentLength} bytes, more than this scheduler takes (limits.maxTaskSize = ${limits.maxTaskSize}); raise limits.maxTaskSize on the scheduler`,
      { contentLength, max: limits.maxTaskSize },
    );
  }
  const derived = pieceLength > 0 ? Math.ceil(contentLength / pieceLength) : undefined;
  if (derived !== undefined && pieceCount > 0 && pieceCount !== derived) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `${what}: ${pieceCount} pieces do not make ${contentLength} bytes in pieces of ${pieceLength} (that is ${derived})`,
      { reason: "piece-count-mismatch", details: { contentLength, pieceLength, pieceCount } },
    );
  }
  const count = derived ?? pieceCount;
  if (count > limits.maxPieceCount) {
    throw limitRefusal(
      "RESOURCE_EXHAUSTED",
      "maxPieceCount",
      `${what}: the task has ${count} pieces, more than this scheduler takes (limits.maxPieceCount = ${limits.maxPieceCount}); use longer pieces, or raise limits.maxPieceCount on the scheduler`,
      { pieceCount: count, max: limits.maxPieceCount },
    );
  }
  return count;
}
