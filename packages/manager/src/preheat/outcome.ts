/** One host's part of one URL's preheat, as the scheduler reported it. */
export interface SeedPeerOutcome {
  hostId: string;
  hostname: string;
  ip: string;
  success: boolean;
  description: string;
  costMs: number;
}

/** One URL on one scheduler cluster. */
export interface UrlOutcome {
  url: string;
  clusterId: number;
  scheduler?: string;
  taskId?: string;
  contentLength?: number;
  success: boolean;
  /** Why it failed; empty on success. */
  description: string;
  seedPeers: SeedPeerOutcome[];
}

/** A preheat job's result as stored on the job (snake_case like the REST API). */
export interface PreheatSummary {
  [key: string]: unknown;
  total: number;
  succeeded: number;
  failed: number;
  urls: Record<string, unknown>[];
}

export function summarise(outcomes: readonly UrlOutcome[], total: number): PreheatSummary {
  const succeeded = outcomes.filter((o) => o.success).length;
  return {
    total,
    succeeded,
    failed: outcomes.length - succeeded,
    urls: outcomes.map((o) => ({
      url: o.url,
      scheduler_cluster_id: o.clusterId,
      ...(o.scheduler ? { scheduler: o.scheduler } : {}),
      ...(o.taskId ? { task_id: o.taskId } : {}),
      ...(o.contentLength !== undefined ? { content_length: o.contentLength } : {}),
      state: o.success ? "SUCCESS" : "FAILURE",
      ...(o.description ? { description: o.description } : {}),
      seed_peers: o.seedPeers.map((s) => ({
        host_id: s.hostId,
        hostname: s.hostname,
        ip: s.ip,
        state: s.success ? "SUCCESS" : "FAILURE",
        ...(s.description ? { description: s.description } : {}),
        cost_ms: s.costMs,
      })),
    })),
  };
}
