import type { Host } from "../resource/host.js";
import type { Peer } from "../resource/peer.js";
import type { Task } from "../resource/task.js";
import type { ScheduleRetryOptions } from "../scheduling/options.js";
import type { ScheduleResponse } from "./types.js";

/** The announcement service's knobs (from config, some live from the manager). */
export interface AnnouncementOptions {
  retry: ScheduleRetryOptions;
  backToSourceLimit: number;
  /** A seed that failed a task is not asked again for this long (reference 30 min). */
  seedPeerFailedTimeoutMs: number;
  /** Base of the per-host register delay that damps thundering herds (reference 30 ms; 0 disables). */
  registerDelayBaseMs: number;
  /**
   * Distinct hosts that must report a parent for wrong bytes before it is blocked for the
   * whole task (one report blocks it for the reporter only, so a single lying child
   * cannot cut a good parent off from everyone).
   */
  badContentReporters?: number;
}

export const DEFAULT_ANNOUNCEMENT_OPTIONS: AnnouncementOptions = {
  retry: { retryLimit: 5, retryBackToSourceLimit: 4, retryIntervalMs: 500 },
  backToSourceLimit: 200,
  seedPeerFailedTimeoutMs: 30 * 60_000,
  registerDelayBaseMs: 30,
};

export interface AnnouncementEvents {
  onSchedule?(peer: Peer, response: ScheduleResponse, rounds: number): void;
  /** A more-parents request was answered with `added` (possibly none). */
  onMoreParents?(peer: Peer, added: readonly Peer[]): void;
  onSeedTrigger?(task: Task<Peer>, seed: Host, outcome: "started" | "failed", error?: unknown): void;
  /** A parent was blocked for the whole task: hosts of several peers got wrong bytes from it. */
  onParentBlocked?(task: Task<Peer>, parent: Peer): void;
}

