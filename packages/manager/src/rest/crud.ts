import type { z } from "zod";
import { DfError } from "@df/interface";
import type { Database, Db, Tx } from "../db/database.js";
import { audit } from "./auth.js";
import type { Principal, Reply, Route } from "./context.js";
import { validate } from "./http.js";
import { deleteRow, insertRow, selectById, selectPage, updateRow, type CrudTable, type NewRow, type RowChanges, type RowOf } from "./rows.js";
import { pageQuery, type TokenScope } from "./schemas.js";

/**
 * One table's REST resource: `T` the table, `C`/`U` the create and update body schemas,
 * `Out` a row as `decorate` returns it (a row of `T` unless it adds fields).
 */
export interface CrudDefinition<T extends CrudTable, C extends z.ZodType = z.ZodType, U extends z.ZodType = z.ZodType, Out = RowOf<T>> {
  /** URL segment, PAT scope and audit resource: `scheduler-clusters`. */
  resource: TokenScope;
  table: T;
  tag: string;
  /** Singular noun for messages: `scheduler cluster`. */
  noun: string;
  create?: C;
  update?: U;
  output: z.ZodType;
  /** `?name=` style filters: query key → column, and how to parse it. */
  filters?: z.ZodObject;
  /** Row values for an insert; may look things up in the transaction. */
  toInsert?(input: z.output<C>, tx: Tx, principal: Principal): Promise<NewRow<T>> | NewRow<T>;
  /** Column changes for an update of `current`. */
  toUpdate?(input: z.output<U>, current: RowOf<T>, tx: Tx): Promise<RowChanges<T>> | RowChanges<T>;
  /** After insert/update, in the same transaction (links between rows). */
  afterWrite?(tx: Tx, id: number, input: z.output<C> | z.output<U>): Promise<void>;
  /** Adds computed fields to rows on the way out. */
  decorate(db: Db, rows: RowOf<T>[]): Promise<Out[]> | Out[];
  toJson(row: Out): unknown;
  /** Runs after any committed write (cache invalidation). */
  changed?(): void;
  /** Drop these fields from audit details. */
  secret?: readonly string[];
  /** Fields of the row as written to add to a create's or update's audit details. */
  auditRow?(row: RowOf<T>): Record<string, unknown>;
  /** What callers other than root see of one output item (`Route.redact`). */
  redact?(item: unknown): unknown;
}

/** Rows go out as they are read. */
export const asRead = <R>(_db: Db, rows: R[]): R[] => rows;

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
export function crudRoutes<T extends CrudTable, C extends z.ZodType, U extends z.ZodType, Out>(def: CrudDefinition<T, C, U, Out>, deps: CrudDeps): Route[] {
  const base = `/api/v1/${def.resource}`;
  const redact = def.redact ? { redact: def.redact } : {};
  const routes: Route[] = [
    {
      method: "GET",
      path: base,
      access: "read",
      resource: def.resource,
      summary: `List ${def.noun}s`,
      ...redact,
      tag: def.tag,
      list: true,
      response: def.output,
      ...(def.filters ? { query: def.filters } : {}),
      async handler(ctx) {
        const { page, perPage, offset } = pageOf(ctx.query, deps.maxPerPage);
        const filters: Record<string, unknown> = def.filters ? validate(def.filters, ctx.query, "query") : {};
        const where = Object.entries(filters).filter(([, value]) => value !== undefined);
        return deps.database.run(async (db) => {
          const { rows, total } = await selectPage(db, def.table, where, perPage, offset);
          return pageReply((await def.decorate(db, rows)).map((r) => def.toJson(r)), total, page, perPage);
        });
      },
    },
    {
      method: "GET",
      path: `${base}/:id`,
      access: "read",
      resource: def.resource,
      summary: `Get a ${def.noun}`,
      ...redact,
      tag: def.tag,
      response: def.output,
      async handler(ctx) {
        const id = parseId(ctx.params["id"]);
        return deps.database.run(async (db) => {
          const row = await selectById(db, def.table, id);
          if (!row) throw notFound(def.noun, id);
          return { body: def.toJson((await def.decorate(db, [row]))[0]!) };
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
          const deleted = await deleteRow(tx, def.table, id);
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
        const input = validate(schema, ctx.body ?? {}, "body");
        const row = await deps.database.transaction(async (tx) => {
          const inserted = await insertRow(tx, def.table, await toInsert(input, tx, ctx.principal!));
          const id = inserted.id;
          await def.afterWrite?.(tx, id, input);
          await audit(tx, ctx.principal!.name, "create", def.resource, id, { ...withoutSecrets(input, def.secret), ...def.auditRow?.(inserted) });
          return (await def.decorate(tx, [inserted]))[0]!;
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
        const input = validate(schema, ctx.body ?? {}, "body");
        const row = await deps.database.transaction(async (tx) => {
          const current = await selectById(tx, def.table, id, true);
          if (!current) throw notFound(def.noun, id);
          const changes = await toUpdate(input, current, tx);
          const updated = Object.keys(changes).length ? await updateRow(tx, def.table, id, changes) : current;
          if (!updated) throw notFound(def.noun, id);
          await def.afterWrite?.(tx, id, input);
          await audit(tx, ctx.principal!.name, "update", def.resource, id, { ...withoutSecrets(input, def.secret), ...def.auditRow?.(updated) });
          return (await def.decorate(tx, [updated]))[0]!;
        });
        def.changed?.();
        return { body: def.toJson(row) };
      },
    });
  }
  return routes;
}
