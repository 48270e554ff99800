import { join } from "node:path";
import { startProcess } from "@df/example-local-cluster/cluster";
import { repoRoot } from "./run.js";

export const MANAGER_ROOT_PASSWORD = "e2e-root-password-7";

export interface ManagerProcess {
  restUrl: string;
  grpc: string;
  /** A root session token. */
  signin(): Promise<string>;
  stop(): Promise<void>;
}

/** A df-manager process on loopback with an in-memory embedded database. */
export async function startManagerProcess({ dir }: { dir: string }): Promise<ManagerProcess> {
  const proc = await startProcess(
    "manager",
    join(repoRoot, "packages/manager/bin/df-manager.js"),
    ["--rest-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--database-url", "pglite:", "--data-dir", dir, "--log-level", "info"],
    {
      ready: /df-manager listening: rest=(\S+) grpc=(\S+)/,
      logFile: join(dir, "..", "manager.log"),
      timeoutMs: 60_000,
      env: { ...process.env, DF_MANAGER_ROOT_PASSWORD: MANAGER_ROOT_PASSWORD },
    },
  );
  const restUrl = proc.match[1]!;
  return {
    restUrl,
    grpc: proc.match[2]!,
    async signin() {
      const response = await fetch(`${restUrl}/api/v1/users/signin`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "root", password: MANAGER_ROOT_PASSWORD }),
      });
      if (response.status !== 200) throw new Error(`manager sign-in: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { token: string }).token;
    },
    stop: () => proc.stop(),
  };
}
