import type { manager } from "@df/rpc";
import type { SchedulerConfig } from "../config.js";
import type { ParentSelectionLimits } from "../scheduling/options.js";
import type { AnnouncementOptions } from "../service/announcement-options.js";

/** The scheduling values the manager may change at run time, with the ranges it may set. */
const LIVE_KEYS = {
  candidateParentLimit: { min: 1, max: 20 },
  filterParentLimit: { min: 1, max: 1000 },
  retryLimit: { min: 1, max: 100 },
  retryBackToSourceLimit: { min: 0, max: 100 },
  retryIntervalMs: { min: 1, max: 60_000 },
  backToSourceLimit: { min: 0, max: 1_000_000 },
} as const;

export type LiveKey = keyof typeof LIVE_KEYS;
export type LiveValues = Record<LiveKey, number>;

export interface AppliedConfig {
  /** Keys whose value changed, with the old and new value. */
  changed: Partial<Record<LiveKey, { from: number; to: number }>>;
  /** Keys the manager set out of range: the current value stays. */
  rejected: Partial<Record<LiveKey, number>>;
}

/**
 * The scheduling config in force: the local `scheduling` section, overridden by the
 * cluster's dynamic config from the manager. Readers take values at use, so a change
 * applies from the next scheduling round: parent selection reads `limits` every round,
 * the retry loop reads `options.retry` per schedule, and a new task reads
 * `backToSourceLimit`. Evaluators are plugins loaded at start and are not swapped live.
 */
export class LiveScheduling {
  readonly #local: LiveValues;
  #values: LiveValues;
  #limits: ParentSelectionLimits;

  /** `options` is the AnnouncementOptions object the scheduler uses; its values are updated in place. */
  constructor(
    scheduling: SchedulerConfig["scheduling"],
    readonly options: AnnouncementOptions,
  ) {
    this.#local = {
      candidateParentLimit: scheduling.candidateParentLimit,
      filterParentLimit: scheduling.filterParentLimit,
      retryLimit: scheduling.retryLimit,
      retryBackToSourceLimit: scheduling.retryBackToSourceLimit,
      retryIntervalMs: scheduling.retryInterval,
      backToSourceLimit: scheduling.backToSourceLimit,
    };
    this.#values = { ...this.#local };
    this.#limits = this.#limitsOf(this.#values);
    this.#write(this.#values);
  }

  /** Parent selection limits in force (a new object after each change). */
  get limits(): ParentSelectionLimits {
    return this.#limits;
  }

  get values(): Readonly<LiveValues> {
    return this.#values;
  }

  /**
   * Applies the manager's config: a value the manager leaves at 0 (proto3 "unset") falls
   * back to the local config; one out of range is refused and the current one kept.
   */
  apply(remote: manager.SchedulerClusterConfig): AppliedConfig {
    const next = { ...this.#values };
    const result: AppliedConfig = { changed: {}, rejected: {} };
    for (const key of Object.keys(LIVE_KEYS) as LiveKey[]) {
      const wanted = remote[key] || this.#local[key];
      const { min, max } = LIVE_KEYS[key];
      if (!Number.isInteger(wanted) || wanted < min || wanted > max) {
        result.rejected[key] = wanted;
        continue;
      }
      if (wanted !== next[key]) result.changed[key] = { from: next[key], to: wanted };
      next[key] = wanted;
    }
    if (Object.keys(result.changed).length > 0) {
      this.#values = next;
      this.#limits = this.#limitsOf(next);
      this.#write(next);
    }
    return result;
  }

  #limitsOf(values: LiveValues): ParentSelectionLimits {
    return { candidateParentLimit: values.candidateParentLimit, filterParentLimit: values.filterParentLimit };
  }

  #write(values: LiveValues): void {
    const { options } = this;
    options.retry.retryLimit = values.retryLimit;
    options.retry.retryBackToSourceLimit = values.retryBackToSourceLimit;
    options.retry.retryIntervalMs = values.retryIntervalMs;
    options.backToSourceLimit = values.backToSourceLimit;
  }
}
