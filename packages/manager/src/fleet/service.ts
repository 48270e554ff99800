import { inject, injectable } from "tsyringe";
import { DfError, Tokens, type Logger } from "@df/interface";
import { manager, type ServiceHandlers } from "@df/rpc";
import { ManagerTokens } from "../tokens.js";
import type { Searcher } from "../searcher/searcher.js";
import { applicationToProto, clientConfigToProto, clusterConfigToProto, schedulerToProto, seedPeerToProto, clusterToProto } from "./convert.js";
import { FleetCache } from "./cache.js";
import { KeepAliveTracker } from "./keepalive.js";
import { PeerRecorder } from "./peers.js";
import { FleetStore, type MemberKind } from "./store.js";

function memberKind(sourceType: manager.SourceType, method: string): MemberKind {
  if (sourceType === manager.SourceType.SCHEDULER) return "scheduler";
  if (sourceType === manager.SourceType.SEED_PEER) return "seed-peer";
  throw new DfError("INVALID_ARGUMENT", `${method}: source_type must be SCHEDULER or SEED_PEER, got ${manager.sourceTypeToJSON(sourceType)}`, {
    reason: "invalid-source-type",
  });
}

function required(value: string, field: string, method: string): string {
  if (!value) throw new DfError("INVALID_ARGUMENT", `${method}: ${field} is required`, { reason: "missing-field", details: { field } });
  return value;
}

const EMPTY_LIST = manager.ListSchedulersResponse.create();

/**
 * The Manager service definition with ListSchedulers answers encoded once per cached
 * object: the same cluster view is sent to thousands of peers between cache fills.
 */
export function managerServiceDefinition(): typeof manager.ManagerService {
  const encoded = new WeakMap<manager.ListSchedulersResponse, Buffer>();
  const method = manager.ManagerService.listSchedulers;
  return {
    ...manager.ManagerService,
    listSchedulers: {
      ...method,
      responseSerialize: (value: manager.ListSchedulersResponse): Buffer => {
        let bytes = encoded.get(value);
        if (!bytes) {
          bytes = method.responseSerialize(value);
          encoded.set(value, bytes);
        }
        return bytes;
      },
    },
  };
}

/** Counts the fleet service reports to metrics. */
export interface FleetServiceEvents {
  onListSchedulers?(outcome: "searched" | "explicit" | "none"): void;
}

/** The Manager gRPC service (df.manager.v1.Manager): the fleet's side of the manager. */
@injectable()
export class FleetService {
  events: FleetServiceEvents = {};

  constructor(
    @inject(FleetStore) private readonly store: FleetStore,
    @inject(FleetCache) private readonly cache: FleetCache,
    @inject(KeepAliveTracker) private readonly keepalive: KeepAliveTracker,
    @inject(PeerRecorder) private readonly peers: PeerRecorder,
    @inject(ManagerTokens.Searcher) private readonly searcher: Searcher,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {}

  /** The scheduler cluster a peer gets: explicit, or the searcher's best with live schedulers. */
  async pickCluster(request: manager.ListSchedulersRequest): Promise<number | undefined> {
    if (request.schedulerClusterId) return request.schedulerClusterId;
    const snapshot = await this.cache.snapshot();
    const key = `${request.hostname}\u0000${request.ip}\u0000${request.idc ?? ""}\u0000${request.location ?? ""}`;
    if (snapshot.searches.has(key)) return snapshot.searches.get(key);
    const candidates = snapshot.candidates;
    const asker = {
      hostname: request.hostname,
      ip: request.ip,
      ...(request.idc !== undefined ? { idc: request.idc } : {}),
      ...(request.location !== undefined ? { location: request.location } : {}),
    };
    const best = candidates.length ? this.searcher.search(candidates, asker)[0]?.id : undefined;
    this.cache.remember(snapshot, key, best);
    return best;
  }

  handlers(): ServiceHandlers<manager.ManagerService> {
    return {
      listSchedulers: async (request) => {
        const clusterId = await this.pickCluster(request);
        if (request.sourceType === manager.SourceType.PEER || request.sourceType === manager.SourceType.UNSPECIFIED) {
          if (request.hostname && request.ip) this.peers.seen(request, clusterId);
        }
        if (clusterId === undefined) {
          this.events.onListSchedulers?.("none");
          return EMPTY_LIST;
        }
        const view = await this.cache.view(clusterId);
        if (!view && request.schedulerClusterId) {
          throw new DfError("NOT_FOUND", `scheduler cluster ${clusterId} does not exist`, { reason: "scheduler-cluster-not-found" });
        }
        this.events.onListSchedulers?.(request.schedulerClusterId ? "explicit" : "searched");
        return view ? view.response : EMPTY_LIST;
      },

      getScheduler: async (request) => {
        const row = await this.store.getScheduler(required(request.hostname, "hostname", "GetScheduler"), required(request.ip, "ip", "GetScheduler"), request.schedulerClusterId);
        if (!row) {
          throw new DfError("NOT_FOUND", `no scheduler ${request.hostname} (${request.ip}) in cluster ${request.schedulerClusterId || "any"}`, {
            reason: "scheduler-not-found",
          });
        }
        const [cluster, seeds] = await Promise.all([this.store.cluster(row.scheduler_cluster_id), this.store.activeSeedPeers(row.scheduler_cluster_id)]);
        return manager.GetSchedulerResponse.create({
          scheduler: schedulerToProto(row, cluster ? clusterToProto(cluster) : undefined, seeds.map(seedPeerToProto)),
        });
      },

      updateScheduler: async (request) => {
        const row = await this.store.upsertScheduler({
          hostname: required(request.hostname, "hostname", "UpdateScheduler"),
          ip: required(request.ip, "ip", "UpdateScheduler"),
          port: request.port,
          idc: request.idc,
          location: request.location,
          features: request.features.length ? request.features : ["schedule", "preheat"],
          version: request.version,
          clusterId: request.schedulerClusterId,
        });
        this.logger.info("scheduler registered", { id: row.id, hostname: row.hostname, ip: row.ip, port: row.port, cluster: row.scheduler_cluster_id });
        const cluster = await this.store.cluster(row.scheduler_cluster_id);
        return manager.UpdateSchedulerResponse.create({ scheduler: schedulerToProto(row, cluster ? clusterToProto(cluster) : undefined) });
      },

      updateSeedPeer: async (request) => {
        const row = await this.store.upsertSeedPeer({
          hostname: required(request.hostname, "hostname", "UpdateSeedPeer"),
          ip: required(request.ip, "ip", "UpdateSeedPeer"),
          port: request.port,
          downloadPort: request.downloadPort,
          type: request.type,
          idc: request.idc,
          location: request.location,
          version: request.version,
          clusterId: request.seedPeerClusterId,
        });
        this.logger.info("seed peer registered", { id: row.id, hostname: row.hostname, ip: row.ip, port: row.port, cluster: row.seed_peer_cluster_id });
        return manager.UpdateSeedPeerResponse.create({ seedPeer: seedPeerToProto(row) });
      },

      listSeedPeers: async (request) => {
        const rows = await this.store.activeSeedPeers(request.schedulerClusterId);
        return manager.ListSeedPeersResponse.create({ seedPeers: rows.map(seedPeerToProto) });
      },

      getSchedulerClusterConfig: async (request) => {
        const id = request.schedulerClusterId;
        const row = id ? await this.store.cluster(id) : undefined;
        if (!row) {
          throw new DfError("NOT_FOUND", `scheduler cluster ${id} does not exist`, { reason: "scheduler-cluster-not-found", details: { schedulerClusterId: id } });
        }
        return manager.GetSchedulerClusterConfigResponse.create({
          config: clusterConfigToProto(row),
          clientConfig: clientConfigToProto(row.client_config),
          seedClientConfig: clientConfigToProto(row.seed_client_config),
          configRevision: row.config_revision,
        });
      },

      listApplications: async () => {
        const rows = await this.store.applications();
        return manager.ListApplicationsResponse.create({ applications: rows.map(applicationToProto) });
      },

      keepAlive: (requests) => this.#keepAlive(requests),
    };
  }

  /** A cluster's config revision; may lag a change by one cache fill, unless the cluster is new to it. */
  async #configRevision(clusterId: number): Promise<number> {
    const row = (await this.cache.latest()).rows.get(clusterId) ?? (await this.cache.snapshot()).rows.get(clusterId);
    return row?.config_revision ?? 0;
  }

  async *#keepAlive(requests: AsyncIterable<manager.KeepAliveRequest>): AsyncIterable<manager.KeepAliveResponse> {
    const session = this.keepalive.open();
    let sentRevision: number | undefined;
    try {
      for await (const request of requests) {
        const kind = memberKind(request.sourceType, "KeepAlive");
        const key = {
          kind,
          hostname: required(request.hostname, "hostname", "KeepAlive"),
          ip: required(request.ip, "ip", "KeepAlive"),
          clusterId: request.clusterId,
        };
        const member = await session.beat(key);
        if (!member) {
          throw new DfError(
            "FAILED_PRECONDITION",
            `KeepAlive: no ${kind} ${key.hostname} (${key.ip}) in cluster ${key.clusterId || "any"}; register with ${kind === "scheduler" ? "UpdateScheduler" : "UpdateSeedPeer"} first`,
            { reason: "member-not-registered", details: { ...key } },
          );
        }
        // Tell a scheduler its cluster's configuration changed, so it refetches now.
        const revision = kind === "scheduler" ? await this.#configRevision(member.clusterId) : 0;
        if (revision !== sentRevision) {
          sentRevision = revision;
          yield manager.KeepAliveResponse.create({ configRevision: revision });
        }
      }
    } finally {
      await session.end();
    }
  }
}
