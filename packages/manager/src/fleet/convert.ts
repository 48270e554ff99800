import { manager } from "@df/rpc";
import type { ApplicationRow, ClientConfigJson, SchedulerClusterRow, SchedulerRow, SeedPeerClusterRow } from "../db/schema.js";
import { DEFAULT_CLUSTER_CONFIG } from "../defaults.js";
import type { SeedPeerWithCluster } from "./store.js";

const state = (s: string): manager.MemberState => (s === "active" ? manager.MemberState.ACTIVE : manager.MemberState.INACTIVE);

export function clientConfigToProto(config: ClientConfigJson | undefined): manager.ClientConfig {
  return manager.ClientConfig.create({ loadLimit: config?.loadLimit ?? 0, blockList: config?.blockList ?? [] });
}

export function clusterConfigToProto(row: SchedulerClusterRow): manager.SchedulerClusterConfig {
  const c = { ...DEFAULT_CLUSTER_CONFIG, ...row.config };
  return manager.SchedulerClusterConfig.create({
    candidateParentLimit: c.candidateParentLimit,
    filterParentLimit: c.filterParentLimit,
    evaluator: c.evaluator?.name ?? "",
    evaluatorOptions: c.evaluator?.options ?? {},
    backToSourceLimit: c.backToSourceLimit ?? 0,
    retryLimit: c.retryLimit ?? 0,
    retryBackToSourceLimit: c.retryBackToSourceLimit ?? 0,
    retryIntervalMs: c.retryIntervalMs ?? 0,
    jobRateLimit: c.jobRateLimit ?? 0,
  });
}

export function clusterToProto(row: SchedulerClusterRow): manager.SchedulerCluster {
  return manager.SchedulerCluster.create({
    id: row.id,
    name: row.name,
    bio: row.bio,
    config: clusterConfigToProto(row),
    clientConfig: clientConfigToProto(row.client_config),
    seedClientConfig: clientConfigToProto(row.seed_client_config),
    scopes: manager.SchedulerClusterScopes.create({
      idc: row.scopes.idc ?? "",
      location: row.scopes.location ?? "",
      cidrs: row.scopes.cidrs ?? [],
      hostnames: row.scopes.hostnames ?? [],
    }),
    isDefault: row.is_default,
  });
}

export function seedPeerClusterToProto(row: SeedPeerClusterRow): manager.SeedPeerCluster {
  return manager.SeedPeerCluster.create({ id: row.id, name: row.name, bio: row.bio, config: clientConfigToProto(row.config) });
}

export function seedPeerToProto(row: SeedPeerWithCluster): manager.SeedPeer {
  return manager.SeedPeer.create({
    id: row.id,
    hostname: row.hostname,
    type: row.type,
    idc: row.idc,
    location: row.location,
    ip: row.ip,
    port: row.port,
    downloadPort: row.download_port,
    state: state(row.state),
    seedPeerClusterId: row.seed_peer_cluster_id,
    seedPeerCluster: seedPeerClusterToProto(row.cluster),
  });
}

export function schedulerToProto(
  row: SchedulerRow,
  cluster?: manager.SchedulerCluster,
  seedPeers: readonly manager.SeedPeer[] = [],
): manager.Scheduler {
  return manager.Scheduler.create({
    id: row.id,
    hostname: row.hostname,
    ip: row.ip,
    port: row.port,
    idc: row.idc,
    location: row.location,
    state: state(row.state),
    features: row.features,
    schedulerClusterId: row.scheduler_cluster_id,
    ...(cluster ? { schedulerCluster: cluster } : {}),
    seedPeers: [...seedPeers],
    ...(row.last_keepalive_at ? { lastKeepAliveAt: row.last_keepalive_at } : {}),
  });
}

export function applicationToProto(row: ApplicationRow): manager.Application {
  return manager.Application.create({
    id: row.id,
    name: row.name,
    url: row.url,
    bio: row.bio,
    // Stored as upstream's levels 0–6; the wire adds one (0 means "not set").
    priority: manager.ApplicationPriority.create({
      value: row.priority.value + 1,
      urls: row.priority.urls.map((u) => manager.PriorityUrl.create({ regex: u.regex, value: u.value + 1 })),
    }),
  });
}
