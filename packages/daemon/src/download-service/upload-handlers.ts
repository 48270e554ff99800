import { DfError, hasErrorCode, type Logger } from "@df/interface";
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
 * a preheat reaches a peer) and DeleteTask (scheduler GC, manager jobs). The trigger
 * streams the download's progress; the scheduler takes the first message as acceptance
 * and may stop reading, but the download goes on: it does not hang on this call.
 */
export function triggerHandlers(deps: TriggerHandlerDeps): Pick<Handlers, "downloadTask" | "deleteTask"> {
  const { conductor, host, logger } = deps;
  return {
    async *downloadTask(request, context) {
      const requested = request.download;
      if (!requested) throw new DfError("INVALID_ARGUMENT", "download is required", { reason: "missing-field" });
      // A trigger never writes files on this host and never streams piece bytes back.
      const download = common.Download.create({ ...requested, outputPath: undefined, needPieceContent: false });
      const subscription = conductor.download(download, { signal: context.signal });
      logger.info("download triggered", { taskId: subscription.taskId, url: download.url, seed: host.seed });
      const ids = { hostId: host.id, taskId: subscription.taskId, peerId: subscription.peerId };
      for await (const response of progressResponses(subscription, { needPieceContent: false })) {
        yield daemonUpload.DownloadTaskResponse.create({ ...ids, response });
      }
    },

    async deleteTask(request) {
      try {
        await conductor.deleteTask(request.taskId);
      } catch (error) {
        // Deleting what is already gone is what the caller wanted.
        if (!hasErrorCode(error, "NOT_FOUND")) throw error;
      }
      return daemonUpload.DeleteTaskResponse.create();
    },
  };
}
