import { sql } from "kysely";
import { z } from "zod";
import { DfError, type Logger } from "@df/interface";
import { hashPassword, hashToken, newToken, verifyPassword } from "../auth/secrets.js";
import type { ClientConfigJson, JobRow, SchedulerClusterConfigJson, UserRow } from "../db/schema.js";
import {
  DEFAULT_CLIENT_CONFIG,
  DEFAULT_CLUSTER_CONFIG,
  DEFAULT_SEED_CLIENT_CONFIG,
  DEFAULT_SEED_PEER_CLUSTER_CONFIG,
} from "../defaults.js";
import { jobFromRow, type JobRunner } from "../jobs.js";
import { audit, type Authenticator } from "./auth.js";
import type { Principal, Route } from "./context.js";
import { crudRoutes, notFound, pageOf, pageReply, parseId, type AnyRow, type AnyTx, type CrudDeps } from "./crud.js";
import { validate } from "./http.js";
import * as s from "./schemas.js";

export interface RouteDeps extends CrudDeps {
  auth: Authenticator;
  jobRunner: JobRunner;
  logger: Logger;
  maxTokenTtlMs: number;
  /** The fleet's caches must forget clusters and members changed through REST. */
  fleetChanged(): void;
}

const pick = (row: AnyRow, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, row[k]]));
const defined = (input: Record<string, unknown>) => Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
const json = (value: unknown) => JSON.stringify(value);
const idFilter = z.coerce.number().int().positive().optional();

function userJson(row: AnyRow | UserRow) {
  return pick(row as AnyRow, ["id", "name", "email", "role", "state", "created_at", "updated_at"]);
}

function forbidden(message: string): DfError {
  return new DfError("PERMISSION_DENIED", message, { reason: "forbidden" });
}

function selfOrRoot(principal: Principal, userId: number): void {
  if (principal.role !== "root" && principal.userId !== userId) throw forbidden("only root may act on other users");
}

async function checkIds(tx: AnyTx, table: string, ids: readonly number[] | undefined, field: string): Promise<void> {
  if (!ids?.length) return;
  const unique = [...new Set(ids)];
  const found = await tx.selectFrom(table).select("id").where("id", "in", unique).execute();
  if (found.length !== unique.length) {
    const known = new Set(found.map((r) => r["id"]));
    const missing = unique.filter((id) => !known.has(id));
    throw new DfError("INVALID_ARGUMENT", `${field}: no such ${table.replace(/_/g, " ").replace(/s$/, "")} ${missing.join(", ")}`, {
      reason: "validation-failed",
      details: { field },
    });
  }
}

async function linkIds(tx: AnyTx, column: "scheduler_cluster_id" | "seed_peer_cluster_id", rows: AnyRow[]): Promise<AnyRow[]> {
  if (!rows.length) return rows;
  const other = column === "scheduler_cluster_id" ? "seed_peer_cluster_id" : "scheduler_cluster_id";
  const links = await tx
    .selectFrom("scheduler_cluster_seed_peer_clusters")
    .select([column, other])
    .where(column, "in", rows.map((r) => r["id"] as number))
    .orderBy(other)
    .execute();
  const key = column === "scheduler_cluster_id" ? "seed_peer_cluster_ids" : "scheduler_cluster_ids";
  return rows.map((r) => ({ ...r, [key]: links.filter((l) => l[column] === r["id"]).map((l) => l[other]) }));
}

async function replaceLinks(tx: AnyTx, column: "scheduler_cluster_id" | "seed_peer_cluster_id", id: number, others: number[] | undefined): Promise<void> {
  if (others === undefined) return;
  const other = column === "scheduler_cluster_id" ? "seed_peer_cluster_id" : "scheduler_cluster_id";
  await tx.deleteFrom("scheduler_cluster_seed_peer_clusters").where(column, "=", id).execute();
  if (others.length) {
    await tx
      .insertInto("scheduler_cluster_seed_peer_clusters")
      .values([...new Set(others)].map((o) => ({ [column]: id, [other]: o })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

type ClusterInput = z.output<typeof s.schedulerClusterCreate>;

function mergeClusterConfig(current: SchedulerClusterConfigJson, patch: ClusterInput["config"]): SchedulerClusterConfigJson {
  return { ...current, ...defined({ ...patch }) } as SchedulerClusterConfigJson;
}

function mergeClient(current: ClientConfigJson, patch: { loadLimit?: number | undefined; blockList?: string[] | undefined } | undefined): ClientConfigJson {
  return { ...current, ...defined({ ...patch }) } as ClientConfigJson;
}

/** Every REST route but OpenAPI and health. */
export function buildRoutes(deps: RouteDeps): Route[] {
  const { database } = deps;
  const crud = (def: Parameters<typeof crudRoutes>[0]) => crudRoutes(def, deps);

  const schedulerClusters = crud({
    resource: "scheduler-clusters",
    table: "scheduler_clusters",
    tag: "clusters",
    noun: "scheduler cluster",
    create: s.schedulerClusterCreate,
    update: s.schedulerClusterUpdate,
    output: s.schedulerClusterOut,
    filters: z.object({ name: z.string().optional(), is_default: z.enum(["true", "false"]).transform((v) => v === "true").optional() }),
    async toInsert(input: ClusterInput, tx) {
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
    async toUpdate(input: Partial<ClusterInput>, current, tx) {
      await checkIds(tx, "seed_peer_clusters", input.seed_peer_cluster_ids, "seed_peer_cluster_ids");
      if (input.is_default) {
        await tx.updateTable("scheduler_clusters").set({ is_default: false }).where("is_default", "=", true).where("id", "!=", current["id"]).execute();
      }
      const configChanged = input.config !== undefined || input.client_config !== undefined || input.seed_client_config !== undefined;
      return defined({
        name: input.name,
        bio: input.bio,
        config: input.config && json(mergeClusterConfig(current["config"] as SchedulerClusterConfigJson, input.config)),
        client_config: input.client_config && json(mergeClient(current["client_config"] as ClientConfigJson, input.client_config)),
        seed_client_config: input.seed_client_config && json(mergeClient(current["seed_client_config"] as ClientConfigJson, input.seed_client_config)),
        scopes: input.scopes && json(input.scopes),
        is_default: input.is_default,
        config_revision: configChanged ? sql`config_revision + 1` : undefined,
      });
    },
    afterWrite: (tx, id, input: Partial<ClusterInput>) => replaceLinks(tx, "scheduler_cluster_id", id, input.seed_peer_cluster_ids),
    decorate: (db, rows) => linkIds(db as AnyTx, "scheduler_cluster_id", rows),
    toJson: (row) => row,
    changed: deps.fleetChanged,
  });

  type SeedClusterInput = z.output<typeof s.seedPeerClusterCreate>;
  const seedPeerClusters = crud({
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
    async toUpdate(input: Partial<SeedClusterInput>, current, tx) {
      await checkIds(tx, "scheduler_clusters", input.scheduler_cluster_ids, "scheduler_cluster_ids");
      return defined({ name: input.name, bio: input.bio, config: input.config && json(mergeClient(current["config"] as ClientConfigJson, input.config)) });
    },
    afterWrite: (tx, id, input: Partial<SeedClusterInput>) => replaceLinks(tx, "seed_peer_cluster_id", id, input.scheduler_cluster_ids),
    decorate: (db, rows) => linkIds(db as AnyTx, "seed_peer_cluster_id", rows),
    toJson: (row) => row,
    changed: deps.fleetChanged,
  });

  type SchedulerInput = z.output<typeof s.schedulerCreate>;
  const memberValues = (input: Partial<SchedulerInput> & { state?: string | undefined }) =>
    defined({
      hostname: input.hostname,
      ip: input.ip,
      port: input.port,
      idc: input.idc,
      location: input.location,
      state: input.state,
      version: input.version,
    });
  const schedulers = crud({
    resource: "schedulers",
    table: "schedulers",
    tag: "fleet",
    noun: "scheduler",
    create: s.schedulerCreate,
    update: s.schedulerUpdate,
    output: s.schedulerOut,
    filters: z.object({ scheduler_cluster_id: idFilter, state: z.enum(["active", "inactive"]).optional(), hostname: z.string().optional(), ip: z.string().optional() }),
    toInsert: (input: SchedulerInput) => ({
      ...memberValues(input),
      features: json(input.features ?? ["schedule", "preheat"]),
      scheduler_cluster_id: input.scheduler_cluster_id,
    }),
    toUpdate: (input: Partial<SchedulerInput>) =>
      defined({ ...memberValues(input), features: input.features && json(input.features), scheduler_cluster_id: input.scheduler_cluster_id }),
    toJson: (row) => row,
    changed: deps.fleetChanged,
  });

  type SeedPeerInput = z.output<typeof s.seedPeerCreate>;
  const seedPeers = crud({
    resource: "seed-peers",
    table: "seed_peers",
    tag: "fleet",
    noun: "seed peer",
    create: s.seedPeerCreate,
    update: s.seedPeerUpdate,
    output: s.seedPeerOut,
    filters: z.object({ seed_peer_cluster_id: idFilter, state: z.enum(["active", "inactive"]).optional(), hostname: z.string().optional(), ip: z.string().optional() }),
    toInsert: (input: SeedPeerInput) => ({
      ...memberValues(input),
      type: input.type ?? "super",
      download_port: input.download_port ?? 0,
      object_storage_port: input.object_storage_port ?? 0,
      seed_peer_cluster_id: input.seed_peer_cluster_id,
    }),
    toUpdate: (input: Partial<SeedPeerInput>) =>
      defined({
        ...memberValues(input),
        type: input.type,
        download_port: input.download_port,
        object_storage_port: input.object_storage_port,
        seed_peer_cluster_id: input.seed_peer_cluster_id,
      }),
    toJson: (row) => row,
    changed: deps.fleetChanged,
  });

  const peers = crud({
    resource: "peers",
    table: "peers",
    tag: "fleet",
    noun: "peer",
    output: s.peerOut,
    filters: z.object({ scheduler_cluster_id: idFilter, hostname: z.string().optional(), ip: z.string().optional() }),
    toJson: (row) => row,
  });

  type ApplicationInput = z.output<typeof s.applicationCreate>;
  const applications = crud({
    resource: "applications",
    table: "applications",
    tag: "applications",
    noun: "application",
    create: s.applicationCreate,
    update: s.applicationUpdate,
    output: s.applicationOut,
    filters: z.object({ name: z.string().optional() }),
    toInsert: (input: ApplicationInput, _tx, principal) => ({
      name: input.name,
      url: input.url ?? "",
      bio: input.bio ?? "",
      priority: json(input.priority ?? { value: 6, urls: [] }),
      user_id: principal.userId,
    }),
    toUpdate: (input: Partial<ApplicationInput>) =>
      defined({ name: input.name, url: input.url, bio: input.bio, priority: input.priority && json(input.priority) }),
    toJson: (row) => row,
  });

  type ConfigInput = z.output<typeof s.configCreate>;
  const configs = crud({
    resource: "configs",
    table: "configs",
    tag: "configs",
    noun: "config",
    create: s.configCreate,
    update: s.configUpdate,
    output: s.configOut,
    filters: z.object({ name: z.string().optional() }),
    toInsert: (input: ConfigInput) => ({ name: input.name, value: input.value, bio: input.bio ?? "" }),
    toUpdate: (input: Partial<ConfigInput>) => defined({ name: input.name, value: input.value, bio: input.bio }),
    toJson: (row) => row,
  });

  // Jobs: stored PENDING in the request's transaction, then handed to the runner.
  const jobs = crud({
    resource: "jobs",
    table: "jobs",
    tag: "jobs",
    noun: "job",
    output: s.jobOut,
    filters: z.object({ type: z.enum(s.JOB_TYPES).optional(), state: z.enum(["PENDING", "RUNNING", "SUCCESS", "FAILURE"]).optional() }),
    toJson: (row) => row,
  });
  const createJob: Route = {
    method: "POST",
    path: "/api/v1/jobs",
    access: "write",
    resource: "jobs",
    summary: "Create a job (preheat, …); it is stored PENDING and handed to the job runner",
    tag: "jobs",
    body: s.jobCreate,
    response: s.jobOut,
    status: 201,
    async handler(ctx) {
      const input = validate(s.jobCreate, ctx.body ?? {}, "body");
      const row: JobRow = await database.transaction(async (tx) => {
        await checkIds(tx as unknown as AnyTx, "scheduler_clusters", input.scheduler_cluster_ids, "scheduler_cluster_ids");
        const inserted = await tx
          .insertInto("jobs")
          .values({
            type: input.type,
            state: "PENDING",
            args: json(input.args),
            result: json(null),
            scheduler_cluster_ids: json(input.scheduler_cluster_ids ?? []),
            user_id: ctx.principal!.userId,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(tx, ctx.principal!.name, "create", "jobs", inserted.id, { type: input.type, args: input.args });
        return inserted;
      });
      try {
        await deps.jobRunner.submit(jobFromRow(row));
      } catch (error) {
        deps.logger.error("job runner refused a job", { id: row.id, runner: deps.jobRunner.name, error: (error as Error).message });
      }
      return { status: 201, body: row };
    },
  };

  const users = crud({
    resource: "users",
    table: "users",
    tag: "users",
    noun: "user",
    output: s.userOut,
    filters: z.object({ name: z.string().optional(), role: z.enum(s.ROLES).optional() }),
    toJson: userJson,
    secret: ["password_hash"],
  }).filter((r) => r.method === "GET" || r.method === "DELETE");

  async function assertRootRemains(tx: AnyTx, userId: number): Promise<void> {
    const others = await tx
      .selectFrom("users")
      .select(sql<number>`count(*)`.as("n"))
      .where("role", "=", "root")
      .where("state", "=", "enabled")
      .where("id", "!=", userId)
      .executeTakeFirstOrThrow();
    if (Number(others["n"]) === 0) {
      throw new DfError("FAILED_PRECONDITION", "this is the last enabled root user; make another root first", { reason: "last-root" });
    }
  }
  const deleteUser = users.find((r) => r.method === "DELETE")!;
  const guardedDelete: Route = {
    ...deleteUser,
    async handler(ctx) {
      const id = parseId(ctx.params["id"]);
      const user = await database.run((db) => db.selectFrom("users").select(["role"]).where("id", "=", id).executeTakeFirst());
      if (user?.role === "root") await database.run((db) => assertRootRemains(db as unknown as AnyTx, id));
      return deleteUser.handler(ctx);
    },
  };

  const userRoutes: Route[] = [
    {
      method: "POST",
      path: "/api/v1/users/signin",
      access: "public",
      summary: "Sign in with a password; returns a bearer session token",
      tag: "users",
      body: s.signin,
      response: s.signinOut,
      async handler(ctx) {
        const input = validate(s.signin, ctx.body ?? {}, "body");
        const { token, expiresAt, user } = await deps.auth.signin(input.name, input.password);
        return { body: { token, token_type: "Bearer", expires_at: expiresAt.toISOString(), user: userJson(user) } };
      },
    },
    {
      method: "POST",
      path: "/api/v1/users/signout",
      access: "self",
      summary: "End the current session",
      tag: "users",
      status: 204,
      async handler(ctx) {
        await deps.auth.signout(ctx.principal!);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/api/v1/users/me",
      access: "self",
      summary: "The signed-in user",
      tag: "users",
      response: s.userOut,
      async handler(ctx) {
        const row = await database.run((db) => db.selectFrom("users").selectAll().where("id", "=", ctx.principal!.userId).executeTakeFirst());
        if (!row) throw notFound("user", ctx.principal!.userId);
        return { body: userJson(row) };
      },
    },
    ...users.filter((r) => r.method === "GET"),
    guardedDelete,
    {
      method: "POST",
      path: "/api/v1/users",
      access: "write",
      resource: "users",
      summary: "Create a user",
      tag: "users",
      body: s.userCreate,
      response: s.userOut,
      status: 201,
      async handler(ctx) {
        const input = validate(s.userCreate, ctx.body ?? {}, "body");
        const passwordHash = await hashPassword(input.password);
        const row = await database.transaction(async (tx) => {
          const inserted = await tx
            .insertInto("users")
            .values({ name: input.name, email: input.email ?? "", password_hash: passwordHash, role: input.role, state: input.state ?? "enabled" })
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(tx, ctx.principal!.name, "create", "users", inserted.id, { name: input.name, email: input.email, role: input.role });
          return inserted;
        });
        return { status: 201, body: userJson(row) };
      },
    },
    {
      method: "PATCH",
      path: "/api/v1/users/:id",
      access: "write",
      resource: "users",
      summary: "Update a user (name, email, role, state)",
      tag: "users",
      body: s.userUpdate,
      response: s.userOut,
      async handler(ctx) {
        const id = parseId(ctx.params["id"]);
        const input = validate(s.userUpdate, ctx.body ?? {}, "body");
        const row = await database.transaction(async (tx) => {
          const current = await tx.selectFrom("users").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
          if (!current) throw notFound("user", id);
          if (current.role === "root" && ((input.role && input.role !== "root") || input.state === "disabled")) {
            await assertRootRemains(tx as unknown as AnyTx, id);
          }
          const changes = defined({ name: input.name, email: input.email, role: input.role, state: input.state });
          const updated = await tx
            .updateTable("users")
            .set({ ...changes, updated_at: sql<Date>`now()` })
            .where("id", "=", id)
            .returningAll()
            .executeTakeFirstOrThrow();
          if (input.state === "disabled") await tx.deleteFrom("sessions").where("user_id", "=", id).execute();
          await audit(tx, ctx.principal!.name, "update", "users", id, changes);
          return updated;
        });
        return { body: userJson(row) };
      },
    },
    {
      method: "POST",
      path: "/api/v1/users/:id/password",
      access: "self",
      resource: "users",
      summary: "Change a password (your own with old_password, or anyone's as root); ends the user's other sessions",
      tag: "users",
      body: s.passwordChange,
      status: 204,
      async handler(ctx) {
        const id = parseId(ctx.params["id"]);
        const principal = ctx.principal!;
        selfOrRoot(principal, id);
        const input = validate(s.passwordChange, ctx.body ?? {}, "body");
        const user = await database.run((db) => db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst());
        if (!user) throw notFound("user", id);
        if (principal.userId === id && !(await verifyPassword(input.old_password ?? "", user.password_hash))) {
          throw new DfError("INVALID_ARGUMENT", "old_password: wrong password", { reason: "wrong-password", details: { field: "old_password" } });
        }
        const hash = await hashPassword(input.new_password);
        await database.transaction(async (tx) => {
          await tx.updateTable("users").set({ password_hash: hash, updated_at: sql<Date>`now()` }).where("id", "=", id).execute();
          await tx.deleteFrom("sessions").where("user_id", "=", id).where("token_hash", "!=", principal.tokenHash).execute();
          await audit(tx, principal.name, "change-password", "users", id, {});
        });
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/api/v1/roles",
      access: "read",
      resource: "roles",
      summary: "Roles and what they may do",
      tag: "users",
      response: z.array(s.roleOut),
      async handler() {
        return { body: [{ name: "root", permissions: ["read", "write"] }, { name: "guest", permissions: ["read"] }] };
      },
    },
  ];

  const tokenJson = (row: AnyRow) =>
    pick(row, ["id", "name", "bio", "scopes", "expires_at", "revoked", "user_id", "last_used_at", "created_at", "updated_at"]);
  const tokenRoutes: Route[] = [
    {
      method: "GET",
      path: "/api/v1/personal-access-tokens",
      access: "self",
      resource: "personal-access-tokens",
      summary: "List personal access tokens (your own; root: everyone's)",
      tag: "tokens",
      list: true,
      response: s.tokenOut,
      async handler(ctx) {
        const { page, perPage, offset } = pageOf(ctx.query, deps.maxPerPage);
        const principal = ctx.principal!;
        return database.run(async (db) => {
          let q = db.selectFrom("personal_access_tokens");
          if (principal.role !== "root") q = q.where("user_id", "=", principal.userId);
          const { n } = await q.select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow();
          const rows = await q.selectAll().orderBy("id").limit(perPage).offset(offset).execute();
          return pageReply(rows.map((r) => tokenJson(r as unknown as AnyRow)), Number(n), page, perPage);
        });
      },
    },
    {
      method: "GET",
      path: "/api/v1/personal-access-tokens/:id",
      access: "self",
      resource: "personal-access-tokens",
      summary: "Get a personal access token (never its secret)",
      tag: "tokens",
      response: s.tokenOut,
      async handler(ctx) {
        const id = parseId(ctx.params["id"]);
        const row = await database.run((db) => db.selectFrom("personal_access_tokens").selectAll().where("id", "=", id).executeTakeFirst());
        if (!row || (ctx.principal!.role !== "root" && row.user_id !== ctx.principal!.userId)) throw notFound("personal access token", id);
        return { body: tokenJson(row as unknown as AnyRow) };
      },
    },
    {
      method: "POST",
      path: "/api/v1/personal-access-tokens",
      access: "self",
      resource: "personal-access-tokens",
      summary: "Create a personal access token; the secret is in this answer only",
      tag: "tokens",
      body: s.tokenCreate,
      response: s.tokenCreated,
      status: 201,
      async handler(ctx) {
        const input = validate(s.tokenCreate, ctx.body ?? {}, "body");
        const now = Date.now();
        const expiresAt = input.expires_at ? new Date(input.expires_at) : new Date(now + Math.min(30 * 86_400_000, deps.maxTokenTtlMs));
        if (expiresAt.getTime() <= now) {
          throw new DfError("INVALID_ARGUMENT", "expires_at: must be in the future", { reason: "validation-failed", details: { field: "expires_at" } });
        }
        if (expiresAt.getTime() - now > deps.maxTokenTtlMs) {
          throw new DfError("INVALID_ARGUMENT", `expires_at: must be within ${Math.round(deps.maxTokenTtlMs / 86_400_000)} days`, {
            reason: "validation-failed",
            details: { field: "expires_at" },
          });
        }
        const principal = ctx.principal!;
        // A token never reaches more than the token that created it.
        if (principal.scopes && !principal.scopes.includes("*") && input.scopes.some((scope) => !principal.scopes!.includes(scope))) {
          throw forbidden("a personal access token cannot create a token with scopes it does not have");
        }
        const token = newToken("pat");
        const row = await database.transaction(async (tx) => {
          const inserted = await tx
            .insertInto("personal_access_tokens")
            .values({
              name: input.name,
              bio: input.bio ?? "",
              token_hash: hashToken(token),
              scopes: json(input.scopes),
              expires_at: expiresAt,
              user_id: principal.userId,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(tx, principal.name, "create", "personal-access-tokens", inserted.id, { name: input.name, scopes: input.scopes, expires_at: expiresAt.toISOString() });
          return inserted;
        });
        return { status: 201, body: { ...tokenJson(row as unknown as AnyRow), token } };
      },
    },
    {
      method: "DELETE",
      path: "/api/v1/personal-access-tokens/:id",
      access: "self",
      resource: "personal-access-tokens",
      summary: "Revoke a personal access token (it stays listed, revoked)",
      tag: "tokens",
      status: 204,
      async handler(ctx) {
        const id = parseId(ctx.params["id"]);
        const principal = ctx.principal!;
        await database.transaction(async (tx) => {
          const row = await tx.selectFrom("personal_access_tokens").select(["user_id"]).where("id", "=", id).forUpdate().executeTakeFirst();
          if (!row || (principal.role !== "root" && row.user_id !== principal.userId)) throw notFound("personal access token", id);
          await tx.updateTable("personal_access_tokens").set({ revoked: true, updated_at: sql<Date>`now()` }).where("id", "=", id).execute();
          await audit(tx, principal.name, "revoke", "personal-access-tokens", id, {});
        });
        return { status: 204 };
      },
    },
  ];

  const audits: Route = {
    method: "GET",
    path: "/api/v1/audits",
    access: "read",
    resource: "audits",
    summary: "The audit log, newest first",
    tag: "audits",
    list: true,
    response: s.auditOut,
    query: z.object({ actor: z.string().optional(), resource: z.string().optional(), action: z.string().optional() }),
    async handler(ctx) {
      const { page, perPage, offset } = pageOf(ctx.query, deps.maxPerPage);
      const filters = validate(z.object({ actor: z.string().optional(), resource: z.string().optional(), action: z.string().optional() }), ctx.query, "query");
      return database.run(async (db) => {
        let q = db.selectFrom("audit_log");
        if (filters.actor !== undefined) q = q.where("actor", "=", filters.actor);
        if (filters.resource !== undefined) q = q.where("resource", "=", filters.resource);
        if (filters.action !== undefined) q = q.where("action", "=", filters.action);
        const { n } = await q.select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow();
        const rows = await q.selectAll().orderBy("id", "desc").limit(perPage).offset(offset).execute();
        return pageReply(rows, Number(n), page, perPage);
      });
    },
  };

  return [
    ...userRoutes,
    ...tokenRoutes,
    ...schedulerClusters,
    ...seedPeerClusters,
    ...schedulers,
    ...seedPeers,
    ...peers,
    ...applications,
    ...configs,
    createJob,
    ...jobs,
    audits,
  ];
}
