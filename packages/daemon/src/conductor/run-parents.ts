import { toDfError, type DfError, type Logger } from "@df/interface";
import type { ParentRef, PieceDownloadOutcome } from "../transfer/types.js";
import { learnMetadata } from "./parent-metadata.js";
import { isBadContent } from "./piece-report.js";
import type { RunContext, RunPhase } from "./phase.js";

export type ParentRoundResult =
  | { kind: "done" }
  | { kind: "exhausted"; failedParents: string[]; reason: string; stalled: boolean };

/** Errors of this host itself (disk full, store closed, task deleted): no parent can fix them. */
function isLocalFailure(error: DfError): boolean {
  return (
    error.code === "RESOURCE_EXHAUSTED" ||
    error.reason === "storage-closed" ||
    error.reason === "task-deleted" ||
    error.reason === "task-conflict"
  );
}

/**
 * One scheduling round from parents: learn the task's size from them if this host does
 * not know it, then let the piece downloader fill the wanted pieces, watching for
 * stalls. Ends `done` once the run is satisfied, else `exhausted` with the parents to
 * blocklist in the reschedule.
 */
export async function downloadFromParents(
  run: RunPhase,
  ctx: RunContext,
  parents: readonly ParentRef[],
  logger: Logger,
): Promise<ParentRoundResult> {
  const all = parents.map((parent) => parent.peerId);
  const { stallTimeout } = ctx.config.download;
  if (!run.task) {
    const metadata = await learnMetadata(ctx.pool, run.taskId, parents, { timeoutMs: stallTimeout, signal: run.signal, logger });
    if (!metadata) {
      return { kind: "exhausted", failedParents: all, reason: `no parent could tell the size of the task within ${stallTimeout} ms`, stalled: true };
    }
    await run.createTask(metadata.contentLength, metadata.pieceLength);
  }
  const task = run.task!;
  run.report({ $case: "downloadStarted", value: {} });
  const moreParents = run.session ? (current: readonly string[]) => run.session!.moreParents(current) : undefined;
  for (;;) {
    if (run.closeIfSatisfied()) return { kind: "done" };
    const before = task.finishedBytes;
    let outcome: PieceDownloadOutcome;
    try {
      const pieces = run.wantedSubset();
      outcome = await ctx.downloader.download({
        task,
        hostId: ctx.host.id,
        peerId: run.peerId,
        parents,
        signal: run.signal,
        ...(pieces ? { pieces } : {}),
        ...(moreParents ? { moreParents } : {}),
        events: {
          pieceFinished(piece) {
            run.pieceStored({
              number: piece.number,
              offset: piece.offset,
              length: piece.length,
              digest: piece.digest,
              traffic: "remote-peer",
              parentId: piece.parentId,
              costMs: piece.costMs,
              createdAt: new Date(),
            });
          },
          pieceFailed(number, parentId, error, temporary) {
            ctx.metrics.pieceFailed();
            logger.debug("piece from parent failed", { piece: number, parentId, temporary, error: error.message });
            run.report({ $case: "pieceFailed", value: { pieceNumber: number, parentId, temporary, description: error.message, badContent: isBadContent(error, temporary) } });
          },
        },
      });
    } catch (error) {
      if (run.signal.aborted) throw error;
      const cause = toDfError(error);
      if (isLocalFailure(cause)) throw cause;
      logger.warn("piece download from parents failed", { code: cause.code, error: cause.message });
      return { kind: "exhausted", failedParents: all, reason: `downloading from parents failed: ${cause.message}`, stalled: false };
    }
    if (outcome.kind === "parents-exhausted") {
      const failedParents = outcome.failedParents.length > 0 ? outcome.failedParents : all;
      if (outcome.stalled) {
        const reason = outcome.silent
          ? "every parent holding a missing piece went silent (no byte within its idle window)"
          : `no byte arrived from the parents for ${stallTimeout} ms`;
        return { kind: "exhausted", failedParents, reason, stalled: true };
      }
      return {
        kind: "exhausted",
        failedParents,
        reason: `${outcome.missing} piece(s) missing and no given parent can provide them`,
        stalled: false,
      };
    }
    // `complete` but something is still wanted: a client widened the target meanwhile
    // (go again), or the downloader stored nothing (do not spin).
    if (task.finishedBytes === before && !run.satisfied()) {
      return { kind: "exhausted", failedParents: all, reason: "the parents made no progress", stalled: false };
    }
  }
}
