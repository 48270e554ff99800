import type { ClientConfigJson, SchedulerClusterConfigJson } from "./db/schema.js";

/** A new scheduler cluster's scheduling parameters (the scheduler's own defaults). */
export const DEFAULT_CLUSTER_CONFIG: SchedulerClusterConfigJson = {
  candidateParentLimit: 3,
  filterParentLimit: 15,
  evaluator: { name: "score", options: {} },
  backToSourceLimit: 200,
  retryLimit: 5,
  retryBackToSourceLimit: 4,
  retryIntervalMs: 500,
  jobRateLimit: 10,
};

export const DEFAULT_CLIENT_CONFIG: ClientConfigJson = { loadLimit: 200, blockList: [] };
export const DEFAULT_SEED_CLIENT_CONFIG: ClientConfigJson = { loadLimit: 2000, blockList: [] };
export const DEFAULT_SEED_PEER_CLUSTER_CONFIG: ClientConfigJson = { loadLimit: 2000, blockList: [] };
