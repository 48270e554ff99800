import "reflect-metadata";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Lifecycle } from "tsyringe";
import { DfError, systemClock, Tokens, type Clock, type Logger } from "@df/interface";
import { createServiceContainer, type DependencyContainer } from "@df/service-kit";
import { createRpcServer, formatAddress, parseListen, type Address, type RpcServer } from "@df/rpc";
import { Metrics, serveMetrics, type MetricsServer } from "@df/telemetry";
import type { ManagerConfig } from "./config.js";
import { openDatabase, type Database } from "./db/database.js";
import { FleetCache } from "./fleet/cache.js";
import { KeepAliveTracker } from "./fleet/keepalive.js";
import { PeerRecorder } from "./fleet/peers.js";
import { FleetService, managerServiceDefinition } from "./fleet/service.js";
import { FleetStore } from "./fleet/store.js";
import { JobStore, type JobRunner } from "./jobs.js";
import { PreheatJobRunner } from "./preheat/runner.js";
import { checkRootPassword } from "./rest/auth.js";
import { RestServer } from "./rest/server.js";
import { resolveSearcher, type Searcher } from "./searcher/searcher.js";
import { ManagerTokens } from "./tokens.js";

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

/**
 * One manager: its own child container, database, fleet gRPC service, REST API,
 * keepalive tracking and metrics. Many can run in one process (tests run two on one
 * PostgreSQL).
 */
export class Manager {
  readonly container: DependencyContainer;
  readonly metrics: Metrics;
  #database: Database | undefined;
  #grpc: RpcServer | undefined;
  #rest: RestServer | undefined;
  #metricsServer: MetricsServer | undefined;
  #tracker: KeepAliveTracker | undefined;
  #peers: PeerRecorder | undefined;
  #jobRunner: JobRunner | undefined;
  #addresses: ManagerAddresses | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(
    readonly config: ManagerConfig,
    private readonly deps: ManagerDeps,
    private readonly rootPassword: string,
    container: DependencyContainer,
  ) {
    this.container = container;
    this.metrics = container.resolve(ManagerTokens.Metrics);
  }

  /** Validates what needs no I/O (root password, searcher); `start` opens the database. */
  static async create(config: ManagerConfig, deps: ManagerDeps): Promise<Manager> {
    const env = deps.env ?? process.env;
    const rootPassword = checkRootPassword(config.auth.rootPassword ?? env["DF_MANAGER_ROOT_PASSWORD"]);
    const searcher: Searcher = await resolveSearcher(config.searcher, deps.configDir);
    const container = createServiceContainer();
    container.registerInstance(Tokens.Logger, deps.logger);
    container.registerInstance(Tokens.Clock, deps.clock ?? systemClock);
    container.registerInstance(ManagerTokens.Config, config);
    container.registerInstance(ManagerTokens.Searcher, searcher);
    container.registerInstance(ManagerTokens.Metrics, new Metrics({ processMetrics: true }));
    for (const service of [FleetStore, FleetCache, KeepAliveTracker, PeerRecorder, FleetService, JobStore, RestServer]) {
      container.register(service as never, { useClass: service as never }, { lifecycle: Lifecycle.ContainerScoped });
    }
    return new Manager(config, deps, rootPassword, container);
  }

  get database(): Database {
    if (!this.#database) throw new DfError("FAILED_PRECONDITION", "the manager has not started: call start() first");
    return this.#database;
  }

  get addresses(): ManagerAddresses {
    if (!this.#addresses) throw new DfError("FAILED_PRECONDITION", "the manager has not started: call start() first");
    return this.#addresses;
  }

  get metricsUrl(): string | undefined {
    return this.#metricsServer?.url;
  }

  /** Opens (and migrates) the database, then serves gRPC and REST. */
  async start(): Promise<ManagerAddresses> {
    const { config, deps, container } = this;
    const logger = deps.logger;
    const started = performance.now();
    try {
      this.#database = await openDatabase({
        url: databaseUrlOf(config),
        logger: logger.child("db"),
        connectAttempts: config.database.connectAttempts,
        retryDelayMs: config.database.retryDelay,
        poolSize: config.database.poolSize,
        ...(deps.memoryTemplateFile ? { memoryTemplateFile: deps.memoryTemplateFile } : {}),
      });
      container.registerInstance(ManagerTokens.Database, this.#database);
      const runner =
        typeof deps.jobRunner === "function"
          ? deps.jobRunner(container)
          : (deps.jobRunner ?? new PreheatJobRunner(this.#database, container.resolve(JobStore), config, logger.child("preheat")));
      this.#jobRunner = runner;
      container.registerInstance(ManagerTokens.JobRunner, runner);

      const store = container.resolve(FleetStore);
      await store.seedDefaults();
      const rest = container.resolve(RestServer);
      if (await rest.auth.ensureRoot(this.rootPassword)) logger.info("root user created");
      this.#registerMetrics(store);

      const fleet = container.resolve(FleetService);
      this.#tracker = container.resolve(KeepAliveTracker);
      this.#peers = container.resolve(PeerRecorder);
      const listCounter = this.metrics.counter("df_manager_list_schedulers_total", "ListSchedulers answers by outcome", ["outcome"]);
      const inactive = this.metrics.counter("df_manager_members_inactive_total", "Members marked inactive by this manager", ["kind", "reason"]);
      fleet.events = { onListSchedulers: (outcome) => listCounter.inc({ outcome }) };
      this.#tracker.events = { onInactive: (kind, _id, reason) => inactive.inc({ kind, reason }) };

      this.#grpc = createRpcServer({ address: config.grpcListen });
      this.#grpc.addService(managerServiceDefinition(), fleet.handlers());
      const [grpc, restAddress] = await Promise.all([this.#grpc.start(), rest.start()]);
      this.#rest = rest;
      this.#tracker.start();
      this.#peers.start();
      if (runner instanceof PreheatJobRunner) runner.resumeAfter(2 * config.keepalive.interval);
      if (config.metricsListen) {
        const [host, port] = parseListen(config.metricsListen, "metricsListen", "0.0.0.0");
        this.#metricsServer = await serveMetrics(this.metrics, { host, port });
      }
      const host = restAddress.family === "IPv6" ? `[${restAddress.address}]` : restAddress.address;
      this.#addresses = { rest: restAddress, restUrl: `http://${host}:${restAddress.port}`, grpc };
      logger.info("manager started", {
        rest: this.#addresses.restUrl,
        grpc: formatAddress(grpc),
        database: this.#database.url,
        databaseKind: this.#database.kind,
        keepaliveTimeoutMs: this.#tracker.timeoutMs,
        startMs: Math.round(performance.now() - started),
      });
      return this.#addresses;
    } catch (error) {
      await this.stop().catch(() => {});
      throw error;
    }
  }

  #registerMetrics(store: FleetStore): void {
    const tracker = () => this.#tracker;
    this.metrics.gauge("df_manager_keepalive_streams", "KeepAlive streams open on this manager", [], (g) => g.set(tracker()?.streams ?? 0));
    this.metrics.gauge("df_manager_members", "Schedulers and seed peers by state", ["kind", "state"], async (g) => {
      const counts = await store.memberCounts().catch(() => undefined);
      if (!counts) return;
      g.reset();
      for (const c of counts) g.set({ kind: c.kind, state: c.state }, c.count);
    });
  }

  /** Stops serving, flushes what is pending and closes the database. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#tracker?.stop();
      await this.#grpc?.stop({ graceMs: 1000 });
      await this.#rest?.stop();
      await this.#metricsServer?.close();
      await this.#peers?.stop();
      await this.#jobRunner?.close?.();
      await this.#database?.close();
      this.container.dispose();
    })();
    return this.#stopping;
  }
}
