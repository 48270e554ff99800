import { inject, injectable } from "tsyringe";
import { Tokens, type Clock } from "@df/interface";
import { manager } from "@df/rpc";
import type { ManagerConfig } from "../config.js";
import type { SchedulerClusterRow } from "../db/schema.js";
import type { SearchCluster } from "../searcher/searcher.js";
import { ManagerTokens } from "../tokens.js";
import { clusterToProto, schedulerToProto, seedPeerToProto } from "./convert.js";
import { FleetStore } from "./store.js";

/** Every scheduler cluster, ready for the searcher, and which have live schedulers. */
export interface ClusterSnapshot {
  readonly clusters: readonly SearchCluster[];
  readonly rows: ReadonlyMap<number, SchedulerClusterRow>;
  readonly withActiveSchedulers: ReadonlySet<number>;
  /** Search results by asker, valid for this snapshot only. */
  readonly searches: Map<string, number | undefined>;
}

/** What ListSchedulers returns for one cluster. */
export interface ClusterView {
  readonly row: SchedulerClusterRow;
  readonly schedulers: readonly manager.Scheduler[];
  /** The ListSchedulers answer, one object per fill (its encoding is reused). */
  readonly response: manager.ListSchedulersResponse;
}

/**
 * One cached value, fresh until `expires`. After the TTL the last value is still served
 * while one refill runs, so a slow database delays freshness by the refill's duration,
 * not the callers. A change this manager knows of (`drop`) is never served stale:
 * callers wait for the refill.
 */
class Entry<T> {
  #value: { v: T } | undefined;
  #pending: Promise<T> | undefined;
  #expires = 0;

  constructor(private readonly load: () => Promise<T>) {}

  get(now: number, ttl: number): Promise<T> {
    if (this.#value && now < this.#expires) return Promise.resolve(this.#value.v);
    if (!this.#pending) {
      const pending = this.load();
      this.#pending = pending;
      pending.then(
        (v) => {
          if (this.#pending === pending) {
            this.#value = { v };
            this.#expires = now + ttl;
            this.#pending = undefined;
          }
        },
        () => {
          if (this.#pending === pending) this.#pending = undefined;
        },
      );
    }
    return this.#value ? Promise.resolve(this.#value.v) : this.#pending;
  }

  /** Forgets the value: the next get waits for a refill. */
  drop(): void {
    this.#value = undefined;
    this.#pending = undefined;
  }
}

const MAX_SEARCHES = 10_000;

/**
 * Short-lived caches in front of the database for the fleet's hot reads (ListSchedulers
 * runs per peer): the cluster list and each cluster's active schedulers, each reused
 * for `cache.ttl` and filled by one query at a time. A keepalive state change on this
 * manager drops the cluster's entry at once; other managers see it within the TTL.
 */
@injectable()
export class FleetCache {
  readonly #snapshot: Entry<ClusterSnapshot>;
  readonly #views = new Map<number, Entry<ClusterView | undefined>>();
  readonly #ttl: number;
  #previous: { signature: string; snapshot: ClusterSnapshot } | undefined;

  constructor(
    @inject(FleetStore) private readonly store: FleetStore,
    @inject(ManagerTokens.Config) config: ManagerConfig,
    @inject(Tokens.Clock) private readonly clock: Clock,
  ) {
    this.#ttl = config.cache.ttl;
    this.#snapshot = new Entry(() => this.#loadSnapshot());
  }

  snapshot(): Promise<ClusterSnapshot> {
    return this.#snapshot.get(this.clock.now(), this.#ttl);
  }

  async #loadSnapshot(): Promise<ClusterSnapshot> {
    const [rows, active] = await Promise.all([this.store.clusters(), this.store.clustersWithActiveSchedulers()]);
    // Search results stay valid while no cluster's scopes, default flag or liveness
    // changed: carry them (and the compiled scopes) over to the new snapshot.
    const signature = JSON.stringify([rows.map((r) => [r.id, r.is_default, r.scopes]), [...active].sort((a, b) => a - b)]);
    const previous = this.#previous?.signature === signature ? this.#previous.snapshot : undefined;
    const snapshot: ClusterSnapshot = {
      clusters: previous?.clusters ?? rows.map((r) => ({ id: r.id, name: r.name, isDefault: r.is_default, scopes: r.scopes })),
      rows: new Map(rows.map((r) => [r.id, r])),
      withActiveSchedulers: active,
      searches: previous?.searches ?? new Map(),
    };
    this.#previous = { signature, snapshot };
    return snapshot;
  }

  /** A cluster's active schedulers with the cluster and its seed peers; undefined if no such cluster. */
  view(clusterId: number): Promise<ClusterView | undefined> {
    let entry = this.#views.get(clusterId);
    if (!entry) {
      entry = new Entry(() => this.#loadView(clusterId));
      this.#views.set(clusterId, entry);
    }
    return entry.get(this.clock.now(), this.#ttl);
  }

  async #loadView(clusterId: number): Promise<ClusterView | undefined> {
    const [row, schedulers, seedPeers] = await Promise.all([
      this.store.cluster(clusterId),
      this.store.activeSchedulers(clusterId),
      this.store.activeSeedPeers(clusterId),
    ]);
    if (!row) return undefined;
    const cluster = clusterToProto(row);
    const seeds = seedPeers.map(seedPeerToProto);
    const answer = schedulers.map((s) => schedulerToProto(s, cluster, seeds));
    return { row, schedulers: answer, response: manager.ListSchedulersResponse.create({ schedulers: answer }) };
  }

  /** Remembers a search result in the snapshot it was made from. */
  remember(snapshot: ClusterSnapshot, key: string, clusterId: number | undefined): void {
    if (snapshot.searches.size >= MAX_SEARCHES) snapshot.searches.clear();
    snapshot.searches.set(key, clusterId);
  }

  /** Forgets what is cached about a cluster (and the cluster list). */
  invalidate(clusterId?: number): void {
    this.#snapshot.drop();
    if (clusterId === undefined) for (const entry of this.#views.values()) entry.drop();
    else this.#views.get(clusterId)?.drop();
  }
}
