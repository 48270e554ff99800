import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import type { Logger, LogLevel } from "@df/interface";
import { createLogger } from "@df/telemetry";
import type { z } from "zod";
import { loadConfig } from "./config.js";
import { type RunnableService, runService, SERVICE_EXIT, type StartedOf } from "./run-service.js";

/** Flags every service binary has. */
export interface ServiceFlags {
  config?: string;
  logLevel?: string;
}

export interface ServiceCliOptions<Flags extends ServiceFlags, S extends z.ZodType, Service extends RunnableService<unknown>> {
  /** The binary's commander program, with its own options; help and parse errors are handled here. */
  program: Command;
  argv: readonly string[];
  /** The config's name in error messages (`dfdaemon`, `scheduler`). */
  configName: string;
  schema: S;
  /** Environment variables with this prefix override config keys (`DF_DAEMON_`). */
  envPrefix: string;
  /** The environment scanned for overrides; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Config keys the flags set; flags win over the file and the environment. */
  overrides(flags: Flags): Record<string, unknown>;
  /** The logger's component name (`df:daemon`). */
  loggerName: string;
  /** Builds the service from its config; `configDir` is the config file's folder, for relative paths in it. */
  create(config: z.output<S>, context: { logger: Logger; configDir?: string; flags: Flags }): Promise<Service>;
  /** The one line on stdout once the service serves: tests and scripts wait for it. */
  readyLine(started: StartedOf<Service>, service: Service): string;
}

/**
 * The whole life of a service binary: flags, config (file, then environment, then
 * flags), logger, then runService. Resolves to the exit code: 0 stopped cleanly (or
 * --help, --version), 1 failed while starting or running, 2 bad flags or config.
 */
export async function runServiceCli<Flags extends ServiceFlags, S extends z.ZodType, Service extends RunnableService<unknown>>(
  options: ServiceCliOptions<Flags, S, Service>,
): Promise<number> {
  const program = options.program.exitOverride();
  try {
    program.parse(options.argv);
  } catch (error) {
    // commander has printed the help, the version or what was wrong with the flags.
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? SERVICE_EXIT.ok : SERVICE_EXIT.badConfig;
  }
  const flags = program.opts<Flags>();
  const file = flags.config ? resolve(flags.config) : undefined;
  return runService({
    name: program.name(),
    async create() {
      const { config } = await loadConfig({
        schema: options.schema,
        name: options.configName,
        ...(file ? { file } : {}),
        envPrefix: options.envPrefix,
        ...(options.env ? { env: options.env } : {}),
        overrides: { ...options.overrides(flags), ...(flags.logLevel ? { log: { level: flags.logLevel } } : {}) },
      });
      const level = (config as { log?: { level?: LogLevel } }).log?.level;
      const logger = createLogger({ name: options.loggerName, ...(level ? { level } : {}) });
      return options.create(config, { logger, flags, ...(file ? { configDir: dirname(file) } : {}) });
    },
    readyLine: options.readyLine,
  });
}

/** A commander collector for a flag given several times or comma-separated: `--x a,b --x c`. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((part) => part.trim()).filter(Boolean)];
}
