import "reflect-metadata";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import {
  DfError,
  Tokens,
  createServiceContainer,
  systemClock,
  type BuiltinPlugins,
  type DependencyContainer,
  type Logger,
} from "@df/interface";
import { createRpcServer, daemonDownload, daemonUpload, formatAddress, parseListen, type ManagerMembership, type RpcServer } from "@df/rpc";
import { Storage } from "@df/storage";
import { Metrics, serveMetrics, type MetricsServer } from "@df/telemetry";
import { DownloadBandwidth } from "./bandwidth.js";
import type { DaemonConfig } from "./config.js";
import { startHandBack, type HandBack } from "./cache/hand-back.js";
import { HostAnnouncer } from "./scheduler-link/announcer.js";
import { TaskConductor } from "./conductor/conductor.js";
import { DaemonHost } from "./host.js";
import { DaemonMetrics } from "./conductor/metrics.js";
import { groupId } from "./group.js";
import { SchedulerClients } from "./scheduler-link/scheduler-clients.js";
import { SchedulerDiscovery } from "./scheduler-link/scheduler-discovery.js";
import { seedPeerMembership } from "./scheduler-link/seed-membership.js";
import { downloadServiceHandlers } from "./download-service/handlers.js";
import { triggerHandlers } from "./download-service/upload-handlers.js";
import { SchemeSourceRegistry } from "./source/registry.js";
import { DaemonTokens } from "./tokens.js";
import { createPeerTransfer, type PeerTransfer } from "./transfer-wiring.js";
import { PeerClientPool } from "./transfer/index.js";
import type { PieceDownloader } from "./transfer/types.js";
import { PieceByteServer, PieceSpread, TaskFailures, TaskUploadGate, UploadLimiter, createUploadHandlers } from "./upload/index.js";

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

/** Metrics of one daemon, labelled by host so a test process with many daemons can tell them apart. */
function newMetrics(hostId: string): Metrics {
  return new Metrics({ defaultLabels: { host_id: hostId } });
}

/**
 * One dfdaemon: its own child container, store, task conductor, upload gRPC service,
 * piece-byte server, unix-socket download service, host announcer and metrics. Many
 * can run in one process (tests start whole clusters), sharing nothing.
 */
export class Daemon {
  readonly container: DependencyContainer;
  readonly config: DaemonConfig;
  readonly host: DaemonHost;
  readonly metrics: Metrics;
  readonly #logger: Logger;
  readonly #sources: SchemeSourceRegistry;
  readonly #bandwidth: DownloadBandwidth;
  readonly #deps: DaemonDeps;
  #storage: Storage | undefined;
  #conductor: TaskConductor | undefined;
  #announcer: HostAnnouncer | undefined;
  #discovery: SchedulerDiscovery | undefined;
  #membership: ManagerMembership | undefined;
  #handBack: HandBack | undefined;
  #transfer: PeerTransfer | undefined;
  #byteServer: PieceByteServer | undefined;
  #uploadServer: RpcServer | undefined;
  #downloadServer: RpcServer | undefined;
  #metricsServer: MetricsServer | undefined;
  #addresses: DaemonAddresses | undefined;
  /** The start itself, without the cleanup after a failure (stop waits for this one). */
  #startup: Promise<DaemonAddresses> | undefined;
  #starting: Promise<DaemonAddresses> | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(config: DaemonConfig, deps: DaemonDeps, sources: SchemeSourceRegistry, bandwidth: DownloadBandwidth) {
    this.config = config;
    this.#deps = deps;
    this.#sources = sources;
    this.#bandwidth = bandwidth;
    this.host = new DaemonHost(config);
    this.#logger = deps.logger;
    this.metrics = newMetrics(this.host.id);
    this.container = createServiceContainer();
  }

  /** Validates what can be checked before anything listens: the source and shaper plugins. */
  static async create(config: DaemonConfig, deps: DaemonDeps): Promise<Daemon> {
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
    return new Daemon(config, deps, sources, bandwidth);
  }

  /** The download bandwidth (traffic shaper and total limit). */
  get bandwidth(): DownloadBandwidth {
    return this.#bandwidth;
  }

  /** The addresses once started. */
  get addresses(): DaemonAddresses {
    if (!this.#addresses) throw new DfError("FAILED_PRECONDITION", "the daemon has not started");
    return this.#addresses;
  }

  get storage(): Storage {
    if (!this.#storage) throw new DfError("FAILED_PRECONDITION", "the daemon has not started");
    return this.#storage;
  }

  get conductor(): TaskConductor {
    if (!this.#conductor) throw new DfError("FAILED_PRECONDITION", "the daemon has not started");
    return this.#conductor;
  }

  /** Where the schedulers come from when `manager.addresses` is set (undefined without a manager). */
  get discovery(): SchedulerDiscovery | undefined {
    return this.#discovery;
  }

  /** A seed peer's registration with the manager (undefined for a normal peer or without a manager). */
  get membership(): ManagerMembership | undefined {
    return this.#membership;
  }

  /** Opens the store, starts every server and announces the host; on failure stops what started. */
  start(): Promise<DaemonAddresses> {
    if (this.#stopping) return Promise.reject(new DfError("FAILED_PRECONDITION", "the daemon was stopped; create a new one"));
    this.#startup ??= this.#start();
    this.#starting ??= this.#startup.catch(async (error: unknown) => {
      await this.stop().catch(() => {});
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<DaemonAddresses> {
    const { config, container, host } = this;
    const logger = this.#logger;
    const gc = config.storage.gc;
    const storage = await Storage.open({
      dir: path.resolve(config.storage.dir),
      directIO: config.storage.directIO,
      logger: logger.child("storage"),
      gc: {
        intervalMs: gc.interval,
        taskTtlMs: gc.taskTtl,
        highWatermarkPercent: gc.highWatermarkPercent,
        lowWatermarkPercent: gc.lowWatermarkPercent,
      },
    });
    this.#storage = storage;

    const schedulers = new SchedulerClients(config.scheduler.addresses);
    const limiter = new UploadLimiter({
      concurrency: config.upload.concurrencyLimit,
      ...(config.upload.rateLimit ? { rateLimit: config.upload.rateLimit } : {}),
    });
    if (config.manager.addresses.length > 0) {
      this.#discovery = new SchedulerDiscovery({
        config,
        host,
        schedulers,
        logger,
        metrics: this.metrics,
        // Schedulers that joined learn this host now rather than at the next interval.
        onChange: ({ added }) => added.forEach((address) => void this.#announcer?.announceTo(address).catch(() => {})),
        // The cluster's load limit wins over upload.concurrencyLimit, from the next upload
        // on; when the manager no longer sets one (0), the local value applies again.
        onLoadLimit: (loadLimit) => {
          const limit = loadLimit > 0 ? loadLimit : config.upload.concurrencyLimit;
          if (limit === limiter.limit) return;
          logger.info("upload load limit", { from: limiter.limit, to: limit, source: loadLimit > 0 ? "manager" : "config" });
          limiter.setLimit(limit);
        },
      });
      // The ring is in place (the manager's list, or the static one) before anything calls a scheduler.
      await this.#discovery.start();
    }
    const failures = new TaskFailures();
    const bandwidth = this.#bandwidth;
    bandwidth.start();
    this.#transfer = createPeerTransfer(config, logger, bandwidth);
    container.registerInstance(Tokens.Logger, logger);
    container.registerInstance(Tokens.Clock, systemClock);
    container.registerInstance(DaemonTokens.Config, config);
    container.registerInstance(DaemonTokens.Storage, storage);
    container.registerInstance(DaemonTokens.Metrics, this.metrics);
    container.registerInstance(DaemonTokens.Bandwidth, bandwidth);
    container.registerInstance(DaemonTokens.PieceDownloader, this.#deps.pieceDownloader ?? this.#transfer.downloader);
    container.registerInstance(Tokens.SourceRegistry, this.#sources);
    container.registerInstance(DaemonHost, host);
    container.registerInstance(SchedulerClients, schedulers);
    container.registerInstance(PeerClientPool, this.#transfer.pool);
    container.registerInstance(TaskFailures, failures);
    container.registerInstance(HostAnnouncer, container.resolve(HostAnnouncer));
    const daemonMetrics = new DaemonMetrics(this.metrics, () => this.#conductor?.running ?? 0);
    daemonMetrics.watchBandwidth(bandwidth);
    daemonMetrics.watchStorage(storage);
    container.registerInstance(DaemonMetrics, daemonMetrics);
    const conductor = container.resolve(TaskConductor);
    const announcer = container.resolve(HostAnnouncer);
    this.#conductor = conductor;
    this.#announcer = announcer;
    // Tasks announced to a fallback scheduler go to their owner again when it is back.
    this.#handBack = startHandBack({ conductor, storage, schedulers, host, logger });

    const spread = config.seedPeer.enable && config.seedPeer.spreadWindow > 0 ? new PieceSpread(config.seedPeer.spreadWindow) : undefined;
    const taskGate = config.upload.concurrencyPerTask > 0 ? { taskGate: new TaskUploadGate(config.upload.concurrencyPerTask) } : {};
    this.#byteServer = new PieceByteServer({
      storage,
      limiter,
      listen: config.upload.bytesListen,
      logger,
      ...(spread ? { spread } : {}),
      ...taskGate,
      limits: {
        headerTimeoutMs: config.upload.headerTimeout,
        idleTimeoutMs: config.upload.idleTimeout,
        writeTimeoutMs: config.upload.writeTimeout,
        connectionsPerAddress: config.upload.connectionsPerAddress,
        exemptAddresses: config.upload.connectionsPerAddressExempt,
      },
    });
    const bytesPort = await this.#byteServer.start();
    const byteServer = this.#byteServer;
    daemonMetrics.watchUploads(() => byteServer.served);
    daemonMetrics.watchUploadLimits(() => byteServer.cuts);

    this.#uploadServer = createRpcServer({ address: config.upload.listen });
    this.#uploadServer.addService(daemonUpload.DfdaemonUploadService, {
      ...createUploadHandlers({
        storage,
        host,
        limiter,
        logger,
        failures,
        ...(spread ? { spread } : {}),
        ...taskGate,
        announceWindowMs: config.upload.announceWindow,
        cutThrough: config.upload.cutThrough,
        peerIdOf: (taskId) => conductor.peerIdOf(taskId),
        describeHost: () => announcer.describe(),
      }),
      ...triggerHandlers({ conductor, host, logger }),
    });
    const upload = await this.#uploadServer.start();
    if (upload.kind !== "tcp") throw new DfError("INVALID_ARGUMENT", `upload.listen must be a TCP address (host:port), got ${config.upload.listen}`);
    host.setPorts({ upload: upload.port, download: bytesPort });
    if (host.seed && config.manager.addresses.length > 0) {
      this.#membership = seedPeerMembership(config, host, logger, this.metrics);
      this.#membership.start();
    }

    announcer.setLoad(() => limiter.load());
    await announcer.start();

    const socket = path.resolve(config.download.socket);
    await mkdir(path.dirname(socket), { recursive: true });
    const gid = config.download.socketGroup === undefined ? undefined : await groupId(config.download.socketGroup);
    this.#downloadServer = createRpcServer({ address: `unix:${socket}`, socket: gid === undefined ? { mode: 0o600 } : { mode: 0o660, gid } });
    this.#downloadServer.addService(
      daemonDownload.DfdaemonDownloadService,
      downloadServiceHandlers({ conductor, storage, schedulers, host, logger }),
    );
    await this.#downloadServer.start();

    if (config.metricsListen) {
      const [metricsHost, metricsPort] = parseListen(config.metricsListen, "metricsListen");
      this.#metricsServer = await serveMetrics(this.metrics, { host: metricsHost, port: metricsPort });
    }
    const bytesHost = upload.host;
    this.#addresses = {
      socket,
      upload: formatAddress(upload),
      bytes: formatAddress({ kind: "tcp", host: bytesHost, port: bytesPort }),
      hostId: host.id,
      ...(this.#metricsServer ? { metrics: this.#metricsServer.url } : {}),
    };
    logger.info("dfdaemon started", { ...this.#addresses, seed: host.seed, storage: storage.dir });
    return this.#addresses;
  }

  /**
   * Stops gracefully: downloads end (clients get UNAVAILABLE), the host leaves the
   * schedulers, servers close, the store is closed cleanly (so a restart need not
   * re-verify pieces). Safe to call more than once, and after a failed start.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await this.#startup?.catch(() => {});
    const failures: unknown[] = [];
    const attempt = async (what: () => Promise<unknown> | unknown): Promise<void> => {
      try {
        await what();
      } catch (error) {
        failures.push(error);
      }
    };
    // Leave the manager first, so it stops handing this seed peer out.
    await attempt(() => this.#membership?.stop());
    await attempt(() => this.#discovery?.stop());
    await attempt(() => this.#handBack?.stop());
    await attempt(() => this.#conductor?.stop());
    await attempt(() => this.#bandwidth.stop());
    await attempt(() => this.#downloadServer?.stop({ graceMs: 1000 }));
    await attempt(() => this.#announcer?.stop());
    await attempt(() => this.#uploadServer?.stop({ graceMs: 1000 }));
    await attempt(() => this.#byteServer?.stop({ graceMs: 500 }));
    await attempt(() => this.#transfer?.close());
    await attempt(() => this.#storage?.close());
    await attempt(() => this.#metricsServer?.close());
    await attempt(() => this.#sources.close());
    await attempt(() => {
      if (this.container.isRegistered(SchedulerClients)) this.container.resolve(SchedulerClients).close();
    });
    await attempt(() => this.container.dispose());
    this.#logger.info("dfdaemon stopped", { hostId: this.host.id });
    if (failures.length > 0) throw failures[0];
  }
}

