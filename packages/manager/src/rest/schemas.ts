import { isIP } from "node:net";
import { z } from "zod";
import { parseCidr } from "../util/cidr.js";

// REST JSON: row fields are snake_case like the database columns; the JSON documents
// inside (config, client_config, scopes, priority, args) are camelCase like df's config
// files, which is what schedulers and peers receive.

const text = (max = 1024) => z.string().max(max);
const name = z.string().min(1).max(256);
const id = z.number().int().positive();

const regex = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (value) => {
      try {
        new RegExp(value);
        return true;
      } catch {
        return false;
      }
    },
    { message: "not a valid regular expression" },
  );

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, { message: "not a valid CIDR (e.g. 10.0.0.0/8 or fd00::/8)" });
const ip = z.string().refine((value) => isIP(value) !== 0, { message: "not a valid IP address" });
const port = z.number().int().min(0).max(65535);
const timestamps = { created_at: z.iso.datetime(), updated_at: z.iso.datetime() };

export const clusterConfigSchema = z.strictObject({
  candidateParentLimit: z.number().int().min(1).max(20).optional(),
  filterParentLimit: z.number().int().min(10).max(1000).optional(),
  evaluator: z.strictObject({ name: z.string().min(1).max(256), options: z.record(z.string(), z.unknown()).default({}) }).optional(),
  backToSourceLimit: z.number().int().min(0).max(100_000).optional(),
  retryLimit: z.number().int().min(1).max(100).optional(),
  retryBackToSourceLimit: z.number().int().min(0).max(100).optional(),
  retryIntervalMs: z.number().int().min(0).max(600_000).optional(),
  jobRateLimit: z.number().int().min(1).max(10_000).optional(),
});

const clientConfig = (maxLoad: number) =>
  z.strictObject({ loadLimit: z.number().int().min(1).max(maxLoad).optional(), blockList: z.array(text()).max(1000).optional() });

export const scopesSchema = z.strictObject({
  idc: text().optional(),
  location: text().optional(),
  cidrs: z.array(cidr).max(1000).optional(),
  hostnames: z.array(regex).max(1000).optional(),
});

export const schedulerClusterCreate = z.strictObject({
  name,
  bio: text().optional(),
  config: clusterConfigSchema.optional(),
  client_config: clientConfig(2000).optional(),
  seed_client_config: clientConfig(50_000).optional(),
  scopes: scopesSchema.optional(),
  is_default: z.boolean().optional(),
  seed_peer_cluster_ids: z.array(id).max(1000).optional(),
});
export const schedulerClusterUpdate = schedulerClusterCreate.partial();
export const schedulerClusterOut = z.object({
  id,
  name: z.string(),
  bio: z.string(),
  config: z.record(z.string(), z.unknown()),
  client_config: z.record(z.string(), z.unknown()),
  seed_client_config: z.record(z.string(), z.unknown()),
  scopes: z.record(z.string(), z.unknown()),
  is_default: z.boolean(),
  config_revision: z.number().int(),
  seed_peer_cluster_ids: z.array(id),
  ...timestamps,
});

export const seedPeerClusterCreate = z.strictObject({
  name,
  bio: text().optional(),
  config: clientConfig(50_000).optional(),
  scheduler_cluster_ids: z.array(id).max(1000).optional(),
});
export const seedPeerClusterUpdate = seedPeerClusterCreate.partial();
export const seedPeerClusterOut = z.object({
  id,
  name: z.string(),
  bio: z.string(),
  config: z.record(z.string(), z.unknown()),
  scheduler_cluster_ids: z.array(id),
  ...timestamps,
});

const memberState = z.enum(["active", "inactive"]);
const memberFields = {
  hostname: z.string().min(1).max(256),
  ip,
  port,
  idc: text().optional(),
  location: text().optional(),
  state: memberState.optional(),
  version: text(256).optional(),
};
export const schedulerCreate = z.strictObject({
  ...memberFields,
  features: z.array(z.string().min(1).max(64)).max(32).optional(),
  scheduler_cluster_id: id,
});
export const schedulerUpdate = schedulerCreate.partial();
const memberOut = {
  id,
  hostname: z.string(),
  ip: z.string(),
  port: z.number().int(),
  idc: z.string(),
  location: z.string(),
  state: memberState,
  version: z.string(),
  last_keepalive_at: z.iso.datetime().nullable(),
  ...timestamps,
};
export const schedulerOut = z.object({ ...memberOut, features: z.array(z.string()), scheduler_cluster_id: id });

export const seedPeerCreate = z.strictObject({
  ...memberFields,
  type: z.string().min(1).max(64).optional(),
  download_port: port.optional(),
  object_storage_port: port.optional(),
  seed_peer_cluster_id: id,
});
export const seedPeerUpdate = seedPeerCreate.partial();
export const seedPeerOut = z.object({
  ...memberOut,
  type: z.string(),
  download_port: z.number().int(),
  object_storage_port: z.number().int(),
  seed_peer_cluster_id: id,
});

export const peerOut = z.object({
  id,
  hostname: z.string(),
  ip: z.string(),
  type: z.string(),
  idc: z.string(),
  location: z.string(),
  version: z.string(),
  commit: z.string(),
  state: memberState,
  scheduler_cluster_id: id.nullable(),
  last_seen_at: z.iso.datetime(),
  ...timestamps,
});

/** Upstream's priority levels 0–6 (0: seed peer first … 6: dfget's default). */
const priorityLevel = z.number().int().min(0).max(6);
export const applicationCreate = z.strictObject({
  name,
  url: text(4096).optional(),
  bio: text().optional(),
  priority: z
    .strictObject({ value: priorityLevel, urls: z.array(z.strictObject({ regex, value: priorityLevel })).max(1000).default([]) })
    .optional(),
});
export const applicationUpdate = applicationCreate.partial();
export const applicationOut = z.object({
  id,
  name: z.string(),
  url: z.string(),
  bio: z.string(),
  priority: z.object({ value: z.number().int(), urls: z.array(z.object({ regex: z.string(), value: z.number().int() })) }),
  user_id: id.nullable(),
  ...timestamps,
});

export const configCreate = z.strictObject({
  name,
  value: text(64 * 1024),
  /** Only root sees the value (others read `<redacted>`); default: true when the name looks like a credential. */
  secret: z.boolean().optional(),
  bio: text().optional(),
});
export const configUpdate = configCreate.partial();
export const configOut = z.object({ id, name: z.string(), value: z.string(), secret: z.boolean(), bio: z.string(), ...timestamps });

export const JOB_TYPES = ["preheat", "sync_peers", "get_task", "delete_task"] as const;
const httpUrl = z
  .string()
  .max(8192)
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.protocol === "http:" || url.protocol === "https:";
      } catch {
        return false;
      }
    },
    { message: "not an http(s) URL" },
  );

/** Preheat arguments (reference §8.5). */
export const preheatArgs = z.strictObject({
  urls: z.array(httpUrl).min(1).max(1000),
  tag: text(256).optional(),
  application: text(256).optional(),
  filteredQueryParams: z.array(text(256)).max(100).optional(),
  headers: z.record(z.string().max(256), z.string().max(8192)).optional(),
  pieceLength: z.number().int().min(4 * 1024 * 1024).optional(),
  scope: z.enum(["single_seed_peer", "all_seed_peers", "all_peers"]).default("single_seed_peer"),
  ips: z.array(ip).max(1000).optional(),
  percentage: z.number().int().min(1).max(100).optional(),
  count: z.number().int().min(1).max(200).optional(),
  timeoutMs: z.number().int().min(1).max(24 * 3600_000).optional(),
});

/** A preheat job's arguments as validated (what the runner and its scheduler calls read). */
export type PreheatArgs = z.output<typeof preheatArgs>;

export const jobCreate = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("preheat"), args: preheatArgs, scheduler_cluster_ids: z.array(id).max(1000).optional() }),
  z.strictObject({
    type: z.enum(["sync_peers", "get_task", "delete_task"]),
    args: z.record(z.string(), z.unknown()).default({}),
    scheduler_cluster_ids: z.array(id).max(1000).optional(),
  }),
]);
export const jobOut = z.object({
  id,
  type: z.enum(JOB_TYPES),
  state: z.enum(["PENDING", "RUNNING", "SUCCESS", "FAILURE"]),
  args: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).nullable(),
  scheduler_cluster_ids: z.array(id),
  user_id: id.nullable(),
  ...timestamps,
});

export const ROLES = ["root", "guest"] as const;
const password = z.string().min(8, { message: "must be at least 8 characters" }).max(256);
export const userCreate = z.strictObject({
  name,
  email: text(256).optional(),
  password,
  role: z.enum(ROLES).default("guest"),
  state: z.enum(["enabled", "disabled"]).optional(),
});
export const userUpdate = z.strictObject({
  name: name.optional(),
  email: text(256).optional(),
  role: z.enum(ROLES).optional(),
  state: z.enum(["enabled", "disabled"]).optional(),
});
export const userOut = z.object({
  id,
  name: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  state: z.enum(["enabled", "disabled"]),
  ...timestamps,
});
export const passwordChange = z.strictObject({ old_password: z.string().max(256).optional(), new_password: password });
export const signin = z.strictObject({ name: z.string().min(1).max(256), password: z.string().min(1).max(256) });
export const signinOut = z.object({ token: z.string(), token_type: z.literal("Bearer"), expires_at: z.iso.datetime(), user: userOut });

/** What a personal access token may reach: REST resources by path, or `*`. */
export const TOKEN_SCOPES = [
  "*",
  "scheduler-clusters",
  "seed-peer-clusters",
  "schedulers",
  "seed-peers",
  "peers",
  "applications",
  "jobs",
  "configs",
  "users",
  "roles",
  "personal-access-tokens",
  "audits",
] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const tokenCreate = z.strictObject({
  name,
  bio: text().optional(),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).max(TOKEN_SCOPES.length),
  /** When the token stops working (default: 30 days from now); a token created by a token expires no later than it. */
  expires_at: z.iso.datetime({ offset: true }).optional(),
});
export const tokenOut = z.object({
  id,
  name: z.string(),
  bio: z.string(),
  scopes: z.array(z.string()),
  expires_at: z.iso.datetime(),
  revoked: z.boolean(),
  user_id: id,
  /** The token that created this one (revoking it revokes this one); null when created from a sign-in. */
  parent_id: id.nullable(),
  last_used_at: z.iso.datetime().nullable(),
  ...timestamps,
});
export const tokenCreated = tokenOut.extend({ token: z.string().describe("The secret: shown once, never again") });

export const auditOut = z.object({
  id,
  actor: z.string(),
  action: z.string(),
  resource: z.string(),
  resource_id: z.string(),
  details: z.record(z.string(), z.unknown()),
  created_at: z.iso.datetime(),
});

export const roleOut = z.object({ name: z.enum(ROLES), permissions: z.array(z.enum(["read", "write"])) });

export const errorOut = z.object({ code: z.string(), message: z.string(), field: z.string().optional() });

export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).default(10),
});
