import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { collectList, runServiceCli, type ServiceFlags } from "./service-cli.js";

const schema = z.strictObject({
  port: z.number().int().default(1),
  names: z.array(z.string()).default([]),
  log: z.strictObject({ level: z.string().default("info") }).prefault({}),
});

const dir = mkdtempSync(join(tmpdir(), "df-service-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Flags = ServiceFlags & { port?: string; name?: string[] };

function run(argv: string[], seen: { config?: z.output<typeof schema>; configDir?: string | undefined } = {}) {
  const program = new Command("svc").option("-c, --config <file>").option("--port <n>").option("--name <n>", "names", collectList).option("--log-level <l>");
  return runServiceCli({
    program,
    argv: ["node", "svc", ...argv],
    configName: "svc",
    schema,
    envPrefix: "DF_SVC_TEST_",
    env: { DF_SVC_TEST_PORT: "7" },
    overrides: (flags: Flags) => ({ ...(flags.port ? { port: Number(flags.port) } : {}), ...(flags.name ? { names: flags.name } : {}) }),
    loggerName: "df:svc",
    create: async (config, { configDir }) => {
      seen.config = config;
      seen.configDir = configDir;
      return { start: async () => ({ port: config.port }), stop: async () => {} };
    },
    readyLine: (started) => `svc ready on ${started.port}`,
  });
}

describe("runServiceCli", () => {
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  afterEach(() => {
    stdout.mockClear();
    stderr.mockClear();
  });

  it("layers the config file, the environment and the flags, then runs until SIGTERM", async () => {
    const file = join(dir, "svc.yaml");
    writeFileSync(file, "port: 3\nnames: [from-file]\nlog:\n  level: warn\n");
    const seen: Parameters<typeof run>[1] = {};
    const exit = run(["--config", file, "--name", "a,b", "--name", "c", "--log-level", "error"], seen);
    await vi.waitFor(() => expect(stdout).toHaveBeenCalledWith("svc ready on 7\n"));
    expect(seen.config).toEqual({ port: 7, names: ["a", "b", "c"], log: { level: "error" } });
    expect(seen.configDir).toBe(dir);
    process.emit("SIGTERM");
    expect(await exit).toBe(0);
  });

  it("exits 0 on --help and 2 on an unknown flag or a bad config key, saying which", async () => {
    expect(await run(["--help"])).toBe(0);
    expect(await run(["--no-such-flag"])).toBe(2);
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "prot: 3\n");
    expect(await run(["--config", file])).toBe(2);
    expect(stderr.mock.calls.map((call) => String(call[0])).join("")).toMatch(/prot/);
  });
});
