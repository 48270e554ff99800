import "reflect-metadata";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { DfError, type Clock, type Logger } from "@df/interface";
import { formatAddress, loadMemberTls, parseListen, warnPlaintext, type Address } from "@df/rpc";
import { ComposedService, metricsEndpointModule, type DependencyContainer, type ServiceModule } from "@df/service-kit";
import { Metrics } from "@df/telemetry";
import {
  coreModule,
  databaseModule,
  fleetSetupModule,
  grpcModule,
  jobRunnerModule,
  keepAliveModule,
  peerRecorderModule,
  restModule,
  type ManagerContext,
} from "./composition/modules.js";
import type { ManagerConfig } from "./config.js";
import type { Database } from "./db/database.js";
import type { JobRunner } from "./jobs.js";
import { checkRootPassword } from "./rest/auth.js";
import { resolveSearcher } from "./searcher/searcher.js";

export interface ManagerDeps {
  logger: Logger;
  clock?: Clock;
  /** Runs stored jobs; default: the preheat runner (other job types stay PENDING). */
  jobRunner?: JobRunner | ((container: DependencyContainer) => JobRunner);
  /** Folder a searcher module path in the config is resolved from. */
  configDir?: string;
  /** Environment for DF_MANAGER_ROOT_PASSWORD (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** In-memory PGlite only: cache of a migrated empty database (tests). */
  memoryTemplateFile?: string;
}

export interface ManagerAddresses {
  rest: AddressInfo;
  restUrl: string;
  grpc: Address;
}

/** The database URL config names, or PGlite in `<dataDir>/db`. */
export function databaseUrlOf(config: ManagerConfig): string {
  return config.database.url ?? `pglite://${join(config.dataDir, "db")}`;
}

/** `metricsListen` as host and port (any interface when it names only a port), or undefined when empty. */
function metricsListenOf(listen: string): { host: string; port: number } | undefined {
  if (!listen) return undefined;
  const [host, port] = parseListen(listen, "metricsListen", "0.0.0.0");
  return { host, port };
}

/** The manager's modules in start order; they stop in reverse (keepalive tracking first, the database last). */
function managerModules(ctx: ManagerContext): ServiceModule[] {
  return [
    coreModule(ctx),
    ...metricsEndpointModule(ctx.metrics, metricsListenOf(ctx.config.metricsListen), (url) => (ctx.started.metricsUrl = url)),
    databaseModule(ctx, databaseUrlOf(ctx.config)),
    jobRunnerModule(ctx),
    fleetSetupModule(ctx),
    peerRecorderModule(),
    grpcModule(ctx),
    restModule(ctx),
    keepAliveModule(ctx),
  ];
}

/**
 * One manager: its own child container, database, fleet gRPC service, REST API,
 * keepalive tracking and metrics. Many can run in one process (tests run two on one
 * PostgreSQL).
 */
export class Manager {
  readonly metrics: Metrics;
  readonly #context: ManagerContext;
  readonly #service: ComposedService;
  #addresses: ManagerAddresses | undefined;
  #starting: Promise<ManagerAddresses> | undefined;

  private constructor(
    readonly config: ManagerConfig,
    private readonly deps: ManagerDeps,
    context: ManagerContext,
  ) {
    this.metrics = context.metrics;
    this.#context = context;
    this.#service = new ComposedService(managerModules(context));
  }

  /** Validates what needs no I/O (root password, searcher); `start` opens the database. */
  static async create(input: ManagerConfig, deps: ManagerDeps): Promise<Manager> {
    // Relative security.tls paths are the config file's: absolute from here on, so every
    // reader of the config (the preheat runner's scheduler calls too) finds them.
    const files = input.security.tls;
    const config: ManagerConfig =
      files && deps.configDir
        ? { ...input, security: { tls: { ca: resolve(deps.configDir, files.ca), cert: resolve(deps.configDir, files.cert), key: resolve(deps.configDir, files.key) } } }
        : input;
    const env = deps.env ?? process.env;
    const rootPassword = checkRootPassword(config.auth.rootPassword ?? env["DF_MANAGER_ROOT_PASSWORD"]);
    const searcher = await resolveSearcher(config.searcher, deps.configDir);
    const tls = loadMemberTls(config.security.tls);
    if (tls === undefined) warnPlaintext(deps.logger, "manager's fleet gRPC service");
    const context: ManagerContext = {
      config,
      logger: deps.logger,
      ...(deps.clock ? { clock: deps.clock } : {}),
      metrics: new Metrics({ processMetrics: true }),
      searcher,
      rootPassword,
      ...(tls ? { tls } : {}),
      ...(deps.jobRunner ? { jobRunner: deps.jobRunner } : {}),
      ...(deps.memoryTemplateFile ? { memoryTemplateFile: deps.memoryTemplateFile } : {}),
      // Read when a job runner is made from the container, after the manager exists.
      container: () => manager.container,
      started: {},
    };
    const manager = new Manager(config, deps, context);
    return manager;
  }

  get container(): DependencyContainer {
    return this.#service.container;
  }

  get database(): Database {
    if (!this.#context.started.database) throw new DfError("FAILED_PRECONDITION", "the manager has not started: call start() first");
    return this.#context.started.database;
  }

  get addresses(): ManagerAddresses {
    if (!this.#addresses) throw new DfError("FAILED_PRECONDITION", "the manager has not started: call start() first");
    return this.#addresses;
  }

  get metricsUrl(): string | undefined {
    return this.#context.started.metricsUrl;
  }

  /** Opens (and migrates) the database, then serves gRPC and REST. */
  start(): Promise<ManagerAddresses> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<ManagerAddresses> {
    const started = performance.now();
    await this.#service.start();
    const { rest, grpc, database, keepaliveTimeoutMs } = this.#context.started;
    if (!rest || !grpc || !database) throw new DfError("INTERNAL", "the manager's modules started without their addresses");
    const host = rest.family === "IPv6" ? `[${rest.address}]` : rest.address;
    this.#addresses = { rest, restUrl: `http://${host}:${rest.port}`, grpc };
    this.deps.logger.info("manager started", {
      rest: this.#addresses.restUrl,
      grpc: formatAddress(grpc),
      database: database.url,
      databaseKind: database.kind,
      keepaliveTimeoutMs,
      startMs: Math.round(performance.now() - started),
    });
    return this.#addresses;
  }

  /** Stops serving, flushes what is pending and closes the database. Safe to call twice. */
  stop(): Promise<void> {
    return this.#service.close();
  }
}
