import { sizeScope } from "@df/piece";
import { common, sizeScopeToProto } from "@df/rpc";
import type { Task as StoredTask } from "@df/storage";
import { taskTypeToProto } from "./identity.js";

/**
 * A stored task as `common.Task`: SUCCEEDED once complete, else RUNNING while a
 * download is filling it, else PENDING (pieces from an interrupted download, which the
 * next request resumes). Pieces are listed without content.
 */
export function storedTaskToProto(task: StoredTask, downloading: boolean): common.Task {
  const info = task.info;
  const state = info.complete ? common.TaskState.SUCCEEDED : downloading ? common.TaskState.RUNNING : common.TaskState.PENDING;
  return common.Task.create({
    id: task.id,
    type: taskTypeToProto(info.type),
    url: info.url ?? "",
    ...(info.tag ? { tag: info.tag } : {}),
    ...(info.application ? { application: info.application } : {}),
    filteredQueryParams: [...(info.filteredQueryParams ?? [])],
    contentLength: task.contentLength,
    pieceLength: task.pieceLength,
    pieceCount: task.pieceCount,
    sizeScope: sizeScopeToProto(sizeScope(task.contentLength, task.pieceCount)),
    pieces: task.pieces().map((piece) =>
      common.Piece.create({
        number: piece.number,
        offset: piece.offset,
        length: piece.length,
        digest: piece.digest,
        createdAt: new Date(piece.finishedAt),
      }),
    ),
    state,
    peerCount: 1,
    hasAvailablePeer: info.complete,
    createdAt: new Date(info.createdAt),
    updatedAt: new Date(info.updatedAt),
  });
}
