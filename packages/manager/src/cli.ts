import { Command, Option } from "commander";
import { formatAddress } from "@df/rpc";
import { runServiceCli, type ServiceFlags } from "@df/service-kit";
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
    );
  // DF_MANAGER_ROOT_PASSWORD is not a config key: keep it out of the env override scan.
  const { DF_MANAGER_ROOT_PASSWORD: rootPassword, ...env } = process.env;
  return runServiceCli({
    program,
    argv,
    configName: "manager",
    schema: managerConfigSchema,
    envPrefix: "DF_MANAGER_",
    env,
    overrides: (flags: ServiceFlags & { restListen?: string; grpcListen?: string; databaseUrl?: string; dataDir?: string }) => ({
      ...(flags.restListen ? { restListen: flags.restListen } : {}),
      ...(flags.grpcListen ? { grpcListen: flags.grpcListen } : {}),
      ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
      ...(flags.databaseUrl ? { database: { url: flags.databaseUrl } } : {}),
    }),
    loggerName: "df:manager",
    create: (config, { logger, configDir }) =>
      Manager.create(config, { logger, env: { DF_MANAGER_ROOT_PASSWORD: rootPassword }, ...(configDir ? { configDir } : {}) }),
    // Tests and scripts wait for this exact line.
    readyLine: ({ restUrl, grpc }) => `df-manager listening: rest=${restUrl} grpc=${formatAddress(grpc)}`,
  });
}
