import { sql, type Selectable } from "kysely";
import { DfError } from "@df/interface";
import { hashToken, newToken } from "../../auth/secrets.js";
import type { Tx } from "../../db/database.js";
import type { ManagerDatabase } from "../../db/schema.js";
import { audit } from "../auth.js";
import type { Route } from "../context.js";
import { notFound, pageOf, pageReply, parseId } from "../crud.js";
import type { RouteDeps } from "../deps.js";
import { validate } from "../http.js";
import * as s from "../schemas.js";
import { forbidden, json } from "./common.js";

type TokenRow = Selectable<ManagerDatabase["personal_access_tokens"]>;

/** A personal access token as the API shows it: never its hash. */
function tokenJson(row: TokenRow) {
  return {
    id: row.id,
    name: row.name,
    bio: row.bio,
    scopes: row.scopes,
    expires_at: row.expires_at,
    revoked: row.revoked,
    user_id: row.user_id,
    parent_id: row.parent_id,
    last_used_at: row.last_used_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const DAY_MS = 86_400_000;

/** Revokes every token below `id` (created by it, or by one it created, …); their IDs. */
async function revokeDescendants(tx: Tx, id: number): Promise<number[]> {
  const revoked: number[] = [];
  // Again until none is left: a token minted under one of them while the first pass
  // waited for its row lock committed after the pass's snapshot; the next pass sees it.
  for (;;) {
    const result = await sql<{ id: number }>`
      with recursive below (id) as (
        select id from personal_access_tokens where parent_id = ${id}
        union
        select t.id from personal_access_tokens t join below b on t.parent_id = b.id)
      update personal_access_tokens set revoked = true, updated_at = now()
      where id in (select id from below) and not revoked
      returning id`.execute(tx);
    if (result.rows.length === 0) return revoked.sort((a, b) => a - b);
    revoked.push(...result.rows.map((r) => Number(r.id)));
  }
}

/** `/api/v1/personal-access-tokens`: a user's own tokens (root: everyone's); the secret is shown once. */
export function tokenRoutes(deps: RouteDeps): Route[] {
  const { database } = deps;
  return [
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
          return pageReply(rows.map(tokenJson), Number(n), page, perPage);
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
        return { body: tokenJson(row) };
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
        const principal = ctx.principal!;
        const now = Date.now();
        // A token never outlives the token that created it; a session (a password sign-in) may create one for up to maxTokenTtl.
        const ceiling = principal.via === "token" ? Math.min(principal.expiresAt.getTime(), now + deps.maxTokenTtlMs) : now + deps.maxTokenTtlMs;
        const expiresAt = input.expires_at ? new Date(input.expires_at) : new Date(Math.min(now + 30 * DAY_MS, ceiling));
        if (expiresAt.getTime() <= now) {
          throw new DfError("INVALID_ARGUMENT", "expires_at: must be in the future", { reason: "validation-failed", details: { field: "expires_at" } });
        }
        if (expiresAt.getTime() - now > deps.maxTokenTtlMs) {
          throw new DfError("INVALID_ARGUMENT", `expires_at: must be within ${Math.round(deps.maxTokenTtlMs / DAY_MS)} days`, {
            reason: "validation-failed",
            details: { field: "expires_at" },
          });
        }
        if (expiresAt.getTime() > ceiling) {
          throw new DfError("INVALID_ARGUMENT", `expires_at: must not be after ${principal.expiresAt.toISOString()}, when the token creating it expires`, {
            reason: "validation-failed",
            details: { field: "expires_at" },
          });
        }
        // A token never reaches more than the token that created it.
        if (principal.scopes && !principal.scopes.includes("*") && input.scopes.some((scope) => !principal.scopes!.includes(scope))) {
          throw forbidden("a personal access token cannot create a token with scopes it does not have");
        }
        const parentId = principal.via === "token" ? principal.tokenId! : null;
        const token = newToken("pat");
        const row = await database.transaction(async (tx) => {
          if (parentId !== null) {
            // Locked, so a revocation of the parent either sees this token (and revokes it) or comes first (and this fails).
            const parent = await tx.selectFrom("personal_access_tokens").select(["revoked"]).where("id", "=", parentId).forUpdate().executeTakeFirst();
            if (!parent || parent.revoked) {
              throw new DfError("UNAUTHENTICATED", "the personal access token has been revoked", { reason: "token-revoked" });
            }
          }
          const inserted = await tx
            .insertInto("personal_access_tokens")
            .values({
              name: input.name,
              bio: input.bio ?? "",
              token_hash: hashToken(token),
              scopes: json(input.scopes),
              expires_at: expiresAt,
              user_id: principal.userId,
              parent_id: parentId,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(tx, principal.name, "create", "personal-access-tokens", inserted.id, {
            name: input.name,
            scopes: input.scopes,
            expires_at: expiresAt.toISOString(),
            parent_id: parentId,
          });
          return inserted;
        });
        return { status: 201, body: { ...tokenJson(row), token } };
      },
    },
    {
      method: "DELETE",
      path: "/api/v1/personal-access-tokens/:id",
      access: "self",
      resource: "personal-access-tokens",
      summary: "Revoke a personal access token and every token it created, directly or not (they stay listed, revoked)",
      tag: "tokens",
      status: 204,
      async handler(ctx) {
        const id = parseId(ctx.params["id"]);
        const principal = ctx.principal!;
        await database.transaction(async (tx) => {
          const row = await tx.selectFrom("personal_access_tokens").select(["user_id"]).where("id", "=", id).forUpdate().executeTakeFirst();
          if (!row || (principal.role !== "root" && row.user_id !== principal.userId)) throw notFound("personal access token", id);
          await tx.updateTable("personal_access_tokens").set({ revoked: true, updated_at: sql<Date>`now()` }).where("id", "=", id).execute();
          const descendants = await revokeDescendants(tx, id);
          await audit(tx, principal.name, "revoke", "personal-access-tokens", id, descendants.length ? { descendants } : {});
        });
        return { status: 204 };
      },
    },
  ];
}
