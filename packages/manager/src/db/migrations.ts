import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type RawBuilder } from "kysely";
import { DfError } from "@df/interface";

const timestamps = sql`created_at timestamptz not null default now(), updated_at timestamptz not null default now()`;

function member(extra: RawBuilder<unknown>) {
  return sql`
    id bigserial primary key,
    hostname text not null,
    ip text not null,
    port integer not null,
    idc text not null default '',
    location text not null default '',
    state text not null default 'inactive' check (state in ('active', 'inactive')),
    version text not null default '',
    last_keepalive_at timestamptz,
    ${extra},
    ${timestamps}`;
}

/**
 * The schema's history, oldest first. A migration is never edited once released: a
 * change is a new entry. Names sort in order of application.
 */
export const MIGRATIONS: Record<string, Migration> = {
  "0001_initial": {
    async up(db) {
      const statements = [
        sql`create table users (
          id bigserial primary key,
          name text not null unique,
          email text not null default '',
          password_hash text not null,
          role text not null check (role in ('root', 'guest')),
          state text not null default 'enabled' check (state in ('enabled', 'disabled')),
          ${timestamps})`,
        sql`create table sessions (
          id bigserial primary key,
          token_hash text not null unique,
          user_id bigint not null references users (id) on delete cascade,
          expires_at timestamptz not null,
          created_at timestamptz not null default now())`,
        sql`create table personal_access_tokens (
          id bigserial primary key,
          name text not null,
          bio text not null default '',
          token_hash text not null unique,
          scopes jsonb not null,
          expires_at timestamptz not null,
          revoked boolean not null default false,
          user_id bigint not null references users (id) on delete cascade,
          last_used_at timestamptz,
          ${timestamps})`,
        sql`create table scheduler_clusters (
          id bigserial primary key,
          name text not null unique,
          bio text not null default '',
          config jsonb not null,
          client_config jsonb not null,
          seed_client_config jsonb not null,
          scopes jsonb not null,
          is_default boolean not null default false,
          config_revision bigint not null default 1,
          ${timestamps})`,
        // At most one default cluster.
        sql`create unique index scheduler_clusters_one_default on scheduler_clusters (is_default) where is_default`,
        sql`create table seed_peer_clusters (
          id bigserial primary key,
          name text not null unique,
          bio text not null default '',
          config jsonb not null,
          ${timestamps})`,
        sql`create table scheduler_cluster_seed_peer_clusters (
          scheduler_cluster_id bigint not null references scheduler_clusters (id) on delete cascade,
          seed_peer_cluster_id bigint not null references seed_peer_clusters (id) on delete cascade,
          primary key (scheduler_cluster_id, seed_peer_cluster_id))`,
        sql`create table schedulers (${member(sql`
          features jsonb not null default '[]',
          scheduler_cluster_id bigint not null references scheduler_clusters (id) on delete cascade,
          unique (hostname, ip, scheduler_cluster_id)`)})`,
        sql`create index schedulers_cluster_state on schedulers (scheduler_cluster_id, state)`,
        sql`create table seed_peers (${member(sql`
          type text not null default 'super',
          download_port integer not null default 0,
          object_storage_port integer not null default 0,
          seed_peer_cluster_id bigint not null references seed_peer_clusters (id) on delete cascade,
          unique (hostname, ip, seed_peer_cluster_id)`)})`,
        sql`create index seed_peers_cluster_state on seed_peers (seed_peer_cluster_id, state)`,
        sql`create table peers (
          id bigserial primary key,
          hostname text not null,
          ip text not null,
          type text not null default 'normal',
          idc text not null default '',
          location text not null default '',
          version text not null default '',
          commit text not null default '',
          state text not null default 'active' check (state in ('active', 'inactive')),
          scheduler_cluster_id bigint references scheduler_clusters (id) on delete set null,
          last_seen_at timestamptz not null,
          ${timestamps},
          unique (hostname, ip))`,
        sql`create table applications (
          id bigserial primary key,
          name text not null unique,
          url text not null default '',
          bio text not null default '',
          priority jsonb not null,
          user_id bigint references users (id) on delete set null,
          ${timestamps})`,
        sql`create table jobs (
          id bigserial primary key,
          type text not null,
          state text not null default 'PENDING' check (state in ('PENDING', 'RUNNING', 'SUCCESS', 'FAILURE')),
          args jsonb not null,
          result jsonb,
          scheduler_cluster_ids jsonb not null default '[]',
          user_id bigint references users (id) on delete set null,
          ${timestamps})`,
        sql`create index jobs_state on jobs (state)`,
        sql`create table configs (
          id bigserial primary key,
          name text not null unique,
          value text not null,
          bio text not null default '',
          ${timestamps})`,
        sql`create table audit_log (
          id bigserial primary key,
          actor text not null,
          action text not null,
          resource text not null,
          resource_id text not null,
          details jsonb not null,
          created_at timestamptz not null default now())`,
        sql`create index audit_log_created on audit_log (created_at)`,
      ];
      for (const statement of statements) await statement.execute(db);
    },
  },
  "0002_secrets_and_token_parents": {
    async up(db) {
      const statements = [
        // Guests read a secret config's value as <redacted>. Existing configs named like a
        // credential become secret; this is the rule of auth/redact.ts as it stood then.
        sql`alter table configs add column secret boolean not null default false`,
        sql`update configs set secret = true where name ~* 'auth|cookie|token|secret|passw|pwd|key|credential|signature|session|^sig$'`,
        // The token that minted a token: revoking a token revokes every token below it.
        sql`alter table personal_access_tokens add column parent_id bigint references personal_access_tokens (id) on delete cascade`,
        sql`create index personal_access_tokens_parent on personal_access_tokens (parent_id) where parent_id is not null`,
      ];
      for (const statement of statements) await statement.execute(db);
    },
  },
};

/** The newest migration's name: the schema version a database must reach. */
export const SCHEMA_VERSION = Object.keys(MIGRATIONS).sort().at(-1)!;

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

// Any fixed 64-bit number: every df manager on one PostgreSQL takes this session lock
// while it migrates, so two managers starting at once apply each migration exactly once.
const MIGRATION_LOCK_KEY = 0x64665f6d616e; // "df_man"

/**
 * Brings the schema to `SCHEMA_VERSION`, under a PostgreSQL advisory lock held on one
 * connection. Idempotent: a migrated database is left as it is. Returns the names of
 * the migrations it applied.
 */
export async function migrate<DB>(db: Kysely<DB>): Promise<string[]> {
  if (await isCurrent(db)) return [];
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(conn);
    try {
      const { error, results } = await new Migrator({ db: conn, provider }).migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === "Error")?.migrationName;
        throw new DfError("INTERNAL", `database migration ${failed ?? ""} failed: ${(error as Error).message ?? String(error)}`, {
          cause: error,
          reason: "migration-failed",
        });
      }
      return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(conn).catch(() => {});
    }
  });
}

/**
 * True when the newest applied migration is `SCHEMA_VERSION`: the usual start, answered
 * by two small queries instead of the migrator's introspection (a tenth of a second on
 * PGlite). Migrations only ever get added, so no lock is needed to see this.
 */
async function isCurrent<DB>(db: Kysely<DB>): Promise<boolean> {
  const table = await sql<{ present: boolean }>`select to_regclass('kysely_migration') is not null as present`.execute(db);
  if (!table.rows[0]?.present) return false;
  const newest = await sql<{ name: string }>`select name from kysely_migration order by name desc limit 1`.execute(db);
  return newest.rows[0]?.name === SCHEMA_VERSION;
}
