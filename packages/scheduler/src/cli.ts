import { dirname, resolve } from "node:path";
import { Command, Option } from "commander";
import { loadConfig, runService, type LogLevel } from "@df/interface";
import { formatAddress } from "@df/rpc";
import { createLogger } from "@df/telemetry";
import { schedulerConfigSchema } from "./config.js";
import { Scheduler } from "./scheduler.js";

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(",").map((part) => part.trim()).filter(Boolean)];

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
    )
    .exitOverride();
  try {
    program.parse(argv);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const flags = program.opts<{ config?: string; listen?: string; metricsListen?: string; manager?: string[]; hostname?: string; logLevel?: LogLevel }>();
  return runService({
    name: "df-scheduler",
    async create() {
      const { config } = await loadConfig({
        schema: schedulerConfigSchema,
        name: "scheduler",
        ...(flags.config ? { file: resolve(flags.config) } : {}),
        envPrefix: "DF_SCHEDULER_",
        overrides: {
          ...(flags.listen ? { listen: flags.listen } : {}),
          ...(flags.metricsListen !== undefined ? { metricsListen: flags.metricsListen } : {}),
          ...(flags.manager?.length ? { manager: { addresses: flags.manager } } : {}),
          ...(flags.hostname ? { host: { hostname: flags.hostname } } : {}),
          ...(flags.logLevel ? { log: { level: flags.logLevel } } : {}),
        },
      });
      const logger = createLogger({ name: "df:scheduler", level: config.log.level });
      return Scheduler.create(config, { logger, ...(flags.config ? { configDir: dirname(resolve(flags.config)) } : {}) });
    },
    // Tests and scripts wait for this exact line (the metrics URL follows when enabled).
    readyLine: (address, scheduler) =>
      `df-scheduler listening on ${formatAddress(address)}${scheduler.metricsUrl ? ` metrics=${scheduler.metricsUrl}` : ""}`,
  });
}
