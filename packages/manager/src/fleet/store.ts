import { inject, injectable } from "tsyringe";
import { sql } from "kysely";
import { DfError } from "@df/interface";
import type { Database } from "../db/database.js";
import type { ApplicationRow, SchedulerClusterRow, SchedulerRow, SeedPeerClusterRow, SeedPeerRow } from "../db/schema.js";
import { ManagerTokens } from "../tokens.js";
import { DEFAULT_CLIENT_CONFIG, DEFAULT_CLUSTER_CONFIG, DEFAULT_SEED_CLIENT_CONFIG, DEFAULT_SEED_PEER_CLUSTER_CONFIG } from "../defaults.js";

export type MemberKind = "scheduler" | "seed-peer";

export interface SchedulerRegistration {
  hostname: string;
  ip: string;
  port: number;
  idc: string;
  location: string;
  features: readonly string[];
  version: string;
  /** 0: the default scheduler cluster. */
  clusterId: number;
}

export interface SeedPeerRegistration {
  hostname: string;
  ip: string;
  port: number;
  downloadPort: number;
  type: string;
  idc: string;
  location: string;
  version: string;
  /** 0: the first seed-peer cluster. */
  clusterId: number;
}

export interface MemberKey {
  kind: MemberKind;
  hostname: string;
  ip: string;
  clusterId: number;
}

export interface SeenPeer {
  hostname: string;
  ip: string;
  type: string;
  idc: string;
  location: string;
  version: string;
  commit: string;
  clusterId: number | undefined;
}

export type SeedPeerWithCluster = SeedPeerRow & { cluster: SeedPeerClusterRow };

/**
 * The fleet's rows: scheduler clusters, schedulers and seed peers, their liveness, the
 * peers seen. Every write is one statement with ON CONFLICT, so managers sharing one
 * PostgreSQL never create duplicates.
 */
@injectable()
export class FleetStore {
  constructor(@inject(ManagerTokens.Database) private readonly database: Database) {}

  /** Creates the default scheduler cluster and seed-peer cluster (linked) on an empty database. */
  async seedDefaults(): Promise<void> {
    await this.database.transaction(async (tx) => {
      await sql`insert into scheduler_clusters (name, bio, config, client_config, seed_client_config, scopes, is_default)
        select 'cluster-1', 'the default scheduler cluster', ${JSON.stringify(DEFAULT_CLUSTER_CONFIG)}, ${JSON.stringify(DEFAULT_CLIENT_CONFIG)},
          ${JSON.stringify(DEFAULT_SEED_CLIENT_CONFIG)}, '{}', true
        where not exists (select 1 from scheduler_clusters)
        on conflict do nothing`.execute(tx);
      await sql`insert into seed_peer_clusters (name, bio, config)
        select 'seed-peer-cluster-1', 'the default seed-peer cluster', ${JSON.stringify(DEFAULT_SEED_PEER_CLUSTER_CONFIG)}
        where not exists (select 1 from seed_peer_clusters)
        on conflict do nothing`.execute(tx);
      await sql`insert into scheduler_cluster_seed_peer_clusters (scheduler_cluster_id, seed_peer_cluster_id)
        select s.id, p.id from scheduler_clusters s, seed_peer_clusters p
        where s.name = 'cluster-1' and p.name = 'seed-peer-cluster-1'
          and not exists (select 1 from scheduler_cluster_seed_peer_clusters)
        on conflict do nothing`.execute(tx);
    });
  }

  async #schedulerClusterId(requested: number): Promise<number> {
    const row = await this.database.run((db) =>
      requested
        ? db.selectFrom("scheduler_clusters").select("id").where("id", "=", requested).executeTakeFirst()
        : db.selectFrom("scheduler_clusters").select("id").orderBy("is_default", "desc").orderBy("id").limit(1).executeTakeFirst(),
    );
    if (!row) {
      throw new DfError("NOT_FOUND", requested ? `scheduler cluster ${requested} does not exist` : "there is no scheduler cluster", {
        reason: "scheduler-cluster-not-found",
        details: { schedulerClusterId: requested },
      });
    }
    return row.id;
  }

  async #seedPeerClusterId(requested: number): Promise<number> {
    const row = await this.database.run((db) => {
      const q = db.selectFrom("seed_peer_clusters").select("id");
      return (requested ? q.where("id", "=", requested) : q.orderBy("id").limit(1)).executeTakeFirst();
    });
    if (!row) {
      throw new DfError("NOT_FOUND", requested ? `seed-peer cluster ${requested} does not exist` : "there is no seed-peer cluster", {
        reason: "seed-peer-cluster-not-found",
        details: { seedPeerClusterId: requested },
      });
    }
    return row.id;
  }

  /** Registers a scheduler or updates its row; its liveness is left as it is. */
  async upsertScheduler(r: SchedulerRegistration): Promise<SchedulerRow> {
    const clusterId = await this.#schedulerClusterId(r.clusterId);
    return this.database.run((db) =>
      db
        .insertInto("schedulers")
        .values({
          hostname: r.hostname,
          ip: r.ip,
          port: r.port,
          idc: r.idc,
          location: r.location,
          features: JSON.stringify(r.features),
          version: r.version,
          scheduler_cluster_id: clusterId,
        })
        .onConflict((oc) =>
          oc.columns(["hostname", "ip", "scheduler_cluster_id"]).doUpdateSet((eb) => ({
            port: eb.ref("excluded.port"),
            idc: eb.ref("excluded.idc"),
            location: eb.ref("excluded.location"),
            features: eb.ref("excluded.features"),
            version: eb.ref("excluded.version"),
            updated_at: sql<Date>`now()`,
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
  }

  /** Registers a seed peer or updates its row; its liveness is left as it is. */
  async upsertSeedPeer(r: SeedPeerRegistration): Promise<SeedPeerWithCluster> {
    const clusterId = await this.#seedPeerClusterId(r.clusterId);
    const row = await this.database.run((db) =>
      db
        .insertInto("seed_peers")
        .values({
          hostname: r.hostname,
          ip: r.ip,
          port: r.port,
          download_port: r.downloadPort,
          type: r.type || "super",
          idc: r.idc,
          location: r.location,
          version: r.version,
          seed_peer_cluster_id: clusterId,
        })
        .onConflict((oc) =>
          oc.columns(["hostname", "ip", "seed_peer_cluster_id"]).doUpdateSet((eb) => ({
            port: eb.ref("excluded.port"),
            download_port: eb.ref("excluded.download_port"),
            type: eb.ref("excluded.type"),
            idc: eb.ref("excluded.idc"),
            location: eb.ref("excluded.location"),
            version: eb.ref("excluded.version"),
            updated_at: sql<Date>`now()`,
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    const cluster = await this.database.run((db) =>
      db.selectFrom("seed_peer_clusters").selectAll().where("id", "=", clusterId).executeTakeFirstOrThrow(),
    );
    return { ...row, cluster };
  }

  async getScheduler(hostname: string, ip: string, clusterId: number): Promise<SchedulerRow | undefined> {
    return this.database.run((db) => {
      let q = db.selectFrom("schedulers").selectAll().where("hostname", "=", hostname).where("ip", "=", ip);
      if (clusterId) q = q.where("scheduler_cluster_id", "=", clusterId);
      return q.orderBy("id").executeTakeFirst();
    });
  }

  /**
   * A keepalive: marks the member active now. Returns the row's ID, cluster, whether it
   * was inactive before and the keepalive time the database recorded (to ms); undefined
   * when no such member is registered.
   */
  async touch(key: MemberKey): Promise<{ id: number; clusterId: number; wasInactive: boolean; at: Date } | undefined> {
    const table = key.kind === "scheduler" ? sql.table("schedulers") : sql.table("seed_peers");
    const clusterColumn = key.kind === "scheduler" ? sql.ref("scheduler_cluster_id") : sql.ref("seed_peer_cluster_id");
    const found = await this.database.run((db) =>
      sql<{ id: number; cluster_id: number; was: string; at: Date }>`
        update ${table} m set state = 'active', last_keepalive_at = date_trunc('milliseconds', now())
        from (select id, state from ${table} where hostname = ${key.hostname} and ip = ${key.ip}
              and (${key.clusterId}::bigint = 0 or ${clusterColumn} = ${key.clusterId}) order by id limit 1 for update) old
        where m.id = old.id
        returning m.id, m.${clusterColumn} as cluster_id, old.state as was, m.last_keepalive_at as at`.execute(db),
    );
    const row = found.rows[0];
    return row ? { id: Number(row.id), clusterId: Number(row.cluster_id), wasInactive: row.was !== "active", at: row.at } : undefined;
  }

  /**
   * Keepalives of members known by ID, in one statement: marks them active now. Returns
   * what `touch` does for each member still registered (rows locked in ID order, so
   * managers flushing at once never deadlock on each other).
   */
  async touchMany(kind: MemberKind, ids: readonly number[]): Promise<Array<{ id: number; clusterId: number; wasInactive: boolean; at: Date }>> {
    if (ids.length === 0) return [];
    const table = kind === "scheduler" ? sql.table("schedulers") : sql.table("seed_peers");
    const clusterColumn = kind === "scheduler" ? sql.ref("scheduler_cluster_id") : sql.ref("seed_peer_cluster_id");
    const found = await this.database.run((db) =>
      sql<{ id: number; cluster_id: number; was: string; at: Date }>`
        update ${table} m set state = 'active', last_keepalive_at = date_trunc('milliseconds', now())
        from (select id, state from ${table} where id = any(${[...ids]}::bigint[]) order by id for update) old
        where m.id = old.id
        returning m.id, m.${clusterColumn} as cluster_id, old.state as was, m.last_keepalive_at as at`.execute(db),
    );
    return found.rows.map((row) => ({ id: Number(row.id), clusterId: Number(row.cluster_id), wasInactive: row.was !== "active", at: row.at }));
  }

  /**
   * Marks one member inactive (its stream broke or went silent), unless it sent a
   * keepalive after `lastBeat` (on another stream, maybe to another manager).
   */
  async deactivate(kind: MemberKind, id: number, lastBeat: Date): Promise<boolean> {
    const table = kind === "scheduler" ? "schedulers" : "seed_peers";
    const result = await this.database.run((db) =>
      db
        .updateTable(table)
        .set({ state: "inactive", updated_at: sql<Date>`now()` })
        .where("id", "=", id)
        .where("state", "=", "active")
        .where("last_keepalive_at", "<=", lastBeat)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Marks inactive every active member whose last keepalive is older than `timeoutMs`,
   * whichever manager held its stream (one that died cannot do it). Returns the
   * scheduler clusters whose schedulers changed and the seed-peer clusters likewise.
   */
  async sweep(timeoutMs: number): Promise<{ schedulerClusters: number[]; seedPeerClusters: number[] }> {
    const seconds = timeoutMs / 1000;
    return this.database.run(async (db) => {
      const schedulers = await sql<{ cluster: number }>`
        update schedulers set state = 'inactive', updated_at = now()
        where state = 'active' and (last_keepalive_at is null or last_keepalive_at < now() - make_interval(secs => ${seconds}))
        returning scheduler_cluster_id as cluster`.execute(db);
      const seeds = await sql<{ cluster: number }>`
        update seed_peers set state = 'inactive', updated_at = now()
        where state = 'active' and (last_keepalive_at is null or last_keepalive_at < now() - make_interval(secs => ${seconds}))
        returning seed_peer_cluster_id as cluster`.execute(db);
      return {
        schedulerClusters: [...new Set(schedulers.rows.map((r) => Number(r.cluster)))],
        seedPeerClusters: [...new Set(seeds.rows.map((r) => Number(r.cluster)))],
      };
    });
  }

  async clusters(): Promise<SchedulerClusterRow[]> {
    return this.database.run((db) => db.selectFrom("scheduler_clusters").selectAll().orderBy("id").execute());
  }

  async cluster(id: number): Promise<SchedulerClusterRow | undefined> {
    return this.database.run((db) => db.selectFrom("scheduler_clusters").selectAll().where("id", "=", id).executeTakeFirst());
  }

  /** Active schedulers of one scheduler cluster (of all clusters when 0), by cluster and ID. */
  async activeSchedulers(clusterId: number): Promise<SchedulerRow[]> {
    return this.database.run((db) => {
      const q = db.selectFrom("schedulers").selectAll().where("state", "=", "active");
      return (clusterId ? q.where("scheduler_cluster_id", "=", clusterId) : q).orderBy("scheduler_cluster_id").orderBy("id").execute();
    });
  }

  /** Which seed-peer clusters each scheduler cluster uses. */
  async seedPeerClusterLinks(): Promise<Array<{ scheduler_cluster_id: number; seed_peer_cluster_id: number }>> {
    return this.database.run((db) => db.selectFrom("scheduler_cluster_seed_peer_clusters").selectAll().execute());
  }

  /** Active seed peers of the seed-peer clusters linked to a scheduler cluster (all clusters when 0). */
  async activeSeedPeers(schedulerClusterId: number): Promise<SeedPeerWithCluster[]> {
    return this.database.run(async (db) => {
      let q = db
        .selectFrom("seed_peers as p")
        .innerJoin("seed_peer_clusters as c", "c.id", "p.seed_peer_cluster_id")
        .selectAll("p")
        .select([
          "c.id as c_id",
          "c.name as c_name",
          "c.bio as c_bio",
          "c.config as c_config",
          "c.created_at as c_created_at",
          "c.updated_at as c_updated_at",
        ])
        .where("p.state", "=", "active");
      if (schedulerClusterId) {
        q = q.where("p.seed_peer_cluster_id", "in", (eb) =>
          eb.selectFrom("scheduler_cluster_seed_peer_clusters").select("seed_peer_cluster_id").where("scheduler_cluster_id", "=", schedulerClusterId),
        );
      }
      const rows = await q.orderBy("p.id").execute();
      return rows.map(({ c_id, c_name, c_bio, c_config, c_created_at, c_updated_at, ...peer }) => ({
        ...peer,
        cluster: { id: c_id, name: c_name, bio: c_bio, config: c_config, created_at: c_created_at, updated_at: c_updated_at },
      }));
    });
  }

  /** Members by kind and state, for metrics. */
  async memberCounts(): Promise<Array<{ kind: MemberKind; state: string; count: number }>> {
    const rows = await this.database.run((db) =>
      sql<{ kind: MemberKind; state: string; count: number }>`
        select 'scheduler' as kind, state, count(*)::int as count from schedulers group by state
        union all select 'seed-peer' as kind, state, count(*)::int as count from seed_peers group by state`.execute(db),
    );
    return rows.rows;
  }

  async applications(): Promise<ApplicationRow[]> {
    return this.database.run((db) => db.selectFrom("applications").selectAll().orderBy("id").execute());
  }

  /**
   * Upserts the peers seen asking for schedulers (batched by the caller, one row per
   * hostname and IP). Columns go as arrays: a few parameters instead of nine a peer,
   * which costs a third as much.
   */
  async recordPeers(peers: readonly SeenPeer[]): Promise<void> {
    if (peers.length === 0) return;
    const column = <T>(pick: (p: SeenPeer) => T) => peers.map(pick);
    await this.database.run((db) =>
      sql`insert into peers (hostname, ip, type, idc, location, version, commit, scheduler_cluster_id, last_seen_at)
        select hostname, ip, type, idc, location, version, commit, cluster, now()
        from unnest(${column((p) => p.hostname)}::text[], ${column((p) => p.ip)}::text[], ${column((p) => p.type)}::text[],
          ${column((p) => p.idc)}::text[], ${column((p) => p.location)}::text[], ${column((p) => p.version)}::text[],
          ${column((p) => p.commit)}::text[], ${column((p) => p.clusterId ?? null)}::bigint[])
          as seen (hostname, ip, type, idc, location, version, commit, cluster)
        on conflict (hostname, ip) do update set type = excluded.type, idc = excluded.idc, location = excluded.location,
          version = excluded.version, commit = excluded.commit, scheduler_cluster_id = excluded.scheduler_cluster_id,
          state = 'active', last_seen_at = now(), updated_at = now()`.execute(db),
    );
  }
}
