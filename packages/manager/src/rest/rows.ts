import { sql, type Expression, type Insertable, type Selectable, type Updateable } from "kysely";
import { DfError } from "@df/interface";
import type { Db } from "../db/database.js";
import type { ManagerDatabase } from "../db/schema.js";

/** The tables the REST API lists, reads, creates, updates and deletes rows of by `id`. */
export type CrudTable = "scheduler_clusters" | "seed_peer_clusters" | "schedulers" | "seed_peers" | "peers" | "applications" | "configs" | "jobs" | "users";

/** A row of `T` as read, as inserted, as changed (a change may be an SQL expression: `config_revision + 1`). */
export type RowOf<T extends CrudTable> = Selectable<ManagerDatabase[T]> & { id: number };
export type NewRow<T extends CrudTable> = Insertable<ManagerDatabase[T]>;
export type RowChanges<T extends CrudTable> = { [K in keyof Updateable<ManagerDatabase[T]>]?: Updateable<ManagerDatabase[T]>[K] | Expression<unknown> };

// Kysely's query builder cannot type a query over a table chosen by a type parameter
// (each table's builder has its own overloads), so the generic queries below are SQL
// templates over the table's quoted name; their rows are typed by the schema, since
// `select *`/`returning *` of table T is a row of T. Values are always parameters and
// names always quoted identifiers (sql.table/sql.ref).

/** `where a = $1 and b = $2`, or nothing. */
function whereEqual(filters: ReadonlyArray<readonly [column: string, value: unknown]>) {
  if (filters.length === 0) return sql``;
  return sql` where ${sql.join(
    filters.map(([column, value]) => sql`${sql.ref(column)} = ${value}`),
    sql` and `,
  )}`;
}

/** One page of rows by `id`, and how many match `filters` (column = value) in all. */
export async function selectPage<T extends CrudTable>(
  db: Db,
  table: T,
  filters: ReadonlyArray<readonly [column: string, value: unknown]>,
  limit: number,
  offset: number,
): Promise<{ rows: RowOf<T>[]; total: number }> {
  const where = whereEqual(filters);
  const counted = await sql<{ total: number | string }>`select count(*) as ${sql.ref("total")} from ${sql.table(table)}${where}`.execute(db);
  const page = await sql<RowOf<T>>`select * from ${sql.table(table)}${where} order by ${sql.ref("id")} limit ${limit} offset ${offset}`.execute(db);
  return { rows: page.rows, total: Number(counted.rows[0]?.total ?? 0) };
}

/** The row with `id`, locked for the transaction when `forUpdate`. */
export async function selectById<T extends CrudTable>(db: Db, table: T, id: number, forUpdate = false): Promise<RowOf<T> | undefined> {
  const lock = forUpdate ? sql` for update` : sql``;
  const result = await sql<RowOf<T>>`select * from ${sql.table(table)} where ${sql.ref("id")} = ${id}${lock}`.execute(db);
  return result.rows[0];
}

/** `[column, value]` of each defined value (as Kysely's builders, undefined means "not set"). */
const setValues = (values: object) => Object.entries(values).filter(([, value]) => value !== undefined);

/** Inserts a row; the row as stored. */
export async function insertRow<T extends CrudTable>(db: Db, table: T, values: NewRow<T>): Promise<RowOf<T>> {
  const entries = setValues(values);
  const columns = sql.join(entries.map(([column]) => sql.ref(column)));
  const result = await sql<RowOf<T>>`insert into ${sql.table(table)} (${columns}) values (${sql.join(entries.map(([, value]) => value))}) returning *`.execute(db);
  const row = result.rows[0];
  if (!row) throw new DfError("INTERNAL", `insert into ${table} returned no row`, { reason: "no-row" });
  return row;
}

/** Sets `changes` and `updated_at = now()` on the row with `id`; the row as it is then, if it exists. */
export async function updateRow<T extends CrudTable>(db: Db, table: T, id: number, changes: RowChanges<T>): Promise<RowOf<T> | undefined> {
  const sets = setValues(changes).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  sets.push(sql`${sql.ref("updated_at")} = now()`);
  const result = await sql<RowOf<T>>`update ${sql.table(table)} set ${sql.join(sets)} where ${sql.ref("id")} = ${id} returning *`.execute(db);
  return result.rows[0];
}

/** Deletes the row with `id`; the row as it was, if it existed. */
export async function deleteRow<T extends CrudTable>(db: Db, table: T, id: number): Promise<RowOf<T> | undefined> {
  const result = await sql<RowOf<T>>`delete from ${sql.table(table)} where ${sql.ref("id")} = ${id} returning *`.execute(db);
  return result.rows[0];
}
