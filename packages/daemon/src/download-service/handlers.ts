import { DfError, hasErrorCode, timerDuration, type Logger } from "@df/interface";
import { common, daemonDownload, type ServiceHandlers } from "@df/rpc";
import type { Storage, Task as StoredTask } from "@df/storage";
import type { TaskConductor } from "../conductor/conductor.js";
import type { DaemonHost } from "../host.js";
import type { SchedulerClients } from "../scheduler-link/scheduler-clients.js";
import { taskIdOf, taskTypeOf } from "../task/identity.js";
import { exportTask } from "../cache/export.js";
import { importTask } from "../cache/import.js";
import { statOnScheduler } from "../cache/scheduler-calls.js";
import { checkDigest, checkOutput, verifyTaskDigest, writeOutput } from "./output.js";
import { progressResponses } from "./progress.js";
import { storedTaskToProto } from "../task/proto.js";

export interface DownloadServiceDeps {
  conductor: TaskConductor;
  storage: Storage;
  schedulers: SchedulerClients;
  host: DaemonHost;
  logger: Logger;
}

type Handlers = ServiceHandlers<daemonDownload.DfdaemonDownloadService>;

/** How often a client that asked for byte progress hears of bytes still arriving (dfget redraws every 250 ms). */
const BYTE_PROGRESS_EVERY_MS = 200;

/**
 * A complete task never changes (no piece is written again, the state stays
 * SUCCEEDED), so its StatTask answer is built once: building it cost more than the
 * rest of a local stat.
 */
const completeAnswers = new WeakMap<StoredTask, daemonDownload.StatTaskResponse>();

function completeAnswer(task: StoredTask): daemonDownload.StatTaskResponse {
  let answer = completeAnswers.get(task);
  if (!answer) completeAnswers.set(task, (answer = daemonDownload.StatTaskResponse.create({ task: storedTaskToProto(task, false) })));
  return answer;
}

/** The fields of a StatTask that name a task by URL, as a Download. */
function namingOf(request: daemonDownload.StatTaskRequest): Partial<common.Download> {
  return {
    url: request.url,
    type: request.type,
    ...(request.tag ? { tag: request.tag } : {}),
    ...(request.application ? { application: request.application } : {}),
    ...(request.pieceLength ? { pieceLength: request.pieceLength } : {}),
    filteredQueryParams: [...request.filteredQueryParams],
  };
}

/**
 * The daemon's service for local clients (dfget, dfcache) on the unix socket. Import
 * and export (dfcache) live in ../cache.
 */
export function downloadServiceHandlers(deps: DownloadServiceDeps): Partial<Handlers> {
  const { conductor, storage, host } = deps;
  return {
    async *downloadTask(request, context) {
      const download = request.download;
      if (!download) throw new DfError("INVALID_ARGUMENT", "download is required", { reason: "missing-field" });
      checkDigest(download.digest);
      if (download.timeoutMs) timerDuration(download.timeoutMs, "download.timeout_ms");
      const output = download.outputPath ? await checkOutput(download.outputPath, download.overwrite) : undefined;
      const range = download.range ? { start: download.range.start, length: download.range.length } : undefined;
      const subscription = await conductor.download(download, { signal: context.signal });
      const ids = { hostId: host.id, taskId: subscription.taskId, peerId: subscription.peerId };
      const responses = progressResponses(subscription, {
        needPieceContent: download.needPieceContent,
        ...(request.byteProgress ? { byteProgressEveryMs: BYTE_PROGRESS_EVERY_MS } : {}),
        beforeFinish: async (task) => {
          if (download.digest && !range) await verifyTaskDigest(task, download.digest);
          if (!output) return undefined;
          await writeOutput(storage, task, output, {
            overwrite: download.overwrite,
            forceHardLink: download.forceHardLink,
            ...(range ? { range } : {}),
          });
          return output;
        },
      });
      for await (const response of responses) {
        yield daemonDownload.DownloadTaskResponse.create({ ...ids, response });
      }
    },

    async statTask(request, context) {
      // Named by an origin URL: the version held here, or the one the origin names now.
      const byUrl = !request.taskId && request.url && taskTypeOf(request.type) === "STANDARD";
      const taskId = byUrl
        ? await conductor.currentTaskId(common.Download.create({ ...namingOf(request) }), { localOnly: request.localOnly, signal: context.signal })
        : taskIdOf(request);
      const stored = storage.getTask(taskId);
      const local = (): daemonDownload.StatTaskResponse =>
        stored!.complete
          ? completeAnswer(stored!)
          : daemonDownload.StatTaskResponse.create({ task: storedTaskToProto(stored!, conductor.runOf(taskId) !== undefined) });
      if (stored && (stored.complete || request.localOnly)) return local();
      if (request.localOnly) {
        throw new DfError("NOT_FOUND", `task ${taskId} is not on this host`, { reason: "task-not-found", details: { taskId } });
      }
      // Not complete here: the scheduler knows whether some other peer holds it.
      try {
        const answer = await statOnScheduler(deps, taskId);
        if (answer.task) return daemonDownload.StatTaskResponse.create({ task: answer.task });
      } catch (error) {
        if (stored) return local();
        if (hasErrorCode(error, "NOT_FOUND")) {
          throw new DfError("NOT_FOUND", `task ${taskId} is neither on this host nor known to the scheduler`, {
            cause: error,
            reason: "task-not-found",
            details: { taskId },
          });
        }
        throw new DfError("UNAVAILABLE", `task ${taskId} is not on this host and the scheduler could not be asked: ${(error as Error).message}`, {
          cause: error,
          details: { taskId },
        });
      }
      if (stored) return local();
      throw new DfError("NOT_FOUND", `task ${taskId} is not on this host`, { reason: "task-not-found", details: { taskId } });
    },

    async importTask(request, context) {
      const { task } = await importTask(deps, request, context.signal);
      return daemonDownload.ImportTaskResponse.create({ task: storedTaskToProto(task, false) });
    },

    async exportTask(request, context) {
      const result = await exportTask(deps, request, context.signal);
      return daemonDownload.ExportTaskResponse.create({
        taskId: result.task.id,
        contentLength: result.task.contentLength,
        outputPath: result.outputPath,
      });
    },

    async deleteTask(request) {
      // Named by an origin URL: every task of it here goes (all versions, see evictUrl).
      if (!request.taskId && request.url && taskTypeOf(request.type) === "STANDARD") {
        await conductor.evictUrl(request, { remote: request.remote });
        return daemonDownload.DeleteTaskResponse.create();
      }
      await conductor.deleteTask(taskIdOf(request), { remote: request.remote });
      return daemonDownload.DeleteTaskResponse.create();
    },
  };
}
