import { hasErrorCode } from "@df/interface";
import type { Task as StoredTask } from "@df/storage";
import type { TaskIdentity } from "../task/identity.js";
import type { CacheDeps } from "./deps.js";
import { wholeDigest } from "./import.js";
import { announceRequest, announceTo } from "./scheduler-calls.js";

/** Announces sent to a returning scheduler at once. */
const IN_FLIGHT = 8;

export interface HandBack {
  /** Resolves when the hand-backs under way have ended (tests, shutdown). */
  idle(): Promise<void>;
  stop(): void;
}

/**
 * Hands tasks back to their owner scheduler when it returns. While a task's owner on
 * the ring is unreachable, its announces (dfcache import, a download's registration)
 * go to the next scheduler on the ring; other peers route to the owner again as soon as
 * it is back, and a scheduler back from a restart knows no task at all. So whenever a
 * scheduler is reachable again, every complete task this host holds whose owner it is
 * — persistent-cache imports and finished downloads alike — is announced to it as a
 * complete peer, under the peer ID this host already goes by for the task. The
 * fallback keeps its record (it expires with the peer there); nothing is removed.
 */
export function startHandBack(deps: CacheDeps): HandBack {
  const logger = deps.logger.child("hand-back");
  const pending = new Map<string, Promise<void>>();
  /** A return seen while a hand-back to the same scheduler runs: go again once it ends. */
  const again = new Set<string>();
  let stopped = false;

  const handBack = async (address: string): Promise<void> => {
    const tasks = deps.storage.listTasks().filter((task) => task.complete && !deps.conductor.runOf(task.id) && deps.schedulers.ownerOf(task.id) === address);
    if (tasks.length === 0) return;
    let announced = 0;
    let failed = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!stopped && next < tasks.length) {
        const task = tasks[next++]!;
        try {
          await announceHeld(deps, address, task);
          announced++;
        } catch (error) {
          failed++;
          logger.debug("could not hand a task back to its scheduler", { taskId: task.id, address, error: String(error) });
          // Gone again: the next return starts over.
          if (hasErrorCode(error, "UNAVAILABLE")) return;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, tasks.length) }, worker));
    logger.info("handed tasks back to their scheduler", { address, announced, failed });
  };

  const onReturn = (address: string): void => {
    if (stopped) return;
    if (pending.has(address)) {
      again.add(address);
      return;
    }
    const run = handBack(address)
      .catch((error: unknown) => logger.warn("hand-back failed", { address, error: String(error) }))
      .finally(() => {
        pending.delete(address);
        if (again.delete(address)) onReturn(address);
      });
    pending.set(address, run);
  };
  const unsubscribe = deps.schedulers.onReturn(onReturn);

  return {
    async idle() {
      while (pending.size > 0) await Promise.all(pending.values());
    },
    stop() {
      stopped = true;
      unsubscribe();
    },
  };
}

/** AnnounceTask of one complete stored task to `address`, as the peer this host goes by for it. */
async function announceHeld(deps: CacheDeps, address: string, task: StoredTask): Promise<void> {
  const info = task.info;
  if (!info.url) return; // Stored before identities were recorded: nothing to name it by.
  const identity: TaskIdentity = {
    taskId: task.id,
    url: info.url,
    type: info.type === "PERSISTENT_CACHE" ? "PERSISTENT_CACHE" : "STANDARD",
    ...(info.tag ? { tag: info.tag } : {}),
    ...(info.application ? { application: info.application } : {}),
    filteredQueryParams: info.filteredQueryParams ?? [],
    baseTaskId: task.baseTaskId,
    // The scheduler hears the version, so a seed it triggers fetches the same content.
    ...(task.version ? { version: task.version } : {}),
  };
  const cache = identity.type === "PERSISTENT_CACHE";
  const peerId = deps.conductor.peerIdOf(task.id) ?? deps.host.newPeerId();
  // Cache data carries its whole-content CRC, so the owner can refuse a conflicting import.
  const request = announceRequest(deps, identity, task, peerId, cache ? { digest: wholeDigest(task), disableBackToSource: true } : {});
  await announceTo(deps, address, request);
  deps.conductor.holdAs(task.id, peerId);
}
