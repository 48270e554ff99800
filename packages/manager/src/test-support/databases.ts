import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { noopLogger } from "@df/interface";
import { parseConfig } from "@df/service-kit";
import { createRpcClient, manager as managerRpc, type RpcClient } from "@df/rpc";
import { managerConfigSchema, type ManagerConfigInput } from "../config.js";
import { openDatabase, type Database, type DatabaseKind } from "../db/database.js";
import { SCHEMA_VERSION } from "../db/migrations.js";
import { Manager, type ManagerDeps } from "../manager.js";

export const DB_KINDS: readonly DatabaseKind[] = ["pglite", "postgres"];
export const ROOT_PASSWORD = "root-test-password-1";

const script = resolve(import.meta.dirname, "../../../../scripts/ci/postgres.sh");

/** A migrated empty PGlite database, cached on disk so each test process skips initdb. */
export const PGLITE_TEMPLATE = join(tmpdir(), `df-manager-pglite-template-${SCHEMA_VERSION}.tar`);

let baseUrl: string | undefined;

/**
 * The test PostgreSQL: `DF_TEST_POSTGRES_URL`, or the one `scripts/ci/postgres.sh`
 * installs and starts (never skipped).
 */
export function postgresBaseUrl(): string {
  baseUrl ??=
    process.env["DF_TEST_POSTGRES_URL"] ||
    execFileSync("bash", [script], { encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").at(-1)!;
  return baseUrl;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A new, empty PostgreSQL database for one test run; `drop` removes it. */
export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = postgresBaseUrl();
  const name = `df_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(base, name),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A database URL of the given kind for one test file, and its cleanup. */
export async function testDatabaseUrl(kind: DatabaseKind): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === "pglite") return { url: "pglite:", drop: async () => {} };
  return freshPostgres();
}

export async function openTestDatabase(kind: DatabaseKind): Promise<Database & { drop(): Promise<void> }> {
  const { url, drop } = await testDatabaseUrl(kind);
  const database = await openDatabase({ url, memoryTemplateFile: PGLITE_TEMPLATE });
  return {
    ...database,
    async drop() {
      await database.close();
      await drop();
    },
  };
}

/** A manager on loopback ports, its database of the given URL. */
export async function startTestManager(
  url: string,
  overrides: ManagerConfigInput | Record<string, unknown> = {},
  deps: Partial<ManagerDeps> = {},
): Promise<Manager> {
  const input = overrides as Record<string, unknown>;
  const config = parseConfig(
    managerConfigSchema,
    {
      restListen: "127.0.0.1:0",
      grpcListen: "127.0.0.1:0",
      log: { level: "silent" },
      ...input,
      database: { url, ...(input["database"] as object | undefined) },
      auth: { rootPassword: ROOT_PASSWORD, ...(input["auth"] as object | undefined) },
    },
    "manager",
  );
  const manager = await Manager.create(config, { logger: noopLogger, memoryTemplateFile: PGLITE_TEMPLATE, ...deps });
  await manager.start();
  return manager;
}

export function fleetClient(manager: Manager): RpcClient<managerRpc.ManagerService> {
  return createRpcClient(managerRpc.ManagerClient, manager.addresses.grpc, { defaultDeadlineMs: 10_000 });
}

/** A REST client for one manager: JSON in, `{ status, body, headers }` out. */
export function restClient(manager: Manager) {
  const base = manager.addresses.restUrl;
  return async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; raw?: string | Buffer } = {},
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined || options.raw !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };
}

export async function signin(manager: Manager, name = "root", password = ROOT_PASSWORD): Promise<string> {
  const { status, body } = await restClient(manager)("POST", "/api/v1/users/signin", { body: { name, password } });
  if (status !== 200) throw new Error(`signin ${name}: ${status} ${JSON.stringify(body)}`);
  return body.token as string;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, stepMs = 50): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
