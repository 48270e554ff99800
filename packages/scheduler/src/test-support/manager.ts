import { tmpdir } from "node:os";
import { join } from "node:path";
import { noopLogger } from "@df/interface";
import { parseConfig } from "@df/service-kit";
import { Manager, SCHEMA_VERSION, managerConfigSchema } from "@df/manager";
import { formatAddress } from "@df/rpc";

export const ROOT_PASSWORD = "scheduler-test-root-4";

/** A real manager in this process: in-memory PGlite, loopback ports, a short keepalive. */
export async function startManager(options: { grpcListen?: string; keepaliveMs?: number } = {}): Promise<{ manager: Manager; grpc: string; rest: string }> {
  const config = parseConfig(
    managerConfigSchema,
    {
      restListen: "127.0.0.1:0",
      grpcListen: options.grpcListen ?? "127.0.0.1:0",
      log: { level: "silent" },
      database: { url: "pglite:" },
      auth: { rootPassword: ROOT_PASSWORD },
      keepalive: { interval: options.keepaliveMs ?? 300 },
      cache: { ttl: 50 },
    },
    "manager",
  );
  // The manager's own tests cache a migrated empty database in the same file.
  const manager = await Manager.create(config, { logger: noopLogger, memoryTemplateFile: join(tmpdir(), `df-manager-pglite-template-${SCHEMA_VERSION}.tar`) });
  const { grpc, restUrl } = await manager.start();
  return { manager, grpc: formatAddress(grpc), rest: restUrl };
}

/** Root's session token on a manager started above. */
export async function rootToken(rest: string): Promise<string> {
  const response = await fetch(`${rest}/api/v1/users/signin`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "root", password: ROOT_PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`sign-in: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}
