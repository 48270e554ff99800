import { DfError, hasErrorCode } from "@df/interface";
import { common, scheduler, unary } from "@df/rpc";
import type { Task as StoredTask } from "@df/storage";
import { identityDownload, type TaskIdentity } from "../task/identity.js";
import type { CacheDeps } from "./deps.js";

/** A stat answers in about a millisecond; a scheduler that takes seconds is as good as down. */
const STAT_DEADLINE_MS = 3000;
const ANNOUNCE_DEADLINE_MS = 5000;

/**
 * Calls the scheduler the ring maps `taskId` to, falling over to the next one on the
 * ring only when a scheduler cannot be reached: any other answer (NOT_FOUND included)
 * is the owner's word. Rejects with the last UNAVAILABLE when none answers.
 */
async function onOwner<T>(deps: CacheDeps, taskId: string, call: (address: string) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const address of deps.schedulers.forTask(taskId)) {
    try {
      return await call(address);
    } catch (error) {
      last = error;
      if (!hasErrorCode(error, "UNAVAILABLE") && !hasErrorCode(error, "DEADLINE_EXCEEDED")) throw error;
      deps.logger.debug("scheduler unreachable; trying the next on the ring", { taskId, address, error: String(error) });
    }
  }
  throw last ?? new DfError("UNAVAILABLE", "no scheduler is configured", { reason: "no-scheduler" });
}

/** StatTask on the task's scheduler. */
export function statOnScheduler(deps: CacheDeps, taskId: string): Promise<scheduler.StatTaskResponse> {
  return onOwner(deps, taskId, (address) =>
    unary(deps.schedulers.client(address), "statTask", scheduler.StatTaskRequest.create({ hostId: deps.host.id, taskId }), {
      deadlineMs: STAT_DEADLINE_MS,
    }),
  );
}

/** Whether a scheduler's answer says some live peer holds the whole task. */
export function exportable(task: common.Task | undefined): boolean {
  return task !== undefined && task.state === common.TaskState.SUCCEEDED && task.hasAvailablePeer;
}

/**
 * AnnounceTask for a task this host holds complete, waiting for the answer: the
 * scheduler records a succeeded peer with every piece, so other peers can fetch from
 * here. `digest` (the whole content's CRC-32) lets the scheduler refuse a second import
 * of the same ID with other bytes. A scheduler that forgot this host (restart) learns
 * it again first.
 */
export async function announceStored(deps: CacheDeps, identity: TaskIdentity, task: StoredTask, digest: string): Promise<string> {
  const peerId = deps.host.newPeerId();
  const request = announceRequest(deps, identity, task, peerId, { digest, disableBackToSource: true });
  await onOwner(deps, identity.taskId, (address) => announceTo(deps, address, request));
  deps.conductor.holdAs(identity.taskId, peerId);
  return peerId;
}

/** The AnnounceTask of a complete stored task held by this host as `peerId`. */
export function announceRequest(
  deps: CacheDeps,
  identity: TaskIdentity,
  task: StoredTask,
  peerId: string,
  download: Partial<common.Download>,
): scheduler.AnnounceTaskRequest {
  return scheduler.AnnounceTaskRequest.create({
    hostId: deps.host.id,
    taskId: identity.taskId,
    peerId,
    download: identityDownload(identity, download),
    contentLength: task.contentLength,
    pieceLength: task.pieceLength,
    pieceCount: task.pieceCount,
  });
}

/** AnnounceTask on one scheduler; one that forgot this host (restart) learns it again first. */
export async function announceTo(deps: CacheDeps, address: string, request: scheduler.AnnounceTaskRequest): Promise<void> {
  const announce = () => unary(deps.schedulers.client(address), "announceTask", request, { deadlineMs: ANNOUNCE_DEADLINE_MS });
  try {
    await announce();
  } catch (error) {
    if (!hasErrorCode(error, "NOT_FOUND", "host-not-found")) throw error;
    await deps.conductor.announceHostTo(address);
    await announce();
  }
}
