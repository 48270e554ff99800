import type { IncomingMessage } from "node:http";
import { sql } from "kysely";
import { z } from "zod";
import { DfError } from "@df/interface";
import { hashPassword, verifyPassword } from "../../auth/secrets.js";
import type { Db } from "../../db/database.js";
import type { UserRow } from "../../db/schema.js";
import { audit } from "../auth.js";
import type { Principal, Route } from "../context.js";
import { asRead, crudRoutes, notFound, parseId } from "../crud.js";
import type { RouteDeps } from "../deps.js";
import { validate } from "../http.js";
import * as s from "../schemas.js";
import { defined, forbidden } from "./common.js";

/** A user as the API shows it: never the password hash. */
function userJson(row: UserRow) {
  return { id: row.id, name: row.name, email: row.email, role: row.role, state: row.state, created_at: row.created_at, updated_at: row.updated_at };
}

/**
 * The address a sign-in comes from: the TCP peer's (an IPv4 one without its `::ffff:`
 * prefix). X-Forwarded-For is not read: any client could set it to escape its lockout.
 */
function clientAddress(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? "unknown";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

function selfOrRoot(principal: Principal, userId: number): void {
  if (principal.role !== "root" && principal.userId !== userId) throw forbidden("only root may act on other users");
}

/** 409 unless an enabled root user other than `userId` remains. */
async function assertRootRemains(db: Db, userId: number): Promise<void> {
  const others = await db
    .selectFrom("users")
    .select(sql<number>`count(*)`.as("n"))
    .where("role", "=", "root")
    .where("state", "=", "enabled")
    .where("id", "!=", userId)
    .executeTakeFirstOrThrow();
  if (Number(others.n) === 0) {
    throw new DfError("FAILED_PRECONDITION", "this is the last enabled root user; make another root first", { reason: "last-root" });
  }
}

/** `/api/v1/users` (sign-in and -out, me, users, passwords) and `/api/v1/roles`. */
export function userRoutes(deps: RouteDeps): Route[] {
  const { database } = deps;
  const users = crudRoutes(
    {
      resource: "users",
      table: "users",
      tag: "users",
      noun: "user",
      output: s.userOut,
      filters: z.object({ name: z.string().optional(), role: z.enum(s.ROLES).optional() }),
      decorate: asRead,
      toJson: userJson,
      secret: ["password_hash"],
    },
    deps,
  ).filter((r) => r.method === "GET" || r.method === "DELETE");

  const deleteUser = users.find((r) => r.method === "DELETE")!;
  const guardedDelete: Route = {
    ...deleteUser,
    async handler(ctx) {
      const id = parseId(ctx.params["id"]);
      const user = await database.run((db) => db.selectFrom("users").select(["role"]).where("id", "=", id).executeTakeFirst());
      if (user?.role === "root") await database.run((db) => assertRootRemains(db, id));
      return deleteUser.handler(ctx);
    },
  };

  return [
    {
      method: "POST",
      path: "/api/v1/users/signin",
      access: "public",
      summary: "Sign in with a password; returns a bearer session token (429 with Retry-After after too many failures)",
      tag: "users",
      body: s.signin,
      response: s.signinOut,
      async handler(ctx) {
        const input = validate(s.signin, ctx.body ?? {}, "body");
        const { token, expiresAt, user } = await deps.auth.signin(input.name, input.password, clientAddress(ctx.request));
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
            await assertRootRemains(tx, id);
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
}
