import { inject, injectable } from "tsyringe";
import { Tokens, type Clock } from "@df/interface";
import { manager } from "@df/rpc";
import type { ManagerConfig } from "../config.js";
import type { SchedulerClusterRow, SchedulerRow } from "../db/schema.js";
import type { SearchCluster } from "../searcher/searcher.js";
import { ManagerTokens } from "../tokens.js";
import { clusterToProto, schedulerToProto, seedPeerToProto } from "./convert.js";
import { FleetStore } from "./store.js";

/** What ListSchedulers returns for one cluster. */
export interface ClusterView {
  readonly row: SchedulerClusterRow;
  readonly schedulers: readonly manager.Scheduler[];
  /** The ListSchedulers answer, one object per fill (its encoding is reused). */
  readonly response: manager.ListSchedulersResponse;
}

/** The fleet as ListSchedulers sees it: every scheduler cluster and its live members. */
export interface FleetSnapshot {
  /** Every scheduler cluster, ready for the searcher. */
  readonly clusters: readonly SearchCluster[];
  /** The clusters with active schedulers: the searcher's candidates. */
  readonly candidates: readonly SearchCluster[];
  readonly rows: ReadonlyMap<number, SchedulerClusterRow>;
  /** Each cluster's answer (no schedulers when none is active). */
  readonly views: ReadonlyMap<number, ClusterView>;
  /** Search results by asker, valid while no cluster's scopes or liveness change. */
  readonly searches: Map<string, number | undefined>;
}

/**
 * One cached value, fresh for the TTL. After the TTL the last value is still served
 * while one refill runs, so a slow database delays freshness by the refill's duration,
 * not the callers. After a change this manager knows of (`drop`) callers wait for a
 * refill that started after it; drops while a refill runs share one next refill, so
 * a burst of changes costs two fills, not one each.
 */
class Entry<T> {
  #value: { v: T; generation: number; expires: number } | undefined;
  #generation = 0;
  #running: { generation: number; promise: Promise<T> } | undefined;
  #queued: Promise<T> | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly now: () => number,
  ) {}

  get(ttl: number): Promise<T> {
    const value = this.#value;
    const current = value !== undefined && value.generation === this.#generation;
    if (current && this.now() < value.expires) return Promise.resolve(value.v);
    const refill = this.#refill(ttl);
    return current ? Promise.resolve(value.v) : refill;
  }

  /**
   * The last value even if dropped, refilled in the background once the TTL is over;
   * waits only for the first fill.
   */
  latest(ttl: number): Promise<T> {
    const value = this.#value;
    if (!value) return this.get(ttl);
    if (this.now() >= value.expires) this.#refill(ttl).catch(() => {});
    return Promise.resolve(value.v);
  }

  /** Forgets the value: the next get waits for a refill that sees the change. */
  drop(): void {
    this.#generation++;
  }

  #refill(ttl: number): Promise<T> {
    if (this.#queued) return this.#queued;
    const running = this.#running;
    if (running?.generation === this.#generation) return running.promise;
    if (!running) return this.#start(ttl);
    // A fill from before the change is in flight: the next one starts when it ends.
    const queued = running.promise.then(
      () => this.#start(ttl),
      () => this.#start(ttl),
    );
    this.#queued = queued;
    return queued;
  }

  #start(ttl: number): Promise<T> {
    this.#queued = undefined;
    const generation = this.#generation;
    const started = this.now();
    const promise = this.load().then((v) => {
      if (!this.#value || this.#value.generation <= generation) this.#value = { v, generation, expires: started + ttl };
      return v;
    });
    const running = { generation, promise };
    this.#running = running;
    const done = () => {
      if (this.#running === running) this.#running = undefined;
    };
    promise.then(done, done);
    return promise;
  }
}

const MAX_SEARCHES = 10_000;

/**
 * The fleet's hot reads (ListSchedulers runs per peer, the keepalive stream reads its
 * cluster's config revision) served from memory: the clusters, active schedulers and
 * seed peers, filled by four queries and reused for `cache.ttl`. A change this manager
 * makes (liveness, REST writes) drops the snapshot at once; other managers' changes
 * show within the TTL.
 */
@injectable()
export class FleetCache {
  readonly #snapshot: Entry<FleetSnapshot>;
  readonly #ttl: number;
  #previous: { signature: string; snapshot: FleetSnapshot } | undefined;

  constructor(
    @inject(FleetStore) private readonly store: FleetStore,
    @inject(ManagerTokens.Config) config: ManagerConfig,
    @inject(Tokens.Clock) clock: Clock,
  ) {
    this.#ttl = config.cache.ttl;
    this.#snapshot = new Entry(
      () => this.#load(),
      () => clock.now(),
    );
  }

  snapshot(): Promise<FleetSnapshot> {
    return this.#snapshot.get(this.#ttl);
  }

  /**
   * The last snapshot even if a change dropped it, at most `cache.ttl` old: for reads
   * that may lag (the keepalive stream's config revision), so that a burst of liveness
   * changes does not make every keepalive wait for a fill.
   */
  latest(): Promise<FleetSnapshot> {
    return this.#snapshot.latest(this.#ttl);
  }

  /** A cluster's answer; undefined if there is no such cluster. */
  async view(clusterId: number): Promise<ClusterView | undefined> {
    return (await this.snapshot()).views.get(clusterId);
  }

  async #load(): Promise<FleetSnapshot> {
    const [rows, schedulers, seedPeers, links] = await Promise.all([
      this.store.clusters(),
      this.store.activeSchedulers(0),
      this.store.activeSeedPeers(0),
      this.store.seedPeerClusterLinks(),
    ]);
    const seedsBySeedCluster = new Map<number, manager.SeedPeer[]>();
    for (const s of seedPeers) push(seedsBySeedCluster, s.seed_peer_cluster_id, seedPeerToProto(s));
    const seedsByCluster = new Map<number, manager.SeedPeer[]>();
    for (const link of links) {
      for (const seed of seedsBySeedCluster.get(link.seed_peer_cluster_id) ?? []) push(seedsByCluster, link.scheduler_cluster_id, seed);
    }
    const schedulersByCluster = new Map<number, SchedulerRow[]>();
    for (const s of schedulers) push(schedulersByCluster, s.scheduler_cluster_id, s);

    const views = new Map<number, ClusterView>();
    for (const row of rows) {
      const active = schedulersByCluster.get(row.id) ?? [];
      const cluster = active.length ? clusterToProto(row) : undefined;
      const seeds = (seedsByCluster.get(row.id) ?? []).sort((a, b) => a.id - b.id);
      const answer = active.map((s) => schedulerToProto(s, cluster, seeds));
      views.set(row.id, { row, schedulers: answer, response: manager.ListSchedulersResponse.create({ schedulers: answer }) });
    }

    // Search results stay valid while no cluster's scopes, default flag or liveness
    // changed: carry them (and the compiled scopes) over to the new snapshot.
    const live = rows.filter((r) => schedulersByCluster.has(r.id)).map((r) => r.id);
    const signature = JSON.stringify([rows.map((r) => [r.id, r.is_default, r.scopes]), live]);
    const previous = this.#previous?.signature === signature ? this.#previous.snapshot : undefined;
    const clusters = previous?.clusters ?? rows.map((r) => ({ id: r.id, name: r.name, isDefault: r.is_default, scopes: r.scopes }));
    const snapshot: FleetSnapshot = {
      clusters,
      candidates: previous?.candidates ?? clusters.filter((c) => schedulersByCluster.has(c.id)),
      rows: new Map(rows.map((r) => [r.id, r])),
      views,
      searches: previous?.searches ?? new Map(),
    };
    this.#previous = { signature, snapshot };
    return snapshot;
  }

  /** Remembers a search result in the snapshot it was made from. */
  remember(snapshot: FleetSnapshot, key: string, clusterId: number | undefined): void {
    if (snapshot.searches.size >= MAX_SEARCHES) snapshot.searches.clear();
    snapshot.searches.set(key, clusterId);
  }

  /** Forgets what is cached (one snapshot holds every cluster): the next read waits for a refill. */
  invalidate(): void {
    this.#snapshot.drop();
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
