import { sql } from "kysely";
import { z } from "zod";
import type { Db, Tx } from "../../db/database.js";
import type { ClientConfigJson, SchedulerClusterConfigJson, SchedulerClusterRow, SeedPeerClusterRow } from "../../db/schema.js";
import { DEFAULT_CLIENT_CONFIG, DEFAULT_CLUSTER_CONFIG, DEFAULT_SEED_CLIENT_CONFIG, DEFAULT_SEED_PEER_CLUSTER_CONFIG } from "../../defaults.js";
import type { Route } from "../context.js";
import { crudRoutes } from "../crud.js";
import type { RouteDeps } from "../deps.js";
import * as s from "../schemas.js";
import { checkIds, defined, json } from "./common.js";

type ClusterInput = z.output<typeof s.schedulerClusterCreate>;
type SeedClusterInput = z.output<typeof s.seedPeerClusterCreate>;

function mergeClusterConfig(current: SchedulerClusterConfigJson, patch: ClusterInput["config"]): SchedulerClusterConfigJson {
  return { ...current, ...defined({ ...patch }) } as SchedulerClusterConfigJson;
}

function mergeClient(current: ClientConfigJson, patch: { loadLimit?: number | undefined; blockList?: string[] | undefined } | undefined): ClientConfigJson {
  return { ...current, ...defined({ ...patch }) };
}

// Which seed-peer clusters serve a scheduler cluster: rows of
// scheduler_cluster_seed_peer_clusters, read and written from either side.

async function seedPeerClusterIdsOf(db: Db, ids: readonly number[]): Promise<Map<number, number[]>> {
  const links = await db
    .selectFrom("scheduler_cluster_seed_peer_clusters")
    .select(["scheduler_cluster_id", "seed_peer_cluster_id"])
    .where("scheduler_cluster_id", "in", ids)
    .orderBy("seed_peer_cluster_id")
    .execute();
  return groupLinks(ids, links.map((l) => [l.scheduler_cluster_id, l.seed_peer_cluster_id]));
}

async function schedulerClusterIdsOf(db: Db, ids: readonly number[]): Promise<Map<number, number[]>> {
  const links = await db
    .selectFrom("scheduler_cluster_seed_peer_clusters")
    .select(["seed_peer_cluster_id", "scheduler_cluster_id"])
    .where("seed_peer_cluster_id", "in", ids)
    .orderBy("scheduler_cluster_id")
    .execute();
  return groupLinks(ids, links.map((l) => [l.seed_peer_cluster_id, l.scheduler_cluster_id]));
}

function groupLinks(ids: readonly number[], links: Array<[own: number, other: number]>): Map<number, number[]> {
  const byId = new Map(ids.map((id) => [id, [] as number[]]));
  for (const [own, other] of links) byId.get(own)?.push(other);
  return byId;
}

/** Replaces the links of scheduler cluster `schedulerClusterId` (undefined: leaves them). */
async function replaceSeedPeerClusterLinks(tx: Tx, schedulerClusterId: number, seedPeerClusterIds: number[] | undefined): Promise<void> {
  if (seedPeerClusterIds === undefined) return;
  await tx.deleteFrom("scheduler_cluster_seed_peer_clusters").where("scheduler_cluster_id", "=", schedulerClusterId).execute();
  if (seedPeerClusterIds.length) {
    await tx
      .insertInto("scheduler_cluster_seed_peer_clusters")
      .values([...new Set(seedPeerClusterIds)].map((o) => ({ scheduler_cluster_id: schedulerClusterId, seed_peer_cluster_id: o })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** Replaces the links of seed-peer cluster `seedPeerClusterId` (undefined: leaves them). */
async function replaceSchedulerClusterLinks(tx: Tx, seedPeerClusterId: number, schedulerClusterIds: number[] | undefined): Promise<void> {
  if (schedulerClusterIds === undefined) return;
  await tx.deleteFrom("scheduler_cluster_seed_peer_clusters").where("seed_peer_cluster_id", "=", seedPeerClusterId).execute();
  if (schedulerClusterIds.length) {
    await tx
      .insertInto("scheduler_cluster_seed_peer_clusters")
      .values([...new Set(schedulerClusterIds)].map((o) => ({ seed_peer_cluster_id: seedPeerClusterId, scheduler_cluster_id: o })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

async function withSeedPeerClusterIds(db: Db, rows: SchedulerClusterRow[]): Promise<Array<SchedulerClusterRow & { seed_peer_cluster_ids: number[] }>> {
  if (!rows.length) return [];
  const links = await seedPeerClusterIdsOf(db, rows.map((r) => r.id));
  return rows.map((r) => ({ ...r, seed_peer_cluster_ids: links.get(r.id) ?? [] }));
}

async function withSchedulerClusterIds(db: Db, rows: SeedPeerClusterRow[]): Promise<Array<SeedPeerClusterRow & { scheduler_cluster_ids: number[] }>> {
  if (!rows.length) return [];
  const links = await schedulerClusterIdsOf(db, rows.map((r) => r.id));
  return rows.map((r) => ({ ...r, scheduler_cluster_ids: links.get(r.id) ?? [] }));
}

/** `/api/v1/scheduler-clusters`: scheduling config, client config, scopes, the default cluster, linked seed-peer clusters. */
export function schedulerClusterRoutes(deps: RouteDeps): Route[] {
  return crudRoutes(
    {
      resource: "scheduler-clusters",
      table: "scheduler_clusters",
      tag: "clusters",
      noun: "scheduler cluster",
      create: s.schedulerClusterCreate,
      update: s.schedulerClusterUpdate,
      output: s.schedulerClusterOut,
      filters: z.object({ name: z.string().optional(), is_default: z.enum(["true", "false"]).transform((v) => v === "true").optional() }),
      async toInsert(input, tx) {
        await checkIds(tx, "seed_peer_clusters", input.seed_peer_cluster_ids, "seed_peer_cluster_ids");
        if (input.is_default) await tx.updateTable("scheduler_clusters").set({ is_default: false }).where("is_default", "=", true).execute();
        return {
          name: input.name,
          bio: input.bio ?? "",
          config: json(mergeClusterConfig(DEFAULT_CLUSTER_CONFIG, input.config)),
          client_config: json(mergeClient(DEFAULT_CLIENT_CONFIG, input.client_config)),
          seed_client_config: json(mergeClient(DEFAULT_SEED_CLIENT_CONFIG, input.seed_client_config)),
          scopes: json(input.scopes ?? {}),
          is_default: input.is_default ?? false,
        };
      },
      async toUpdate(input, current, tx) {
        await checkIds(tx, "seed_peer_clusters", input.seed_peer_cluster_ids, "seed_peer_cluster_ids");
        if (input.is_default) {
          await tx.updateTable("scheduler_clusters").set({ is_default: false }).where("is_default", "=", true).where("id", "!=", current.id).execute();
        }
        const configChanged = input.config !== undefined || input.client_config !== undefined || input.seed_client_config !== undefined;
        return defined({
          name: input.name,
          bio: input.bio,
          config: input.config && json(mergeClusterConfig(current.config, input.config)),
          client_config: input.client_config && json(mergeClient(current.client_config, input.client_config)),
          seed_client_config: input.seed_client_config && json(mergeClient(current.seed_client_config, input.seed_client_config)),
          scopes: input.scopes && json(input.scopes),
          is_default: input.is_default,
          config_revision: configChanged ? sql<number>`config_revision + 1` : undefined,
        });
      },
      afterWrite: (tx, id, input) => replaceSeedPeerClusterLinks(tx, id, input.seed_peer_cluster_ids),
      decorate: withSeedPeerClusterIds,
      toJson: (row) => row,
      changed: deps.fleetChanged,
    },
    deps,
  );
}

/** `/api/v1/seed-peer-clusters`: seed-peer client config and the scheduler clusters they serve. */
export function seedPeerClusterRoutes(deps: RouteDeps): Route[] {
  return crudRoutes(
    {
      resource: "seed-peer-clusters",
      table: "seed_peer_clusters",
      tag: "clusters",
      noun: "seed-peer cluster",
      create: s.seedPeerClusterCreate,
      update: s.seedPeerClusterUpdate,
      output: s.seedPeerClusterOut,
      filters: z.object({ name: z.string().optional() }),
      async toInsert(input: SeedClusterInput, tx) {
        await checkIds(tx, "scheduler_clusters", input.scheduler_cluster_ids, "scheduler_cluster_ids");
        return { name: input.name, bio: input.bio ?? "", config: json(mergeClient(DEFAULT_SEED_PEER_CLUSTER_CONFIG, input.config)) };
      },
      async toUpdate(input, current, tx) {
        await checkIds(tx, "scheduler_clusters", input.scheduler_cluster_ids, "scheduler_cluster_ids");
        return defined({ name: input.name, bio: input.bio, config: input.config && json(mergeClient(current.config, input.config)) });
      },
      afterWrite: (tx, id, input) => replaceSchedulerClusterLinks(tx, id, input.scheduler_cluster_ids),
      decorate: withSchedulerClusterIds,
      toJson: (row) => row,
      changed: deps.fleetChanged,
    },
    deps,
  );
}
