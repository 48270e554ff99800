import { Command, Option } from "commander";
import { formatAddress } from "@df/rpc";
import { collectList as collect, runServiceCli, type ServiceFlags } from "@df/service-kit";
import { schedulerConfigSchema } from "./config.js";
import { Scheduler } from "./scheduler.js";

/** Exit codes: 0 stopped cleanly, 1 failed while running, 2 bad config or flags. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("df-scheduler")
    .description("Run a df scheduler: it steers every peer of a task to the best parents.")
    .option("-c, --config <file>", "YAML config file (every key has a default)")
    .option("--listen <address>", "gRPC address, e.g. 0.0.0.0:8002 or unix:/run/df/scheduler.sock")
    .option("--metrics-listen <address>", "Prometheus /metrics address; empty disables")
    .option("--manager <address>", "manager gRPC address host:port; repeat or comma-separate for several", collect)
    .option("--hostname <name>", "host name registered with the manager")
    .addOption(new Option("--log-level <level>", "log level").choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"]))
    .addHelpText(
      "after",
      "\nEnvironment: DF_SCHEDULER_<KEY>__<SUBKEY>=value overrides a config key,\n" +
        "e.g. DF_SCHEDULER_SCHEDULING__CANDIDATE_PARENT_LIMIT=5 or DF_SCHEDULER_MANAGER__KEEP_ALIVE_INTERVAL=2s.",
    );
  return runServiceCli({
    program,
    argv,
    configName: "scheduler",
    schema: schedulerConfigSchema,
    envPrefix: "DF_SCHEDULER_",
    overrides: (flags: ServiceFlags & { listen?: string; metricsListen?: string; manager?: string[]; hostname?: string }) => ({
      ...(flags.listen ? { listen: flags.listen } : {}),
      ...(flags.metricsListen !== undefined ? { metricsListen: flags.metricsListen } : {}),
      ...(flags.manager?.length ? { manager: { addresses: flags.manager } } : {}),
      ...(flags.hostname ? { host: { hostname: flags.hostname } } : {}),
    }),
    loggerName: "df:scheduler",
    create: (config, { logger, configDir }) => Scheduler.create(config, { logger, ...(configDir ? { configDir } : {}) }),
    // Tests and scripts wait for this exact line (the metrics URL follows when enabled).
    readyLine: (address, scheduler) =>
      `df-scheduler listening on ${formatAddress(address)}${scheduler.metricsUrl ? ` metrics=${scheduler.metricsUrl}` : ""}`,
  });
}
