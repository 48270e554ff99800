import { DfError, hasErrorCode, timerDuration, toDfError } from "@df/interface";
import { common, type daemonDownload } from "@df/rpc";
import type { Task as StoredTask } from "@df/storage";
import { identify, taskIdOf } from "../task/identity.js";
import { checkDigest, checkOutput, verifyTaskDigest, writeOutput } from "../download-service/output.js";
import type { CacheDeps } from "./deps.js";
import { exportable, statOnScheduler } from "./scheduler-calls.js";

export interface ExportResult {
  task: StoredTask;
  outputPath: string;
  /** Where the bytes came from: this host's store, or other peers. */
  from: "local" | "peers";
}

/**
 * dfcache export: writes a task to `output_path`. A complete copy on this host is hard
 * linked (or copied) out. Otherwise, unless `local_only`, the task's scheduler is asked
 * first — a task no live peer holds is NOT_FOUND at once, without registering a
 * download — and then the task is downloaded from peers with back-to-source disabled:
 * cache data has no origin. An existing output is ALREADY_EXISTS unless `overwrite`,
 * checked before anything is fetched, and left untouched.
 */
export async function exportTask(deps: CacheDeps, request: daemonDownload.ExportTaskRequest, signal?: AbortSignal): Promise<ExportResult> {
  const taskId = taskIdOf(request);
  checkDigest(request.digest);
  if (request.timeoutMs) timerDuration(request.timeoutMs, "timeout_ms");
  // The scheduler is asked while the output is checked; a bad output still fails first.
  const early = deps.storage.getTask(taskId);
  const asking = early?.complete || request.localOnly ? undefined : statOnScheduler(deps, taskId);
  asking?.catch(() => {});
  const output = await checkOutput(request.outputPath, request.overwrite);
  const finish = async (task: StoredTask): Promise<void> => {
    if (request.digest) await verifyTaskDigest(task, request.digest);
    await writeOutput(deps.storage, task, output, { overwrite: request.overwrite, forceHardLink: false });
  };

  // A stored task whose file changed behind the store's back is checked first, and
  // removed (so fetched from peers below) if its pieces no longer match.
  const stored = deps.storage.getTask(taskId)?.complete && (await deps.storage.checkLocalContent(taskId, signal ? { signal } : {})) ? deps.storage.getTask(taskId) : undefined;
  if (stored?.complete) {
    await finish(stored);
    return { task: stored, outputPath: output, from: "local" };
  }
  if (request.localOnly) throw notFound(taskId, "is not complete on this host (--local)");

  let known: common.Task | undefined;
  try {
    known = (await (asking ?? statOnScheduler(deps, taskId))).task;
  } catch (error) {
    if (hasErrorCode(error, "NOT_FOUND")) throw notFound(taskId, "is held by no peer", error);
    throw error;
  }
  if (!exportable(known)) throw notFound(taskId, "is held by no live peer any more");
  const task = known as common.Task;
  const download = common.Download.create({
    url: request.url || task.url,
    type: request.url ? request.type : task.type,
    ...((request.url ? request.tag : task.tag) ? { tag: request.url ? request.tag : task.tag } : {}),
    ...((request.url ? request.application : task.application) ? { application: request.url ? request.application : task.application } : {}),
    ...(request.pieceLength ? { pieceLength: request.pieceLength } : {}),
    filteredQueryParams: request.url ? request.filteredQueryParams : task.filteredQueryParams,
    disableBackToSource: true,
    ...(request.timeoutMs ? { timeoutMs: request.timeoutMs } : {}),
  });
  const identity = identify(download);
  if (identity.taskId !== taskId) {
    throw new DfError("FAILED_PRECONDITION", `the scheduler's record of task ${taskId} names another task (${identity.taskId}); export it by cid`, {
      reason: "task-id-mismatch",
    });
  }
  // Nothing of the task here yet: the download makes the stored task from the
  // scheduler's record (its holders announced the lengths) while it registers, so no
  // parent is asked for them, and this export removes it again if it stays empty.
  const fresh = !deps.storage.getTask(taskId) && !deps.conductor.runOf(taskId);
  const layout = task.contentLength && task.pieceLength ? { contentLength: task.contentLength, pieceLength: task.pieceLength } : undefined;
  const subscription = await deps.conductor.download(download, { ...(signal ? { signal } : {}), ...(layout ? { layout } : {}) });
  let adopted: StoredTask | undefined;
  let done: StoredTask | undefined;
  try {
    for await (const event of subscription) {
      if (event.kind === "started") adopted = event.task;
      else if (event.kind === "finished") done = event.task;
    }
  } catch (error) {
    if (fresh && adopted) await discardIfEmpty(deps, adopted);
    // No peer could serve it (the holder left before the scheduler noticed): for the
    // caller that is "not found", as it would be a moment later.
    if (hasErrorCode(error, "FAILED_PRECONDITION", "back-to-source-disabled")) throw notFound(taskId, "could be fetched from no peer", error);
    throw toDfError(error);
  }
  if (!done) throw new DfError("INTERNAL", `the download of task ${taskId} ended without finishing`);
  await finish(done);
  return { task: done, outputPath: output, from: "peers" };
}

/** Removes a task this export's download created, unless it stored something or a download took it up again. */
async function discardIfEmpty(deps: CacheDeps, task: StoredTask): Promise<void> {
  if (task.finishedBytes > 0 || deps.conductor.runOf(task.id) || deps.storage.getTask(task.id) !== task) return;
  await deps.storage.deleteTask(task.id, { defer: true }).catch(() => {});
}

function notFound(taskId: string, why: string, cause?: unknown): DfError {
  return new DfError("NOT_FOUND", `task ${taskId} ${why}`, { reason: "task-not-found", details: { taskId }, ...(cause ? { cause } : {}) });
}
