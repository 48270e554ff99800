import { sql, type Kysely, type Transaction } from "kysely";
import { DfError } from "@df/interface";
import type { Database } from "../db/database.js";
import type { ManagerDatabase } from "../db/schema.js";
import { audit } from "./auth.js";
import type { Principal, Reply, Route } from "./context.js";
import { validate } from "./http.js";
import { pageQuery, type TokenScope } from "./schemas.js";
import type { z } from "zod";

export type AnyRow = Record<string, unknown>;
/** The untyped view generic CRUD works on; each resource's hooks keep to its own columns. */
export type AnyDb = Kysely<Record<string, AnyRow>>;
export type AnyTx = Transaction<Record<string, AnyRow>>;

export interface CrudDefinition {
  /** URL segment, PAT scope and audit resource: `scheduler-clusters`. */
  resource: TokenScope;
  table: keyof ManagerDatabase;
  tag: string;
  /** Singular noun for messages: `scheduler cluster`. */
  noun: string;
  create?: z.ZodType;
  update?: z.ZodType;
  output: z.ZodType;
  /** `?name=` style filters: query key → column, and how to parse it. */
  filters?: z.ZodObject;
  /** Row values for an insert; may look things up in the transaction. */
  toInsert?(input: never, tx: AnyTx, principal: Principal): Promise<AnyRow> | AnyRow;
  /** Column changes for an update of `current`. */
  toUpdate?(input: never, current: AnyRow, tx: AnyTx): Promise<AnyRow> | AnyRow;
  /** After insert/update, in the same transaction (links between rows). */
  afterWrite?(tx: AnyTx, id: number, input: never): Promise<void>;
  /** Adds computed fields to rows on the way out. */
  decorate?(db: AnyDb, rows: AnyRow[]): Promise<AnyRow[]>;
  toJson(row: AnyRow): unknown;
  /** Runs after any committed write (cache invalidation). */
  changed?(): void;
  /** Drop these fields from audit details. */
  secret?: readonly string[];
}

export interface CrudDeps {
  database: Database;
  bodyLimit: number;
  maxPerPage: number;
}

export function parseId(value: string | undefined, field = "id"): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new DfError("INVALID_ARGUMENT", `${field}: must be a positive integer, got "${value}"`, { reason: "validation-failed", details: { field } });
  }
  return id;
}

export function notFound(noun: string, id: number | string): DfError {
  return new DfError("NOT_FOUND", `${noun} ${id} does not exist`, { reason: "not-found", details: { id } });
}

/** `page`/`per_page` → offset and limit; the total goes in `X-Total-Count`. */
export function pageOf(query: Record<string, string>, maxPerPage: number): { page: number; perPage: number; offset: number } {
  const { page, per_page } = validate(pageQuery, { page: query["page"], per_page: query["per_page"] }, "query");
  if (per_page > maxPerPage) {
    throw new DfError("INVALID_ARGUMENT", `per_page: must be at most ${maxPerPage}`, { reason: "validation-failed", details: { field: "per_page" } });
  }
  return { page, perPage: per_page, offset: (page - 1) * per_page };
}

export function pageReply(items: unknown[], total: number, page: number, perPage: number): Reply {
  return {
    body: items,
    headers: { "x-total-count": String(total), "x-page": String(page), "x-per-page": String(perPage) },
  };
}

function withoutSecrets(input: unknown, secret: readonly string[] = []): Record<string, unknown> {
  if (typeof input !== "object" || input === null) return {};
  return Object.fromEntries(Object.entries(input).filter(([key]) => !secret.includes(key)));
}

/** List, get, create, update and delete for one table, with validation and audit. */
export function crudRoutes(def: CrudDefinition, deps: CrudDeps): Route[] {
  const base = `/api/v1/${def.resource}`;
  const table = def.table as string;
  const anyDb = () => deps.database.db as unknown as AnyDb;
  const decorate = async (db: AnyDb, rows: AnyRow[]) => (def.decorate ? def.decorate(db, rows) : rows);
  const routes: Route[] = [
    {
      method: "GET",
      path: base,
      access: "read",
      resource: def.resource,
      summary: `List ${def.noun}s`,
      tag: def.tag,
      list: true,
      response: def.output,
      ...(def.filters ? { query: def.filters } : {}),
      async handler(ctx) {
        const { page, perPage, offset } = pageOf(ctx.query, deps.maxPerPage);
        const filters = def.filters ? (validate(def.filters, ctx.query, "query") as Record<string, unknown>) : {};
        const where = Object.entries(filters).filter(([, value]) => value !== undefined);
        return deps.database.run(async () => {
          const db = anyDb();
          let q = db.selectFrom(table);
          for (const [column, value] of where) q = q.where(column, "=", value);
          const [{ total }] = (await q.select(sql<number>`count(*)`.as("total")).execute()) as [{ total: number }];
          const rows = await q.selectAll().orderBy("id").limit(perPage).offset(offset).execute();
          return pageReply((await decorate(db, rows)).map((r) => def.toJson(r)), Number(total), page, perPage);
        });
      },
    },
    {
      method: "GET",
      path: `${base}/:id`,
      access: "read",
      resource: def.resource,
      summary: `Get a ${def.noun}`,
      tag: def.tag,
      response: def.output,
      async handler(ctx) {
        const id = parseId(ctx.params["id"]);
        return deps.database.run(async () => {
          const db = anyDb();
          const row = await db.selectFrom(table).selectAll().where("id", "=", id).executeTakeFirst();
          if (!row) throw notFound(def.noun, id);
          return { body: def.toJson((await decorate(db, [row]))[0]!) };
        });
      },
    },
    {
      method: "DELETE",
      path: `${base}/:id`,
      access: "write",
      resource: def.resource,
      summary: `Delete a ${def.noun}`,
      tag: def.tag,
      status: 204,
      async handler(ctx) {
        const id = parseId(ctx.params["id"]);
        await deps.database.transaction(async (tx) => {
          const deleted = await (tx as unknown as AnyTx).deleteFrom(table).where("id", "=", id).returningAll().executeTakeFirst();
          if (!deleted) throw notFound(def.noun, id);
          await audit(tx, ctx.principal!.name, "delete", def.resource, id, withoutSecrets(deleted, def.secret));
        });
        def.changed?.();
        return { status: 204 };
      },
    },
  ];
  if (def.create && def.toInsert) {
    const schema = def.create;
    const toInsert = def.toInsert;
    routes.push({
      method: "POST",
      path: base,
      access: "write",
      resource: def.resource,
      summary: `Create a ${def.noun}`,
      tag: def.tag,
      body: schema,
      response: def.output,
      status: 201,
      async handler(ctx) {
        const input = validate(schema, ctx.body ?? {}, "body") as never;
        const row = await deps.database.transaction(async (tx) => {
          const t = tx as unknown as AnyTx;
          const values = await toInsert(input, t, ctx.principal!);
          const inserted = await t.insertInto(table).values(values).returningAll().executeTakeFirstOrThrow();
          const id = inserted["id"] as number;
          await def.afterWrite?.(t, id, input);
          await audit(tx, ctx.principal!.name, "create", def.resource, id, withoutSecrets(input, def.secret));
          return (await decorate(t, [inserted]))[0]!;
        });
        def.changed?.();
        return { status: 201, body: def.toJson(row) };
      },
    });
  }
  if (def.update && def.toUpdate) {
    const schema = def.update;
    const toUpdate = def.toUpdate;
    routes.push({
      method: "PATCH",
      path: `${base}/:id`,
      access: "write",
      resource: def.resource,
      summary: `Update a ${def.noun}`,
      tag: def.tag,
      body: schema,
      response: def.output,
      async handler(ctx) {
        const id = parseId(ctx.params["id"]);
        const input = validate(schema, ctx.body ?? {}, "body") as never;
        const row = await deps.database.transaction(async (tx) => {
          const t = tx as unknown as AnyTx;
          const current = await t.selectFrom(table).selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
          if (!current) throw notFound(def.noun, id);
          const changes = await toUpdate(input, current, t);
          const updated = Object.keys(changes).length
            ? await t.updateTable(table).set({ ...changes, updated_at: sql`now()` }).where("id", "=", id).returningAll().executeTakeFirstOrThrow()
            : current;
          await def.afterWrite?.(t, id, input);
          await audit(tx, ctx.principal!.name, "update", def.resource, id, withoutSecrets(input, def.secret));
          return (await decorate(t, [updated]))[0]!;
        });
        def.changed?.();
        return { body: def.toJson(row) };
      },
    });
  }
  return routes;
}
