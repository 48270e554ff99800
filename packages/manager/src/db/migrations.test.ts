import { PGlite } from "@electric-sql/pglite";
import { Kysely, Migrator, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { DB_KINDS, freshPostgres } from "../test-support/databases.js";
import { migrate, MIGRATIONS } from "./migrations.js";
import { PgliteDialect } from "./pglite-dialect.js";

/** An empty database of `kind` with no migration applied, and its cleanup. */
async function emptyDatabase(kind: (typeof DB_KINDS)[number]): Promise<{ db: Kysely<unknown>; close(): Promise<void> }> {
  if (kind === "pglite") {
    const pglite = await PGlite.create();
    const db = new Kysely<unknown>({ dialect: new PgliteDialect(pglite) });
    return { db, close: () => db.destroy() };
  }
  const { url, drop } = await freshPostgres();
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }) });
  return {
    db,
    async close() {
      await db.destroy();
      await drop();
    },
  };
}

describe.each(DB_KINDS)("migration 0002 on %s", (kind) => {
  it("marks existing configs named like a credential secret, keeps the others, and adds the token parent column (new rows default to not secret: the REST API applies the name rule)", async () => {
    const { db, close } = await emptyDatabase(kind);
    try {
      const provider = { getMigrations: () => Promise.resolve(MIGRATIONS) };
      const first = await new Migrator({ db, provider }).migrateTo("0001_initial");
      expect(first.error).toBeUndefined();
      await sql`insert into configs (name, value) values ('s3_secret_key', 'a'), ('Registry-Auth', 'b'), ('db_password', 'c'), ('colour', 'd'), ('sig', 'e')`.execute(db);
      expect(await migrate(db)).toEqual(["0002_secrets_and_token_parents"]);
      const rows = await sql<{ name: string; secret: boolean }>`select name, secret from configs order by name`.execute(db);
      expect(Object.fromEntries(rows.rows.map((r) => [r.name, r.secret]))).toEqual({ "Registry-Auth": true, colour: false, db_password: true, s3_secret_key: true, sig: true });
      await sql`insert into configs (name, value) values ('api_token', 'f')`.execute(db);
      expect((await sql<{ secret: boolean }>`select secret from configs where name = 'api_token'`.execute(db)).rows[0]?.secret).toBe(false);
      const column = await sql<{ n: number }>`select count(*)::int as n from information_schema.columns where table_name = 'personal_access_tokens' and column_name = 'parent_id'`.execute(db);
      expect(column.rows[0]?.n).toBe(1);
    } finally {
      await close();
    }
  });
});
