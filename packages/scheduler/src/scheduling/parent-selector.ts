import "reflect-metadata";
import { Tokens, type Evaluator } from "@df/interface";
import { inject, injectable } from "tsyringe";
import { SchedulerTokens } from "../tokens.js";
import type { Peer } from "../resource/peer.js";
import type { ParentSelectionLimits } from "./options.js";

export type { ParentSelectionLimits } from "./options.js";

/** Why a sampled peer was not handed out; counted for metrics and debugging. */
export type FilterReason =
  | "blocked"
  | "not-shared"
  | "same-host"
  | "no-source"
  | "bad-parent"
  | "would-cycle";

export interface SelectOptions {
  /** Peers never to sample, such as the parents a child already has. */
  exclude?: ReadonlySet<string>;
}

export interface Selection {
  parents: Peer[];
  /** How many sampled peers each filter dropped. */
  dropped: Partial<Record<FilterReason, number>>;
  sampled: number;
}

/**
 * Picks a child's parents among the task's peers: sample, filter, score, keep the best.
 * `random` is injectable so tests can pin the sample.
 */
@injectable()
export class ParentSelector {
  readonly #filters: readonly Evaluator[];
  readonly #scorers: readonly Evaluator[];

  constructor(
    @inject(Tokens.Evaluators) evaluators: readonly Evaluator[],
    @inject(SchedulerTokens.SelectionLimits) private readonly limits: () => ParentSelectionLimits,
    @inject(SchedulerTokens.Random) private readonly random: () => number = Math.random,
  ) {
    this.#filters = evaluators.filter((e) => typeof e.isBadParent === "function");
    this.#scorers = evaluators.filter((e) => typeof e.score === "function");
  }

  select(child: Peer, options: SelectOptions = {}): Selection {
    const { candidateParentLimit, filterParentLimit } = this.limits();
    const task = child.task;
    const sample = this.#sample(task.dag.ids(), filterParentLimit, child.id, options.exclude);
    const dropped: Partial<Record<FilterReason, number>> = {};
    const drop = (reason: FilterReason) => {
      dropped[reason] = (dropped[reason] ?? 0) + 1;
    };
    const eligible: Peer[] = [];
    // Walked once for the whole sample, not once per candidate: for a peer that joined a
    // large task early, nearly every candidate is below it, and a walk per candidate cost
    // hundreds of milliseconds per reschedule at 10,000 peers.
    const below = task.dag.allowsCycles ? undefined : task.dag.descendants(child.id);
    for (const id of sample) {
      const parent = task.dag.get(id);
      if (!parent) continue;
      const reason = this.#rejection(parent, child, below);
      if (reason) drop(reason);
      else eligible.push(parent);
    }
    const context = { totalPieceCount: task.totalPieceCount };
    const scored = eligible.map((parent) => ({ parent, score: this.#score(parent, child, context) }));
    scored.sort((a, b) => b.score - a.score);
    return { parents: scored.slice(0, candidateParentLimit).map((s) => s.parent), dropped, sampled: sample.length };
  }

  #rejection(parent: Peer, child: Peer, below: ReadonlySet<string> | undefined): FilterReason | undefined {
    if (child.blockedParents.has(parent.id) || child.task.blockedParents.has(parent.id)) return "blocked";
    if (parent.host.info.disableShared) return "not-shared";
    if (parent.host.id === child.host.id) return "same-host";
    // A normal peer with no parent of its own, that neither fetches from the source nor
    // is done nor holds a piece yet, has nothing to give; a seed host is the exception
    // (it is about to fetch). One that holds pieces serves them whatever its parents.
    if (
      parent.host.type !== "seed" &&
      parent.task.dag.inDegree(parent.id) === 0 &&
      parent.state !== "back-to-source" &&
      parent.state !== "succeeded" &&
      parent.finishedPieceCount === 0
    ) {
      return "no-source";
    }
    if (this.#filters.some((f) => f.isBadParent!(parent))) return "bad-parent";
    // An existing edge is left out by the sample (current parents are excluded or their
    // edges dropped first), and the edge is checked again when it is added.
    if (below ? below.has(parent.id) : !child.task.canAddEdge(parent, child)) return "would-cycle";
    return undefined;
  }

  #score(parent: Peer, child: Peer, context: { totalPieceCount: number }): number {
    if (this.#scorers.length === 0) return 0;
    let total = 0;
    for (const scorer of this.#scorers) total += scorer.score!(parent, child, context);
    return total / this.#scorers.length;
  }

  /**
   * Up to `limit` IDs other than the child's and `exclude`, uniformly at random (partial
   * Fisher–Yates). Excluded peers are left out before sampling so they take no place in it.
   */
  #sample(ids: string[], limit: number, childId: string, exclude?: ReadonlySet<string>): string[] {
    const pool = ids.filter((id) => id !== childId && !exclude?.has(id));
    const count = Math.min(limit, pool.length);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(this.random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, count);
  }
}
