import { DfError, isDfError } from "@df/interface";
import type { ArrivingPiece, Piece, Storage, Task } from "@df/storage";

/** A stored task by ID, or NOT_FOUND (`task-not-found`) naming it. */
export function lookupTask(storage: Storage, taskId: string): Task {
  const task = taskId === "" ? undefined : storage.getTask(taskId);
  if (!task) {
    throw new DfError("NOT_FOUND", `this host holds no task ${taskId === "" ? "(empty task ID)" : taskId}`, {
      reason: "task-not-found",
      details: { taskId },
    });
  }
  return task;
}

/**
 * A finished piece of a stored task, for upload. NOT_FOUND for an unknown task or a
 * piece not (yet) held, OUT_OF_RANGE past the last piece, INVALID_ARGUMENT for a number
 * that is not one.
 */
export function lookupPiece(storage: Storage, taskId: string, number: number | string): { task: Task; piece: Piece } {
  const task = lookupTask(storage, taskId);
  const n = typeof number === "number" ? number : /^\d{1,10}$/.test(number) ? Number(number) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new DfError("INVALID_ARGUMENT", `piece number must be a non-negative integer, got ${String(number)}`, {
      details: { taskId, number: String(number) },
    });
  }
  if (n >= task.pieceCount) {
    throw new DfError("OUT_OF_RANGE", `task ${taskId} has ${task.pieceCount} piece(s); there is no piece ${n}`, {
      reason: "piece-out-of-range",
      details: { taskId, number: n, pieceCount: task.pieceCount },
    });
  }
  const piece = task.piece(n);
  if (!piece) {
    throw new DfError("NOT_FOUND", `this host does not hold piece ${n} of task ${taskId} (yet); ask SyncPieces which pieces it has`, {
      reason: "piece-not-found",
      details: { taskId, number: n },
    });
  }
  return { task, piece };
}

/**
 * A piece to serve: held (`piece`), or arriving here now (`arriving`: its bytes are
 * served as they land, see ArrivingPiece). Errors as lookupPiece's.
 */
export function lookupServable(
  storage: Storage,
  taskId: string,
  number: number | string,
): { task: Task; piece: Piece; arriving?: undefined } | { task: Task; piece?: undefined; arriving: ArrivingPiece } {
  try {
    return lookupPiece(storage, taskId, number);
  } catch (error) {
    // Only a valid number of a known task that is not held gets here.
    if (!isDfError(error) || error.reason !== "piece-not-found") throw error;
    const task = storage.getTask(taskId);
    const arriving = task?.arrivingPiece(Number(number));
    if (!task || !arriving) throw error;
    return { task, arriving };
  }
}
