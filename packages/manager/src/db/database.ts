import { mkdir, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Kysely, PostgresDialect, sql, type Transaction } from "kysely";
import { DfError, noopLogger, type Logger } from "@df/interface";
import { toDbError, isUnavailable } from "./errors.js";
import { migrate } from "./migrations.js";
import { PgliteDialect } from "./pglite-dialect.js";
import { PGLITE_TEMPLATE, readTemplate, unpackDataDir } from "./template.js";
import type { ManagerDatabase } from "./schema.js";

export type DatabaseKind = "pglite" | "postgres";

export type Db = Kysely<ManagerDatabase>;
export type Tx = Transaction<ManagerDatabase>;

/** Where the data lives, parsed from `database.url`. */
export type DatabaseTarget =
  | { kind: "pglite"; dir: string | undefined }
  | { kind: "postgres"; url: string };

/**
 * `pglite:` (or `pglite:memory`) → in-memory PGlite; `pglite://<dir>` or `pglite:<dir>`
 * → PGlite persisted in that folder; `postgres://…` / `postgresql://…` → PostgreSQL.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith("pglite:")) {
    const rest = url.slice("pglite:".length).replace(/^\/\//, "");
    return { kind: "pglite", dir: rest === "" || rest === "memory" || rest === ":memory:" ? undefined : resolve(rest) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgres", url };
  throw new DfError("INVALID_ARGUMENT", `database.url "${redactUrl(url)}" is neither pglite:[//<dir>] nor postgres://…`, {
    reason: "invalid-config",
  });
}

/** The URL with its password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}

export interface OpenDatabaseOptions {
  url: string;
  logger?: Logger;
  /** Connection attempts before giving up on an unreachable database (default 5). */
  connectAttempts?: number;
  /** First retry delay; doubles each attempt up to 5 s (default 500 ms). */
  retryDelayMs?: number;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /**
   * For in-memory PGlite: a file caching a migrated empty database, so that creating the
   * next one skips initdb (seconds of WebAssembly). Written on first use (gzipped when
   * it ends in `.gz`). Default: the packaged template, never written.
   */
  memoryTemplateFile?: string;
  /** The migrated empty PGlite database new ones are unpacked from (default: the packaged one). */
  pgliteTemplate?: string;
  signal?: AbortSignal;
}

/** An open, migrated database. */
export interface Database {
  readonly kind: DatabaseKind;
  /** The URL with its password hidden. */
  readonly url: string;
  readonly db: Db;
  /** Migrations applied by this open (empty when the schema was current). */
  readonly applied: readonly string[];
  /** Runs `fn` in a transaction; driver errors become DfErrors (UNAVAILABLE → 503). */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `fn`; driver errors become DfErrors. */
  run<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// Migrated empty databases by template file, read once per process.
const templates = new Map<string, Promise<Buffer | undefined>>();

// PGlite's default shared_buffers (128 MB) dominates its memory; the manager's working
// set is small.
const PGLITE_CONF = ["shared_buffers=16MB"];

async function openPglite(dir: string | undefined, options: OpenDatabaseOptions): Promise<{ db: Db; applied: string[] }> {
  const { PGlite } = await import("@electric-sql/pglite");
  const packaged = options.pgliteTemplate ?? PGLITE_TEMPLATE;
  const file = dir ? packaged : (options.memoryTemplateFile ?? packaged);
  // Tests open many databases from one cached template; a manager reads it once.
  const load = () => (file === options.memoryTemplateFile ? templateFrom(file) : readTemplate(file));
  let pglite;
  let template: Buffer | undefined;
  if (dir) {
    // A new database starts as the template (when built); an existing one opens as it is.
    if (!(await exists(join(dir, "PG_VERSION")))) {
      template = await load();
      const unpacked = template ? await unpackDataDir(template, dir).catch((error: unknown) => warnTemplate(options, file, error)) : false;
      if (!unpacked) await mkdir(dir, { recursive: true });
    }
    pglite = await PGlite.create(dir, { postgresqlconf: PGLITE_CONF });
  } else {
    template = await load();
    pglite = await PGlite.create(template ? { loadDataDir: new Blob([template]), postgresqlconf: PGLITE_CONF } : { postgresqlconf: PGLITE_CONF });
  }
  const db = new Kysely<ManagerDatabase>({ dialect: new PgliteDialect(pglite) });
  try {
    const applied = await migrate(db);
    // No template yet: this database, just migrated, becomes it (the build makes the
    // packaged one this way; tests cache theirs).
    if (!dir && !template && file === options.memoryTemplateFile) {
      await writeTemplate(file, await db.connection().execute(() => pglite.dumpDataDir(file.endsWith(".gz") ? "gzip" : "none")));
    }
    return { db, applied };
  } catch (error) {
    await db.destroy().catch(() => {});
    throw error;
  }
}

// A broken template only costs time: PGlite runs initdb instead.
function warnTemplate(options: OpenDatabaseOptions, file: string, error: unknown): false {
  (options.logger ?? noopLogger).warn("cannot unpack the database template; creating the database from scratch", { file, error: (error as Error).message });
  return false;
}

async function writeTemplate(file: string, dump: Blob): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
  await rename(tmp, file);
  templates.delete(file);
}

function templateFrom(file: string): Promise<Buffer | undefined> {
  let template = templates.get(file);
  if (!template) {
    template = readTemplate(file);
    templates.set(file, template);
  }
  return template;
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<{ db: Db; applied: string[] }> {
  const { default: pg } = await import("pg");
  const logger = options.logger ?? noopLogger;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // bigint ids and counts as numbers (exact below 2^53), per pool, not process-wide.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server dropped must not crash the process; the next query
  // reconnects or fails with UNAVAILABLE.
  pool.on("error", (error) => logger.warn("database connection lost", { error: error.message }));
  const db = new Kysely<ManagerDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    return { db, applied: await migrate(db) };
  } catch (error) {
    await db.destroy().catch(() => {});
    throw error;
  }
}

/**
 * Opens the database `url` names and migrates it. An unreachable PostgreSQL is retried
 * with backoff (`connectAttempts`), then reported with the URL (password hidden).
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const target = parseDatabaseUrl(options.url);
  const shown = redactUrl(options.url);
  const logger = options.logger ?? noopLogger;
  const attempts = Math.max(1, options.connectAttempts ?? 5);
  let delay = options.retryDelayMs ?? 500;
  let opened: { db: Db; applied: string[] } | undefined;
  for (let attempt = 1; !opened; attempt++) {
    try {
      opened = target.kind === "pglite" ? await openPglite(target.dir, options) : await openPostgres(target.url, options);
    } catch (error) {
      const mapped = toDbError(error, "opening the database");
      if (mapped.code !== "UNAVAILABLE" || attempt >= attempts || options.signal?.aborted) {
        const why = (error as Error).message ?? String(error);
        throw new DfError(
          mapped.code === "UNAVAILABLE" ? "UNAVAILABLE" : mapped.code,
          `cannot open the database ${shown}${mapped.code === "UNAVAILABLE" ? ` after ${attempt} attempt${attempt > 1 ? "s" : ""}` : ""}: ${why}`,
          { cause: error, reason: mapped.reason ?? "database-open-failed", details: { url: shown, attempts: attempt } },
        );
      }
      logger.warn("database unavailable; retrying", { url: shown, attempt, of: attempts, retryInMs: delay, error: (error as Error).message });
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
      delay = Math.min(delay * 2, 5000);
    }
  }
  const { db, applied } = opened;
  if (applied.length) logger.info("database migrated", { url: shown, applied });
  return {
    kind: target.kind,
    url: shown,
    db,
    applied,
    async transaction(fn) {
      try {
        return await db.transaction().execute(fn);
      } catch (error) {
        throw toDbError(error);
      }
    },
    async run(fn) {
      try {
        return await fn(db);
      } catch (error) {
        throw toDbError(error);
      }
    },
    close: () => db.destroy(),
  };
}

/** `select 1`: true when the database answers. */
export async function ping(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch (error) {
    if (isUnavailable(error)) return false;
    throw toDbError(error);
  }
}
