import { dirname, resolve } from "node:path";
import { Command, Option } from "commander";
import { loadConfig, runService, type LogLevel } from "@df/interface";
import { formatAddress } from "@df/rpc";
import { createLogger } from "@df/telemetry";
import { managerConfigSchema } from "./config.js";
import { Manager } from "./manager.js";

/** Exit codes: 0 stopped cleanly, 1 failed while starting or running, 2 bad config or flags. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("df-manager")
    .description("Run a df manager: scheduler clusters, keepalive, dynamic config, the searcher, REST API.")
    .option("-c, --config <file>", "YAML config file (every key has a default)")
    .option("--rest-listen <address>", "REST API address, e.g. 0.0.0.0:8080 (port 0: any free port)")
    .option("--grpc-listen <address>", "gRPC address for schedulers and peers, e.g. 0.0.0.0:65003")
    .option("--database-url <url>", "pglite: (memory), pglite://<dir>, or postgres://user:pass@host:port/db")
    .option("--data-dir <dir>", "the manager's files; the embedded database defaults to <dir>/db")
    .addOption(new Option("--log-level <level>", "log level").choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"]))
    .addHelpText(
      "after",
      "\nEnvironment: DF_MANAGER_<KEY>__<SUBKEY>=value overrides a config key, e.g.\n" +
        "DF_MANAGER_DATABASE__URL=postgres://df@db:5432/df. DF_MANAGER_ROOT_PASSWORD sets the\n" +
        "initial root password (required unless auth.rootPassword is set; no well-known defaults).",
    )
    .exitOverride();
  try {
    program.parse(argv);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const flags = program.opts<{ config?: string; restListen?: string; grpcListen?: string; databaseUrl?: string; dataDir?: string; logLevel?: LogLevel }>();
  return runService({
    name: "df-manager",
    async create() {
      // DF_MANAGER_ROOT_PASSWORD is not a config key: keep it out of the env override scan.
      const { DF_MANAGER_ROOT_PASSWORD: rootPassword, ...env } = process.env;
      const { config } = await loadConfig({
        schema: managerConfigSchema,
        name: "manager",
        ...(flags.config ? { file: resolve(flags.config) } : {}),
        envPrefix: "DF_MANAGER_",
        env,
        overrides: {
          ...(flags.restListen ? { restListen: flags.restListen } : {}),
          ...(flags.grpcListen ? { grpcListen: flags.grpcListen } : {}),
          ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
          ...(flags.databaseUrl ? { database: { url: flags.databaseUrl } } : {}),
          ...(flags.logLevel ? { log: { level: flags.logLevel } } : {}),
        },
      });
      const logger = createLogger({ name: "df:manager", level: config.log.level });
      return Manager.create(config, {
        logger,
        env: { DF_MANAGER_ROOT_PASSWORD: rootPassword },
        ...(flags.config ? { configDir: dirname(resolve(flags.config)) } : {}),
      });
    },
    // Tests and scripts wait for this exact line.
    readyLine: ({ restUrl, grpc }) => `df-manager listening: rest=${restUrl} grpc=${formatAddress(grpc)}`,
  });
}
