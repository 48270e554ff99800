/**
 * @packageDocumentation
 * The df manager: the fleet's control plane. Scheduler clusters (scheduling config,
 * client config, scopes), seed-peer clusters, schedulers and seed peers with keepalive
 * (a member that stops sending is marked inactive and no longer handed out), the
 * searcher that gives a peer its scheduler cluster, applications, jobs, users, roles and
 * personal access tokens, an audit log; a gRPC service for the fleet and a REST API
 * (`/api/v1`, OpenAPI at `/api/v1/openapi.json`) for people and automation. Data lives
 * in embedded PGlite by default, or in PostgreSQL (`database.url`).
 */
export { Manager, databaseUrlOf, type ManagerDeps, type ManagerAddresses } from "./manager.js";
export { managerConfigSchema, KNOWN_DEFAULT_PASSWORDS, type ManagerConfig, type ManagerConfigInput } from "./config.js";
export { ManagerTokens } from "./tokens.js";
export { JobStore, PendingJobRunner, jobFromRow, type Job, type JobRunner } from "./jobs.js";
export {
  DefaultSearcher,
  BUILTIN_SEARCHERS,
  SEARCHER_WEIGHTS,
  resolveSearcher,
  type Searcher,
  type SearcherFactory,
  type SearchAsker,
  type SearchCluster,
} from "./searcher/searcher.js";
export { openDatabase, parseDatabaseUrl, redactUrl, type Database, type DatabaseKind, type Db, type Tx } from "./db/database.js";
export { MIGRATIONS, SCHEMA_VERSION, migrate } from "./db/migrations.js";
export type * from "./db/schema.js";
export { FleetStore } from "./fleet/store.js";
export { main } from "./cli.js";
