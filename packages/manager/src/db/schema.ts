import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/** A jsonb column: read as `T`, written as a JSON string (both drivers pass it through). */
export type Json<T> = ColumnType<T, string, string>;
/** A timestamptz column the database fills on insert. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
export type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type MemberState = "active" | "inactive";
export type Role = "root" | "guest";
export type JobState = "PENDING" | "RUNNING" | "SUCCESS" | "FAILURE";

/** Scheduling parameters of a scheduler cluster (reference §8.1). */
export interface SchedulerClusterConfigJson {
  candidateParentLimit: number;
  filterParentLimit: number;
  evaluator: { name: string; options: Record<string, unknown> };
  backToSourceLimit?: number;
  retryLimit?: number;
  retryBackToSourceLimit?: number;
  retryIntervalMs?: number;
  jobRateLimit?: number;
}

export interface ClientConfigJson {
  loadLimit: number;
  blockList?: string[];
}

export interface ScopesJson {
  idc?: string;
  location?: string;
  cidrs?: string[];
  hostnames?: string[];
}

export interface PriorityJson {
  /** 0–6 as `df.common.v1.Priority` numbers them. */
  value: number;
  urls: Array<{ regex: string; value: number }>;
}

export interface SchedulerClustersTable {
  id: Generated<number>;
  name: string;
  bio: Generated<string>;
  config: Json<SchedulerClusterConfigJson>;
  client_config: Json<ClientConfigJson>;
  seed_client_config: Json<ClientConfigJson>;
  scopes: Json<ScopesJson>;
  is_default: Generated<boolean>;
  /** Grows on every change of config, client_config or seed_client_config. */
  config_revision: Generated<number>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SeedPeerClustersTable {
  id: Generated<number>;
  name: string;
  bio: Generated<string>;
  config: Json<ClientConfigJson>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ClusterLinksTable {
  scheduler_cluster_id: number;
  seed_peer_cluster_id: number;
}

interface MemberColumns {
  id: Generated<number>;
  hostname: string;
  ip: string;
  port: number;
  idc: Generated<string>;
  location: Generated<string>;
  state: Generated<MemberState>;
  version: Generated<string>;
  last_keepalive_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SchedulersTable extends MemberColumns {
  features: Json<string[]>;
  scheduler_cluster_id: number;
}

export interface SeedPeersTable extends MemberColumns {
  type: Generated<string>;
  download_port: Generated<number>;
  object_storage_port: Generated<number>;
  seed_peer_cluster_id: number;
}

export interface PeersTable {
  id: Generated<number>;
  hostname: string;
  ip: string;
  type: Generated<string>;
  idc: Generated<string>;
  location: Generated<string>;
  version: Generated<string>;
  commit: Generated<string>;
  state: Generated<MemberState>;
  scheduler_cluster_id: number | null;
  last_seen_at: Timestamp;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ApplicationsTable {
  id: Generated<number>;
  name: string;
  url: Generated<string>;
  bio: Generated<string>;
  priority: Json<PriorityJson>;
  user_id: number | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface JobsTable {
  id: Generated<number>;
  type: string;
  state: Generated<JobState>;
  args: Json<Record<string, unknown>>;
  result: Json<Record<string, unknown> | null>;
  scheduler_cluster_ids: Json<number[]>;
  user_id: number | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface UsersTable {
  id: Generated<number>;
  name: string;
  email: Generated<string>;
  password_hash: string;
  role: Role;
  state: Generated<"enabled" | "disabled">;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SessionsTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export interface PersonalAccessTokensTable {
  id: Generated<number>;
  name: string;
  bio: Generated<string>;
  token_hash: string;
  scopes: Json<string[]>;
  expires_at: Timestamp;
  revoked: Generated<boolean>;
  user_id: number;
  /** The personal access token that created this one; null when a session did. */
  parent_id: ColumnType<number | null, number | null | undefined, number | null>;
  last_used_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ConfigsTable {
  id: Generated<number>;
  name: string;
  value: string;
  /** The value is shown only to root. */
  secret: Generated<boolean>;
  bio: Generated<string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface AuditLogTable {
  id: Generated<number>;
  actor: string;
  action: string;
  resource: string;
  resource_id: string;
  details: Json<Record<string, unknown>>;
  created_at: CreatedAt;
}

/** The manager's schema, as Kysely sees it. */
export interface ManagerDatabase {
  scheduler_clusters: SchedulerClustersTable;
  seed_peer_clusters: SeedPeerClustersTable;
  scheduler_cluster_seed_peer_clusters: ClusterLinksTable;
  schedulers: SchedulersTable;
  seed_peers: SeedPeersTable;
  peers: PeersTable;
  applications: ApplicationsTable;
  jobs: JobsTable;
  users: UsersTable;
  sessions: SessionsTable;
  personal_access_tokens: PersonalAccessTokensTable;
  configs: ConfigsTable;
  audit_log: AuditLogTable;
}

export type SchedulerClusterRow = Selectable<SchedulerClustersTable>;
export type SchedulerRow = Selectable<SchedulersTable>;
export type SeedPeerRow = Selectable<SeedPeersTable>;
export type SeedPeerClusterRow = Selectable<SeedPeerClustersTable>;
export type ApplicationRow = Selectable<ApplicationsTable>;
export type JobRow = Selectable<JobsTable>;
export type UserRow = Selectable<UsersTable>;
export type NewJob = Insertable<JobsTable>;
export type JobUpdate = Updateable<JobsTable>;
