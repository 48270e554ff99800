import "reflect-metadata";
import { DfError, type Clock, type Logger } from "@df/interface";
import { loadMemberTls, parseListen, warnPlaintext, type ManagerMembership, type MemberTls } from "@df/rpc";
import { ComposedService, metricsEndpointModule, type BuiltinPlugins, type DependencyContainer, type ServiceModule } from "@df/service-kit";
import type { Storage } from "@df/storage";
import { Metrics } from "@df/telemetry";
import { DownloadBandwidth } from "./bandwidth.js";
import { TaskConductor } from "./conductor/conductor.js";
import type { DaemonConfig } from "./config.js";
import type { DaemonContext } from "./composition/context.js";
import { conductorModule, handBackModule } from "./composition/conductor.js";
import { coreModule, schedulerClientsModule } from "./composition/core.js";
import { downloadServiceModule } from "./composition/download-service.js";
import { membershipModule } from "./composition/membership.js";
import { announcerModule, discoveryModule } from "./composition/scheduler-link.js";
import { storageModule } from "./composition/storage.js";
import { bandwidthModule, transferModule } from "./composition/transfer.js";
import { byteServerModule, uploadPartsModule, uploadServiceModule } from "./composition/upload.js";
import { DaemonHost } from "./host.js";
import { SchedulerDiscovery } from "./scheduler-link/scheduler-discovery.js";
import { SchemeSourceRegistry } from "./source/registry.js";
import { DaemonTokens } from "./tokens.js";
import type { PieceDownloader } from "./transfer/types.js";

export interface DaemonDeps {
  logger: Logger;
  /** Folder plugin module paths in the config are resolved from (the config file's). */
  configDir?: string;
  /** Source plugins by name, instead of the built-in ones. */
  sourceBuiltins?: BuiltinPlugins<"source">;
  /** Traffic shaper plugins by name, instead of the built-in ones. */
  shaperBuiltins?: BuiltinPlugins<"shaper">;
  /** A piece downloader of your own instead of the built-in peer transfer. */
  pieceDownloader?: PieceDownloader;
  /** The clock for time-based decisions (download.freshFor); the system's by default. */
  clock?: Clock;
}

/** Where a started daemon can be reached. */
export interface DaemonAddresses {
  /** The unix socket of the download service (dfget, dfcache). */
  socket: string;
  /** The upload gRPC service, `host:port`. */
  upload: string;
  /** The piece-byte transport, `host:port`. */
  bytes: string;
  hostId: string;
  /** The metrics endpoint, when enabled. */
  metrics?: string;
}

/**
 * The daemon's modules in start order; they stop in reverse. Each one's place follows
 * from what it needs started before it and what must still run while it stops: the
 * store and the scheduler connections outlive everything that uses them; the
 * conductor stops before the services that reach it (downloads end while clients can
 * still be told); a seed leaves the manager before anything closes.
 */
function daemonModules(ctx: DaemonContext): ServiceModule[] {
  return [
    coreModule(ctx),
    schedulerClientsModule(ctx),
    ...metricsEndpointModule(ctx.metrics, metricsListenOf(ctx.config.metricsListen), (url) => (ctx.started.metricsUrl = url)),
    storageModule(ctx),
    bandwidthModule(ctx),
    transferModule(ctx),
    ...discoveryModule(ctx),
    uploadPartsModule(ctx),
    byteServerModule(ctx),
    uploadServiceModule(ctx),
    announcerModule(),
    downloadServiceModule(ctx),
    conductorModule(),
    handBackModule(ctx),
    ...membershipModule(ctx),
  ];
}

/** `metricsListen` as host and port, or undefined when empty (no endpoint). */
function metricsListenOf(listen: string): { host: string; port: number } | undefined {
  if (!listen) return undefined;
  const [host, port] = parseListen(listen, "metricsListen");
  return { host, port };
}

/**
 * One dfdaemon: its own child container, store, task conductor, upload gRPC service,
 * piece-byte server, unix-socket download service, host announcer and metrics. Many
 * can run in one process (tests start whole clusters), sharing nothing.
 */
export class Daemon {
  readonly config: DaemonConfig;
  readonly host: DaemonHost;
  readonly metrics: Metrics;
  readonly bandwidth: DownloadBandwidth;
  readonly #logger: Logger;
  readonly #context: DaemonContext;
  readonly #service: ComposedService;
  #addresses: DaemonAddresses | undefined;
  #starting: Promise<DaemonAddresses> | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(config: DaemonConfig, deps: DaemonDeps, sources: SchemeSourceRegistry, bandwidth: DownloadBandwidth, tls: MemberTls | undefined) {
    this.config = config;
    this.bandwidth = bandwidth;
    this.host = new DaemonHost(config);
    this.#logger = deps.logger;
    // Labelled by host, so a test process with many daemons can tell them apart.
    this.metrics = new Metrics({ defaultLabels: { host_id: this.host.id } });
    this.#context = {
      config,
      logger: deps.logger,
      host: this.host,
      metrics: this.metrics,
      sources,
      bandwidth,
      ...(tls ? { tls } : {}),
      ...(deps.pieceDownloader ? { pieceDownloader: deps.pieceDownloader } : {}),
      ...(deps.clock ? { clock: deps.clock } : {}),
      started: {},
    };
    this.#service = new ComposedService(daemonModules(this.#context));
  }

  /** Validates what can be checked before anything listens: the source and shaper plugins. */
  static async create(config: DaemonConfig, deps: DaemonDeps): Promise<Daemon> {
    const tls = loadMemberTls(config.security.tls, deps.configDir ? { baseDir: deps.configDir } : {});
    if (tls === undefined) warnPlaintext(deps.logger, "dfdaemon's upload service and piece port");
    const baseDir = deps.configDir ? { baseDir: deps.configDir } : {};
    const sources = await SchemeSourceRegistry.fromConfig(config.sources, {
      logger: deps.logger,
      ...baseDir,
      ...(deps.sourceBuiltins ? { builtins: deps.sourceBuiltins } : {}),
    });
    const bandwidth = await DownloadBandwidth.fromConfig(config, {
      logger: deps.logger,
      ...baseDir,
      ...(deps.shaperBuiltins ? { builtins: deps.shaperBuiltins } : {}),
    });
    return new Daemon(config, deps, sources, bandwidth, tls);
  }

  get container(): DependencyContainer {
    return this.#service.container;
  }

  /** The addresses once started. */
  get addresses(): DaemonAddresses {
    if (!this.#addresses) throw new DfError("FAILED_PRECONDITION", "the daemon has not started");
    return this.#addresses;
  }

  get storage(): Storage {
    return this.#service.resolve(DaemonTokens.Storage);
  }

  get conductor(): TaskConductor {
    if (!this.#addresses) throw new DfError("FAILED_PRECONDITION", "the daemon has not started");
    return this.#service.resolve(TaskConductor);
  }

  /** Where the schedulers come from when `manager.addresses` is set (undefined without a manager). */
  get discovery(): SchedulerDiscovery | undefined {
    return this.#service.ownerOf(SchedulerDiscovery) ? this.#service.resolve(SchedulerDiscovery) : undefined;
  }

  /** A seed peer's registration with the manager (undefined for a normal peer or without a manager). */
  get membership(): ManagerMembership | undefined {
    return this.#context.started.membership;
  }

  /** Opens the store, starts every server and announces the host; on failure stops what started. */
  start(): Promise<DaemonAddresses> {
    if (this.#stopping) return Promise.reject(new DfError("FAILED_PRECONDITION", "the daemon was stopped; create a new one"));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<DaemonAddresses> {
    await this.#service.start();
    const { started } = this.#context;
    this.#addresses = {
      socket: started.socket ?? "",
      upload: started.upload ?? "",
      bytes: started.bytes ?? "",
      hostId: this.host.id,
      ...(started.metricsUrl ? { metrics: started.metricsUrl } : {}),
    };
    this.#logger.info("dfdaemon started", { ...this.#addresses, seed: this.host.seed, storage: this.storage.dir });
    return this.#addresses;
  }

  /**
   * Stops gracefully: downloads end (clients get UNAVAILABLE), the host leaves the
   * schedulers, servers close, the store is closed cleanly (so a restart need not
   * re-verify pieces). Safe to call more than once, and after a failed start.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#service.close().finally(() => this.#logger.info("dfdaemon stopped", { hostId: this.host.id }));
    return this.#stopping;
  }
}
