import { DfError, isDfError } from "@df/interface";
import { daemonUpload } from "@df/rpc";
import type { Task } from "@df/storage";
import { watchAvailability, watchHeld, type Announced } from "./availability.js";
import type { UploadContext } from "./context.js";
import { inBatches } from "./batches.js";
import { lookupTask } from "./lookup.js";

/**
 * SyncPieces: the pieces this host holds of a task among those the child is interested
 * in (empty: all), those already stored first, then each new one as it lands, so a
 * parent that is itself still downloading serves what it has. Ends once every
 * interested piece was sent; fails with the task's error when its download here fails
 * (see TaskFailures) or the task is deleted. A child that asks for batches gets the held
 * pieces in one message and new ones gathered over `announceWindowMs`; one that also asks
 * for arrivals hears of the pieces arriving here too (served as they land, see
 * watchAvailability); those are not announced again once held.
 */
export async function* syncPieces(
  context: UploadContext,
  request: daemonUpload.SyncPiecesRequest,
  signal: AbortSignal,
): AsyncGenerator<daemonUpload.SyncPiecesResponse, void, undefined> {
  const task = lookupTask(context.storage, request.taskId);
  const wanted = interestedSet(task, request.interestedPieceNumbers);
  let remaining = wanted ? wanted.size : task.pieceCount;
  if (remaining === 0) return;

  const stop = new AbortController();
  let failure: DfError | undefined;
  const forward = (): void => stop.abort(signal.reason);
  signal.addEventListener("abort", forward, { once: true });
  const unwatch = context.failures?.watch(task.id, (error) => {
    failure = error;
    stop.abort(error);
  });
  const parentId = context.peerIdOf?.(task.id) ?? context.host.id;
  // Read per message: the byte port is known only once its server listens.
  const where = (): Pick<daemonUpload.SyncPiecesResponse, "ip" | "tcpPort" | "parentId"> => {
    const port = context.host.downloadPort;
    return { ip: context.host.ip, ...(port > 0 ? { tcpPort: port } : {}), parentId };
  };
  const interesting = (piece: Announced): boolean => !wanted || wanted.has(piece.number);
  try {
    if (request.batched) {
      const source = request.arriving && context.cutThrough !== false ? watchAvailability(task, stop.signal) : watchHeld(task, stop.signal);
      for await (const batch of inBatches(filter(source, interesting), context.announceWindowMs, MAX_BATCH)) {
        const news = batch.filter((piece) => !piece.implied);
        if (news.length > 0) yield daemonUpload.SyncPiecesResponse.create({ ...where(), pieces: news.map(syncedPiece) });
        // Only held pieces count toward the end (an arrival may still fail).
        for (const piece of batch) if (!piece.arriving) remaining--;
        if (remaining <= 0) return;
      }
      return;
    }
    for await (const piece of watchHeld(task, stop.signal)) {
      if (!interesting(piece)) continue;
      const { number, offset, length, digest } = piece;
      yield daemonUpload.SyncPiecesResponse.create({ number, offset, length, digest, ...where() });
      if (--remaining === 0) return;
    }
  } catch (error) {
    if (failure) {
      throw new DfError(failure.code === "CANCELLED" ? "UNAVAILABLE" : failure.code, `the download of task ${task.id} failed on this host: ${failure.message}`, {
        cause: failure,
        reason: "parent-download-failed",
        details: { taskId: task.id },
      });
    }
    if (signal.aborted && isDfError(signal.reason)) throw signal.reason;
    throw error;
  } finally {
    signal.removeEventListener("abort", forward);
    unwatch?.();
    // Wakes a watch still waiting for a piece, so it unsubscribes now.
    stop.abort();
  }
}

/** Pieces per batched message at most: a replay of a task of many pieces is cut into messages of about 40 KB. */
const MAX_BATCH = 1024;

function syncedPiece(piece: Announced): daemonUpload.SyncedPiece {
  return { number: piece.number, offset: piece.offset, length: piece.length, digest: piece.digest, arriving: piece.arriving };
}

async function* filter<T>(source: AsyncIterable<T>, keep: (item: T) => boolean): AsyncGenerator<T, void, undefined> {
  for await (const item of source) if (keep(item)) yield item;
}

function interestedSet(task: Task, numbers: readonly number[]): Set<number> | undefined {
  if (numbers.length === 0) return undefined;
  const wanted = new Set<number>();
  for (const number of numbers) {
    if (number >= task.pieceCount) {
      throw new DfError("OUT_OF_RANGE", `task ${task.id} has ${task.pieceCount} piece(s); piece ${number} does not exist`, {
        reason: "piece-out-of-range",
        details: { taskId: task.id, number, pieceCount: task.pieceCount },
      });
    }
    wanted.add(number);
  }
  return wanted;
}
