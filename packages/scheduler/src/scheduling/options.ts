/** The scheduling knobs that tokens and options name; types only, so that any file may import them. */

export interface ParentSelectionLimits {
  /** Parents handed to a child per round (reference default 3; manager range 1–20). */
  candidateParentLimit: number;
  /** Peers sampled per round before filtering (reference default 15; range 10–1000). */
  filterParentLimit: number;
}

export interface ScheduleRetryOptions {
  /** Rounds before the peer is failed (reference RetryLimit 5). */
  retryLimit: number;
  /** Rounds before the peer is sent to the source, quota allowing (reference 4). */
  retryBackToSourceLimit: number;
  /** Pause between rounds, jittered to [0.75×, 1.25×) (reference 500 ms). */
  retryIntervalMs: number;
}
