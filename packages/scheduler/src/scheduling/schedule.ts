import { setTimeout as sleep } from "node:timers/promises";
import { DfError, type AbortOptions } from "@df/interface";
import type { Peer } from "../resource/peer.js";
import type { ScheduleRetryOptions } from "./options.js";
import type { FilterReason, ParentSelector, Selection } from "./parent-selector.js";

export type { ScheduleRetryOptions } from "./options.js";

export type ScheduleOutcome =
  | { kind: "parents"; parents: Peer[]; rounds: number }
  | { kind: "back-to-source"; reason: string; rounds: number };

export interface ScheduleHooks extends AbortOptions {
  /** Called after every selection round, for metrics and logs. */
  onRound?(round: number, selection: Selection): void;
  random?: () => number;
  /** The download may not use the source: keep looking for parents until retryLimit. */
  disableBackToSource?: boolean;
}

/**
 * Finds parents for `child`, retrying while none qualify; sends it to the source when it
 * asked to go there or scheduling keeps failing and the task's quota allows; fails it
 * (FAILED_PRECONDITION) when even that is not possible. Edges to the chosen parents are
 * added to the task's DAG before returning.
 */
export async function scheduleParents(
  child: Peer,
  selector: ParentSelector,
  options: ScheduleRetryOptions,
  hooks: ScheduleHooks = {},
): Promise<ScheduleOutcome> {
  const task = child.task;
  const random = hooks.random ?? Math.random;
  for (let round = 0; ; round++) {
    if (hooks.signal?.aborted) {
      throw new DfError("CANCELLED", `scheduling of peer ${child.id} was cancelled`, { cause: hooks.signal.reason });
    }
    if (!hooks.disableBackToSource && task.canBackToSource()) {
      if (child.needBackToSource) return backToSource(child, "the peer asked to fetch from the source", round);
      if (round >= options.retryBackToSourceLimit) {
        return backToSource(child, `no parent found in ${round} scheduling rounds`, round);
      }
    }
    if (round >= options.retryLimit) {
      const why = hooks.disableBackToSource
        ? "and back-to-source is disabled for this download"
        : `and the task's back-to-source quota (${task.info.backToSourceLimit} peers at once) is used up`;
      throw new DfError(
        "FAILED_PRECONDITION",
        `no parent for peer ${child.id} of task ${task.id} after ${round} rounds, ${why}`,
        { reason: "schedule-exhausted", details: { taskId: task.id, peerId: child.id, rounds: round } },
      );
    }
    task.deleteInEdges(child);
    const selection = selector.select(child);
    hooks.onRound?.(round, selection);
    const added: Peer[] = [];
    for (const parent of selection.parents) {
      // The DAG may have changed since the filter ran (another child got scheduled).
      if (task.canAddEdge(parent, child)) {
        task.addEdge(parent, child);
        added.push(parent);
      }
    }
    if (added.length > 0) return { kind: "parents", parents: added, rounds: round + 1 };
    // Retry rounds wait for peers that may gain pieces soon, or register (a triggered seed
    // does so a moment later). When the task has peers and none of them can ever be a
    // parent (blocked, not shared, on the child's own host), waiting only delays the
    // source: a child whose only parent stalled paid 2 s here.
    if (!hooks.disableBackToSource && task.canBackToSource() && nothingToWaitFor(selection)) {
      return backToSource(child, `no other peer of the task can be a parent (${describeSelection(selection)})`, round + 1);
    }
    const interval = options.retryIntervalMs * (0.75 + random() * 0.5);
    await sleep(interval, undefined, hooks.signal ? { signal: hooks.signal } : undefined).catch((error: unknown) => {
      throw new DfError("CANCELLED", `scheduling of peer ${child.id} was cancelled`, { cause: error });
    });
  }
}

/** Reasons a peer is not a parent that no wait changes. */
const LASTING: readonly FilterReason[] = ["blocked", "not-shared", "same-host"];

function nothingToWaitFor(selection: Selection): boolean {
  let lasting = 0;
  for (const reason of LASTING) lasting += selection.dropped[reason] ?? 0;
  return selection.sampled > 0 && lasting === selection.sampled;
}

function describeSelection(selection: Selection): string {
  return Object.entries(selection.dropped)
    .map(([reason, count]) => `${count} ${reason}`)
    .join(", ");
}

function backToSource(child: Peer, reason: string, round: number): ScheduleOutcome {
  // Book the quota now: many peers may be told at once before any reports it started.
  child.task.backToSourcePeers.add(child.id);
  child.task.deleteInEdges(child);
  return { kind: "back-to-source", reason, rounds: round };
}

/**
 * One selection round for a child that keeps its parents and wants more (peers that
 * gained pieces since): its current parents, in the graph or named in `current`, are
 * left out, nothing is removed, and nothing retries, waits or goes to the source. Returns
 * the parents it added edges to, possibly none.
 */
export function addMoreParents(
  child: Peer,
  selector: ParentSelector,
  current: Iterable<string>,
  onRound?: (round: number, selection: Selection) => void,
): Peer[] {
  const task = child.task;
  const exclude = new Set([...current, ...task.dag.parents(child.id)]);
  const selection = selector.select(child, { exclude });
  onRound?.(0, selection);
  const added: Peer[] = [];
  for (const parent of selection.parents) {
    if (task.canAddEdge(parent, child)) {
      task.addEdge(parent, child);
      added.push(parent);
    }
  }
  return added;
}
