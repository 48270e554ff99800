import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { bidiStream, createRpcClient, manager as m, unary } from "@df/rpc";
import { ROOT_PASSWORD, waitFor } from "./test-support/databases.js";

const run = promisify(execFile);
const packageDir = path.resolve(import.meta.dirname, "..");
const bin = path.join(packageDir, "bin", "df-manager.js");

function startCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: packageDir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DF_MANAGER_ROOT_PASSWORD: ROOT_PASSWORD, ...env },
  });
  const stdout: string[] = [];
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout.push(...chunk.split("\n").filter(Boolean)));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = once(child, "exit").then(([code]) => code as number | null);
  return { stdout, stderr: () => stderr, exit, kill: (signal: NodeJS.Signals) => child.kill(signal) };
}

describe("df-manager binary", () => {
  // The binary runs the compiled dist/; build it (incremental, fast when up to date).
  beforeAll(async () => {
    await run("pnpm", ["exec", "tsc", "-b"], { cwd: packageDir });
  }, 120_000);

  it("starts on an embedded database in a data dir, prints its addresses, serves REST and gRPC, stops on SIGTERM", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "df-manager-cli-"));
    const config = path.join(dir, "manager.yaml");
    await writeFile(config, `restListen: 127.0.0.1:0\ngrpcListen: 127.0.0.1:0\nlog:\n  level: warn\nkeepalive:\n  interval: 1s\n`);
    const cli = startCli(["--config", config, "--data-dir", dir]);
    try {
      await waitFor(() => cli.stdout.length > 0 || cli.stderr().includes("cannot"), 30_000, "the readiness line");
      expect(cli.stdout).toHaveLength(1);
      const match = /^df-manager listening: rest=(http:\/\/127\.0\.0\.1:\d+) grpc=(127\.0\.0\.1:\d+)$/.exec(cli.stdout[0]!);
      expect(match, cli.stdout[0]).not.toBeNull();
      const [, rest, grpc] = match!;
      const signin = await fetch(`${rest}/api/v1/users/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "root", password: ROOT_PASSWORD }) });
      expect(signin.status).toBe(200);
      const client = createRpcClient(m.ManagerClient, grpc!, { defaultDeadlineMs: 5000 });
      try {
        await unary(client, "updateScheduler", m.UpdateSchedulerRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: "s1", ip: "127.0.0.1", port: 8002, schedulerClusterId: 1 }));
        const stream = bidiStream(client, "keepAlive");
        await stream.write(m.KeepAliveRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: "s1", ip: "127.0.0.1", clusterId: 1 }));
        await stream.next();
        const { schedulers } = await unary(client, "listSchedulers", m.ListSchedulersRequest.create({ hostname: "p", ip: "127.0.0.2" }));
        expect(schedulers.map((s) => s.hostname)).toEqual(["s1"]);
        stream.cancel();
      } finally {
        client.close();
      }
      const metrics = await (await fetch(`${rest}/metrics`)).text();
      expect(metrics).toContain("df_manager_keepalive_streams");
    } finally {
      cli.kill("SIGTERM");
    }
    expect(await cli.exit).toBe(0);
    // The data survives a restart in the same data dir.
    const again = startCli(["--config", config, "--data-dir", dir]);
    try {
      await waitFor(() => again.stdout.length > 0, 30_000, "the readiness line after restart");
      const rest = /rest=(\S+)/.exec(again.stdout[0]!)![1]!;
      const token = (await (await fetch(`${rest}/api/v1/users/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "root", password: ROOT_PASSWORD }) })).json()) as { token: string };
      const list = (await (await fetch(`${rest}/api/v1/schedulers`, { headers: { authorization: `Bearer ${token.token}` } })).json()) as Array<{ hostname: string }>;
      expect(list.map((s) => s.hostname)).toEqual(["s1"]);
    } finally {
      again.kill("SIGTERM");
    }
    expect(await again.exit).toBe(0);
  });

  it("fails clearly when the database is unreachable at start, after retrying", async () => {
    const cli = startCli(["--database-url", "postgres://df:secret@127.0.0.1:1/df", "--rest-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0"], {
      DF_MANAGER_DATABASE__CONNECT_ATTEMPTS: "3",
      DF_MANAGER_DATABASE__RETRY_DELAY: "50ms",
      DF_MANAGER_LOG__LEVEL: "silent",
    });
    expect(await cli.exit).toBe(1);
    expect(cli.stderr()).toMatch(/df-manager: cannot start: cannot open the database postgres:\/\/df:\*\*\*@127\.0\.0\.1:1\/df after 3 attempts: .*ECONNREFUSED/);
    expect(cli.stderr()).not.toContain("secret");
  });

  it("refuses to start without a root password, and explains", async () => {
    const cli = startCli(["--database-url", "pglite:"], { DF_MANAGER_ROOT_PASSWORD: "" });
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toMatch(/initial root password is not set/);
    const help = startCli(["--help"]);
    expect(await help.exit).toBe(0);
    expect(help.stdout.join("\n")).toContain("--database-url");
  });
});
