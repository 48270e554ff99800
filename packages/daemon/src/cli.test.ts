import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { common, daemonDownload, serverStream, unary } from "@df/rpc";
import { DEAD_SCHEDULER, downloadClient, startOrigin, startScheduler, tempDir, waitFor } from "./test-support/cluster.js";

const run = promisify(execFile);
const packageDir = path.resolve(import.meta.dirname, "..");
const bin = path.join(packageDir, "bin", "dfdaemon.js");

interface Started {
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

function startCli(args: string[]): Started {
  const child = spawn(process.execPath, [bin, ...args], { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout.push(...chunk.split("\n").filter(Boolean)));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const exit = once(child, "exit").then(([code]) => code as number | null);
  return { stdout, stderr, exit, kill: (signal) => child.kill(signal) };
}

describe("dfdaemon binary", () => {
  // The binary runs the compiled dist/; build it (incremental, fast when up to date).
  beforeAll(async () => {
    await run("pnpm", ["exec", "tsc", "-b"], { cwd: packageDir });
  }, 120_000);

  it("prints one readiness line, serves, and stops cleanly on SIGTERM", async () => {
    const dir = await tempDir();
    const { scheduler, address } = await startScheduler();
    const origin = await startOrigin();
    const url = origin.publish("/cli.txt", Buffer.from("from the cli"));
    const socket = path.join(dir, "d.sock");
    const config = path.join(dir, "dfdaemon.yaml");
    await writeFile(
      config,
      `host:\n  hostname: cli-peer\nmetricsListen: ""\nlog:\n  level: silent\nsources:\n  - name: http\n    options:\n      destinations:\n        allow: [127.0.0.1]\n`,
    );
    const daemon = startCli([
      "--config", config,
      "--scheduler", address,
      "--storage-dir", path.join(dir, "store"),
      "--socket", socket,
      "--upload-listen", "127.0.0.1:0",
      "--bytes-listen", "127.0.0.1:0",
    ]);
    try {
      await waitFor(() => daemon.stdout.length > 0, 20_000, "the readiness line");
      expect(daemon.stdout).toHaveLength(1);
      expect(daemon.stdout[0]).toMatch(new RegExp(`^dfdaemon ready: socket=${socket} upload=127\\.0\\.0\\.1:\\d+ bytes=127\\.0\\.0\\.1:\\d+ host=127\\.0\\.0\\.1-cli-peer$`));
      expect(scheduler.resources.hosts.has("127.0.0.1-cli-peer")).toBe(true);

      const output = path.join(dir, "out.txt");
      const client = downloadClient(socket);
      const stat = () => unary(client, "statTask", daemonDownload.StatTaskRequest.create({ url, localOnly: true }));
      await expect(stat()).rejects.toMatchObject({ code: "NOT_FOUND" });
      const request = daemonDownload.DownloadTaskRequest.create({ download: common.Download.create({ url, outputPath: output }) });
      const kinds: string[] = [];
      for await (const response of serverStream(client, "downloadTask", request)) kinds.push(response.response?.$case ?? "");
      expect(kinds.at(-1)).toBe("finished");
      expect((await stat()).task?.state).toBe(common.TaskState.SUCCEEDED);
    } finally {
      daemon.kill("SIGTERM");
    }
    expect(await daemon.exit).toBe(0);
    expect(daemon.stdout).toHaveLength(1);
    await waitFor(() => !scheduler.resources.hosts.has("127.0.0.1-cli-peer"), 5000, "the host to leave the scheduler");
  });

  it("refuses a bad config with a message naming the key, exit code 2", async () => {
    const dir = await tempDir();
    const config = path.join(dir, "bad.yaml");
    await writeFile(config, "download:\n  concurrentPieceCount: lots\n");
    const daemon = startCli(["--config", config, "--scheduler", DEAD_SCHEDULER, "--storage-dir", path.join(dir, "store")]);
    expect(await daemon.exit).toBe(2);
    expect(daemon.stderr.join("")).toMatch(/download\.concurrentPieceCount/);
    expect(daemon.stdout).toEqual([]);
  });
});
