import { sizeScope } from "@df/piece";
import { common, daemonUpload } from "@df/rpc";
import type { Task } from "@df/storage";
import type { UploadContext } from "./context.js";
import { lookupTask } from "./lookup.js";

/** StatTask: what this host holds of a task, with every finished piece (metadata only). */
export function statTask(context: UploadContext, request: daemonUpload.StatTaskRequest): daemonUpload.StatTaskResponse {
  const task = lookupTask(context.storage, request.taskId);
  return daemonUpload.StatTaskResponse.create({ task: taskMessage(task) });
}

/** A stored task as a common.Task: length, piece length and count, finished pieces. */
export function taskMessage(task: Task): common.Task {
  const info = task.info;
  return common.Task.create({
    id: task.id,
    type: taskType(info.type),
    url: info.url ?? "",
    ...(info.tag ? { tag: info.tag } : {}),
    ...(info.application ? { application: info.application } : {}),
    filteredQueryParams: info.filteredQueryParams ?? [],
    contentLength: task.contentLength,
    pieceLength: task.pieceLength,
    pieceCount: task.pieceCount,
    sizeScope: SIZE_SCOPES[sizeScope(task.contentLength, task.pieceCount)],
    pieces: task.pieces().map((piece) =>
      common.Piece.create({
        number: piece.number,
        offset: piece.offset,
        length: piece.length,
        digest: piece.digest,
        createdAt: new Date(piece.finishedAt),
      }),
    ),
    state: info.complete ? common.TaskState.SUCCEEDED : common.TaskState.RUNNING,
    hasAvailablePeer: info.complete,
    createdAt: new Date(info.createdAt),
    updatedAt: new Date(info.updatedAt),
  });
}

const SIZE_SCOPES = {
  EMPTY: common.SizeScope.EMPTY,
  TINY: common.SizeScope.TINY,
  SMALL: common.SizeScope.SMALL,
  NORMAL: common.SizeScope.NORMAL,
  UNKNOWN: common.SizeScope.UNSPECIFIED,
} as const;

function taskType(type: string | undefined): common.TaskType {
  const normal = type?.toUpperCase().replaceAll("-", "_");
  if (normal === "PERSISTENT_CACHE") return common.TaskType.PERSISTENT_CACHE;
  if (normal === "STANDARD") return common.TaskType.STANDARD;
  return common.TaskType.UNSPECIFIED;
}
