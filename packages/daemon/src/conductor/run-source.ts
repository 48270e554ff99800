import path from "node:path";
import { DfError, type Logger, type SourceStat } from "@df/interface";
import { pieceLengthFor } from "@df/piece";
import { fetchPiecesFromSource, type SourcePiece } from "../source/fetch-pieces.js";
import { spoolFromSource, storeSpooled } from "../source/spool.js";
import type { RunContext, RunPhase } from "./phase.js";

/**
 * Back-to-source: asks the origin for the length and range support, creates the stored
 * task if this host has none, then fetches the wanted pieces that are missing (ranged
 * requests in parallel, or one streamed GET) until the run is satisfied ("done"), or,
 * with `maxPieces`, until that many have landed ("paused": the caller may ask the swarm
 * again before going on). Every piece is reported to the scheduler as it lands, so
 * children can fetch it from here at once.
 */
export async function downloadFromSource(
  run: RunPhase,
  ctx: RunContext,
  logger: Logger,
  options: { maxPieces?: number } = {},
): Promise<"done" | "paused"> {
  const client = ctx.sources.forUrl(run.identity.url);
  const request = { url: run.identity.url, header: { ...run.download.requestHeader } };
  const signal = run.signal;
  const stat = await client.stat(request, { signal });

  const onPiece = (piece: SourcePiece): void => {
    run.pieceStored({
      number: piece.number,
      offset: piece.offset,
      length: piece.length,
      digest: piece.digest,
      traffic: "back-to-source",
      costMs: piece.costMs,
      createdAt: new Date(piece.finishedAt),
    });
  };

  const existing = run.task;
  if (existing && changedSince(existing.contentLength, existing.info.responseHeader, stat)) {
    // The origin changed under a partly stored task: its pieces cannot be mixed with new
    // bytes. Drop it so the next attempt starts over.
    await ctx.storage.deleteTask(run.taskId, { defer: true }).catch(() => {});
    throw new DfError(
      "ABORTED",
      `the origin's content of task ${run.taskId} changed since part of it was stored (${existing.contentLength} bytes stored, now ${String(stat.contentLength ?? "unknown")} bytes${stat.etag ? `, ETag ${stat.etag}` : ""}); the stored part was dropped, download again`,
      { reason: "source-changed", details: { taskId: run.taskId } },
    );
  }
  if (!existing) {
    const fixed = run.identity.pieceLength;
    if (stat.contentLength === undefined) {
      logger.info("the origin does not announce a length; fetching the whole body first");
      const spooled = await spoolFromSource(client, request, path.join(ctx.storage.dir, "spool"), signal, {
        bandwidth: ctx.bandwidth,
        taskId: run.taskId,
      });
      try {
        const task = await run.createTask(spooled.length, fixed ?? pieceLengthFor(spooled.length), spooled.header);
        await storeSpooled(task, spooled, onPiece, signal);
      } finally {
        await spooled.discard();
      }
      if (!run.closeIfSatisfied()) throw new DfError("INTERNAL", `task ${run.taskId} is incomplete after storing the whole body`);
      return "done";
    }
    await run.createTask(stat.contentLength, fixed ?? pieceLengthFor(stat.contentLength), stat.header);
  }
  const task = run.task!;
  const { backToSourceConcurrency, backToSourceRetries, sourceStallTimeout } = ctx.config.download;
  const { maxPieces } = options;
  while (!run.closeIfSatisfied()) {
    const before = task.finishedBytes;
    // A batch is fixed up front (the first missing wanted pieces), so that it ends; without
    // ranges the origin is read in one pass anyway.
    const batch = maxPieces !== undefined && stat.supportsRange ? run.wantedPieces().filter((n) => !task.hasPiece(n)).slice(0, maxPieces) : undefined;
    await fetchPiecesFromSource({
      task,
      client,
      request,
      supportsRange: stat.supportsRange,
      wanted: batch ? () => batch : () => run.wantedPieces(),
      concurrency: backToSourceConcurrency,
      retries: backToSourceRetries,
      stallTimeoutMs: sourceStallTimeout,
      onPiece,
      bandwidth: ctx.bandwidth,
      signal,
      logger,
    });
    if (task.finishedBytes === before && !run.satisfied()) {
      throw new DfError("INTERNAL", `fetching task ${run.taskId} from its origin made no progress`);
    }
    if (batch && !run.closeIfSatisfied()) return "paused";
  }
  return "done";
}

/**
 * Whether the origin's resource is no longer the one a partly stored task was cut
 * from: another length, or another validator (ETag, else Last-Modified) than the one
 * stored with the task.
 */
function changedSince(length: number, stored: Readonly<Record<string, string>>, stat: SourceStat): boolean {
  if (stat.contentLength !== undefined && stat.contentLength !== length) return true;
  const etag = stored["etag"];
  if (etag && stat.etag) return etag !== stat.etag;
  const lastModified = stored["last-modified"];
  if (lastModified && stat.lastModified) return lastModified !== stat.lastModified;
  return false;
}
