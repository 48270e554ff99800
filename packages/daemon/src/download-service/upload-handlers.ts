import { DfError, type Logger } from "@df/interface";
import { common, daemonUpload, type ServiceHandlers } from "@df/rpc";
import type { TaskConductor } from "../conductor/conductor.js";
import type { DaemonHost } from "../host.js";
import { progressResponses } from "./progress.js";

export interface TriggerHandlerDeps {
  conductor: TaskConductor;
  host: DaemonHost;
  logger: Logger;
}

type Handlers = ServiceHandlers<daemonUpload.DfdaemonUploadService>;

/**
 * The upload service's DownloadTask (how the scheduler triggers a seed peer, and how
 * a preheat reaches a peer) and DeleteTask. The trigger streams the download's
 * progress; the scheduler takes the first message as acceptance and may stop reading,
 * but the download goes on: it does not hang on this call.
 *
 * Both are reachable by anyone on the network until members authenticate (issue 14):
 * DeleteTask is refused (nothing in df calls it remotely; a host deletes its own tasks
 * through its download socket), and a trigger may not name the task's content itself
 * (`contentForCalculatingTaskId`), which would let a caller file bytes of its choice
 * under a task ID of its choice.
 */
export function triggerHandlers(deps: TriggerHandlerDeps): Pick<Handlers, "downloadTask" | "deleteTask"> {
  const { conductor, host, logger } = deps;
  return {
    async *downloadTask(request, context) {
      const requested = request.download;
      if (!requested) throw new DfError("INVALID_ARGUMENT", "download is required", { reason: "missing-field" });
      if (requested.contentForCalculatingTaskId !== undefined) {
        throw new DfError(
          "PERMISSION_DENIED",
          "a remote DownloadTask may not give the content its task ID is calculated from: the ID would not vouch for the bytes; name the task by its URL",
          { reason: "remote-content-id-refused" },
        );
      }
      // A trigger never writes files on this host and never streams piece bytes back.
      const download = common.Download.create({ ...requested, outputPath: undefined, needPieceContent: false });
      const subscription = await conductor.download(download, { signal: context.signal });
      logger.info("download triggered", { taskId: subscription.taskId, url: download.url, seed: host.seed });
      const ids = { hostId: host.id, taskId: subscription.taskId, peerId: subscription.peerId };
      // Byte progress is the local service's (and never asked for here).
      for await (const response of progressResponses(subscription, { needPieceContent: false })) {
        if (response.$case === "progress") continue;
        yield daemonUpload.DownloadTaskResponse.create({ ...ids, response });
      }
    },

    async deleteTask(request) {
      logger.warn("a remote DeleteTask was refused", { taskId: request.taskId });
      throw new DfError(
        "PERMISSION_DENIED",
        `DeleteTask is not served over the network (callers are not authenticated yet); delete task ${request.taskId} on its host through the download socket (dfcache delete)`,
        { reason: "remote-delete-refused", details: { taskId: request.taskId } },
      );
    },
  };
}
