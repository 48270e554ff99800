import { setTimeout as sleep } from "node:timers/promises";
import { noopLogger, type Logger } from "@df/interface";
import { daemonUpload, unary } from "@df/rpc";
import type { ParentRef } from "../transfer/types.js";
import type { PeerClientPool } from "../transfer/peer-client-pool.js";

export interface TaskMetadata {
  contentLength: number;
  pieceLength: number;
  parentId: string;
}

const POLL_INTERVAL_MS = 200;
const CALL_DEADLINE_MS = 5000;

/**
 * Learns a task's content length and piece length from its parents' upload StatTask.
 * A parent that was just triggered (a seed peer still asking the origin) does not know
 * them yet, so the parents are asked again every 200 ms until `timeoutMs`; undefined
 * then means no parent could tell.
 */
export async function learnMetadata(
  pool: PeerClientPool,
  taskId: string,
  parents: readonly ParentRef[],
  options: { timeoutMs: number; signal?: AbortSignal; logger?: Logger },
): Promise<TaskMetadata | undefined> {
  const logger = options.logger ?? noopLogger;
  const deadline = Date.now() + options.timeoutMs;
  for (let round = 0; ; round++) {
    const answers = await Promise.all(
      parents.map(async (parent): Promise<TaskMetadata | undefined> => {
        let held: ReturnType<PeerClientPool["upload"]> | undefined;
        try {
          held = pool.upload(parent.ip, parent.port);
          const response = await unary(
            held.client,
            "statTask",
            daemonUpload.StatTaskRequest.create({ taskId }),
            { deadlineMs: CALL_DEADLINE_MS, ...(options.signal ? { signal: options.signal } : {}) },
          );
          const task = response.task;
          if (task?.contentLength === undefined || !task.pieceLength) return undefined;
          return { contentLength: task.contentLength, pieceLength: task.pieceLength, parentId: parent.peerId };
        } catch (error) {
          if (round === 0) logger.debug("parent cannot stat the task yet", { taskId, parentId: parent.peerId, error: String(error) });
          return undefined;
        } finally {
          held?.release();
        }
      }),
    );
    const known = answers.find((answer) => answer !== undefined);
    if (known) return known;
    if (options.signal?.aborted || Date.now() + POLL_INTERVAL_MS > deadline) return undefined;
    await sleep(POLL_INTERVAL_MS, undefined, options.signal ? { signal: options.signal } : undefined).catch(() => {});
  }
}
