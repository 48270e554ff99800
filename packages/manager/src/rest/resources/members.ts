import { z } from "zod";
import type { MemberState } from "../../db/schema.js";
import type { Route } from "../context.js";
import { asRead, crudRoutes } from "../crud.js";
import type { RouteDeps } from "../deps.js";
import * as s from "../schemas.js";
import { defined, idFilter, json } from "./common.js";

type SchedulerInput = z.output<typeof s.schedulerCreate>;

/** The columns schedulers and seed peers share, from a create or update body. */
const memberValues = (input: Partial<SchedulerInput> & { state?: MemberState | undefined }) =>
  defined({
    hostname: input.hostname,
    ip: input.ip,
    port: input.port,
    idc: input.idc,
    location: input.location,
    state: input.state,
    version: input.version,
  });

const memberFilters = { state: z.enum(["active", "inactive"]).optional(), hostname: z.string().optional(), ip: z.string().optional() };

/** `/api/v1/schedulers`: registered by hand or by keepalive; the fleet hands out the active ones. */
export function schedulerRoutes(deps: RouteDeps): Route[] {
  return crudRoutes(
    {
      resource: "schedulers",
      table: "schedulers",
      tag: "fleet",
      noun: "scheduler",
      create: s.schedulerCreate,
      update: s.schedulerUpdate,
      output: s.schedulerOut,
      filters: z.object({ scheduler_cluster_id: idFilter, ...memberFilters }),
      toInsert: (input) => ({
        hostname: input.hostname,
        ip: input.ip,
        port: input.port,
        ...memberValues(input),
        features: json(input.features ?? ["schedule", "preheat"]),
        scheduler_cluster_id: input.scheduler_cluster_id,
      }),
      toUpdate: (input) => defined({ ...memberValues(input), features: input.features && json(input.features), scheduler_cluster_id: input.scheduler_cluster_id }),
      decorate: asRead,
      toJson: (row) => row,
      changed: deps.fleetChanged,
    },
    deps,
  );
}

/** `/api/v1/seed-peers`: seed peers of a seed-peer cluster. */
export function seedPeerRoutes(deps: RouteDeps): Route[] {
  return crudRoutes(
    {
      resource: "seed-peers",
      table: "seed_peers",
      tag: "fleet",
      noun: "seed peer",
      create: s.seedPeerCreate,
      update: s.seedPeerUpdate,
      output: s.seedPeerOut,
      filters: z.object({ seed_peer_cluster_id: idFilter, ...memberFilters }),
      toInsert: (input) => ({
        hostname: input.hostname,
        ip: input.ip,
        port: input.port,
        ...memberValues(input),
        type: input.type ?? "super",
        download_port: input.download_port ?? 0,
        object_storage_port: input.object_storage_port ?? 0,
        seed_peer_cluster_id: input.seed_peer_cluster_id,
      }),
      toUpdate: (input) =>
        defined({
          ...memberValues(input),
          type: input.type,
          download_port: input.download_port,
          object_storage_port: input.object_storage_port,
          seed_peer_cluster_id: input.seed_peer_cluster_id,
        }),
      decorate: asRead,
      toJson: (row) => row,
      changed: deps.fleetChanged,
    },
    deps,
  );
}

/** `/api/v1/peers`: read-only; peers appear as they ask for schedulers. */
export function peerRoutes(deps: RouteDeps): Route[] {
  return crudRoutes(
    {
      resource: "peers",
      table: "peers",
      tag: "fleet",
      noun: "peer",
      output: s.peerOut,
      filters: z.object({ scheduler_cluster_id: idFilter, hostname: z.string().optional(), ip: z.string().optional() }),
      decorate: asRead,
      toJson: (row) => row,
    },
    deps,
  );
}
