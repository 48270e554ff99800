import { daemonUpload } from "@df/rpc";
import { storedTaskToProto } from "../task/proto.js";
import type { UploadContext } from "./context.js";
import { lookupTask } from "./lookup.js";

/** StatTask: what this host holds of a task, with every finished piece (metadata only). */
export function statTask(context: UploadContext, request: daemonUpload.StatTaskRequest): daemonUpload.StatTaskResponse {
  const task = lookupTask(context.storage, request.taskId);
  // To a child, a parent's incomplete task is one it is still filling.
  return daemonUpload.StatTaskResponse.create({ task: storedTaskToProto(task, true) });
}
