import "reflect-metadata";
import { networkInterfaces } from "node:os";
import { isIP } from "node:net";
import {
  DfError,
  createServiceContainer,
  resolvePlugins,
  Tokens,
  systemClock,
  type Clock,
  type DependencyContainer,
  type Logger,
} from "@df/interface";
import { createRpcServer, formatAddress, parseListen, scheduler as schedulerRpc, type Address, type RpcServer } from "@df/rpc";
import { Metrics, serveMetrics, type MetricsServer } from "@df/telemetry";
import type { SchedulerConfig } from "./config.js";
import { CallGuard } from "./limits/call-guard.js";
import { LiveScheduling } from "./manager/live-config.js";
import { ManagerLink } from "./manager/manager-link.js";
import { collectGarbage } from "./resource/gc.js";
import { Resources } from "./resource/resources.js";
import { Announcements, type AnnouncementEvents, type AnnouncementOptions } from "./service/announcements.js";
import { schedulerHandlers } from "./service/handlers.js";
import { Preheater } from "./service/preheat.js";
import { PreheatGate } from "./service/preheat-gate.js";
import { RpcSeedPeerTrigger } from "./service/seed-trigger.js";
import type { SeedPeerFetcher, SeedPeerTrigger } from "./service/types.js";
import { SchedulerTokens } from "./tokens.js";

/** Evaluators shipped with df, by the names config uses. */
export const BUILTIN_EVALUATORS = {
  score: () => import("@df/evaluator-score"),
  sigma: () => import("@df/evaluator-sigma"),
};

export interface SchedulerDeps {
  logger: Logger;
  clock?: Clock;
  /** Replaces the gRPC seed trigger (in-process clusters in tests). */
  seedPeerTrigger?: SeedPeerTrigger;
  /** Replaces the gRPC seed fetch that preheat waits on. */
  seedPeerFetcher?: SeedPeerFetcher;
  /** Folder plugin module paths in the config are resolved from. */
  configDir?: string;
  /** Backoff of re-registration with the manager (tests shorten it). */
  managerRetry?: { initialMs?: number; maxMs?: number };
}

/**
 * One scheduler: its own child container, resources, evaluators, gRPC service, GC loop
 * and metrics. Many can run in one process.
 */
export class Scheduler {
  readonly container: DependencyContainer;
  readonly resources: Resources;
  readonly metrics: Metrics;
  /** The scheduling values in force: the config's, as the manager's dynamic config overrides them. */
  readonly live: LiveScheduling;
  #managerLink: ManagerLink | undefined;
  #server: RpcServer | undefined;
  #metricsServer: MetricsServer | undefined;
  #gcTimer: NodeJS.Timeout | undefined;
  #address: Address | undefined;
  #ownTrigger: RpcSeedPeerTrigger | undefined;

  private constructor(
    readonly config: SchedulerConfig,
    private readonly deps: SchedulerDeps,
    container: DependencyContainer,
    metrics: Metrics,
    live: LiveScheduling,
  ) {
    this.container = container;
    this.metrics = metrics;
    this.live = live;
    this.resources = container.resolve(Resources);
  }

  static async create(config: SchedulerConfig, deps: SchedulerDeps): Promise<Scheduler> {
    const container = createServiceContainer();
    const logger = deps.logger;
    const evaluators = await resolvePlugins(config.scheduling.evaluators, {
      kind: "evaluator",
      key: "scheduling.evaluators",
      builtins: BUILTIN_EVALUATORS,
      ...(deps.configDir ? { baseDir: deps.configDir } : {}),
      logger,
    });
    const metrics = new Metrics({ processMetrics: true });
    const s = config.scheduling;
    const options: AnnouncementOptions = {
      retry: { retryLimit: s.retryLimit, retryBackToSourceLimit: s.retryBackToSourceLimit, retryIntervalMs: s.retryInterval },
      backToSourceLimit: s.backToSourceLimit,
      seedPeerFailedTimeoutMs: s.seedPeerFailedTimeout,
      registerDelayBaseMs: s.registerDelayBase,
    };
    const live = new LiveScheduling(s, options);
    const ownTrigger = new RpcSeedPeerTrigger(s.seedPeerTriggerTimeout, logger.child("seed-trigger"));
    container.registerInstance(Tokens.Logger, logger);
    container.registerInstance(Tokens.Clock, deps.clock ?? systemClock);
    container.registerInstance(Tokens.Evaluators, evaluators);
    container.registerInstance(SchedulerTokens.Config, config);
    container.registerInstance(Resources, new Resources({ allowCycles: s.allowCycles }, config.limits));
    // Read every round, so a limit the manager changes applies from the next one.
    container.registerInstance(SchedulerTokens.SelectionLimits, () => live.limits);
    container.registerInstance(SchedulerTokens.Random, Math.random);
    container.registerInstance(SchedulerTokens.AnnouncementOptions, options);
    container.registerInstance(SchedulerTokens.SeedPeerTrigger, deps.seedPeerTrigger ?? ownTrigger);
    container.registerInstance(SchedulerTokens.AnnouncementEvents, Scheduler.#events(metrics, logger));
    const instance = new Scheduler(config, deps, container, metrics, live);
    instance.#ownTrigger = ownTrigger;
    instance.#registerGauges();
    return instance;
  }

  static #events(metrics: Metrics, logger: Logger): AnnouncementEvents {
    const decisions = metrics.counter("df_scheduler_schedule_decisions_total", "Scheduling answers by kind", ["kind"]);
    const rounds = metrics.histogram("df_scheduler_schedule_rounds", "Rounds a scheduling answer took", { buckets: [1, 2, 3, 4, 5] });
    const seeds = metrics.counter("df_scheduler_seed_peer_triggers_total", "Seed peer triggers by outcome", ["outcome"]);
    const more = metrics.counter("df_scheduler_more_parents_total", "More-parents requests, by whether any new parent was found", ["outcome"]);
    return {
      onSchedule(peer, response, count) {
        decisions.inc({ kind: response.kind });
        rounds.observe(count);
        logger.debug("scheduled", { peerId: peer.id, taskId: peer.task.id, kind: response.kind, rounds: count });
      },
      onMoreParents(peer, added) {
        more.inc({ outcome: added.length > 0 ? "added" : "none" });
        logger.debug("more parents", { peerId: peer.id, taskId: peer.task.id, added: added.map((p) => p.id) });
      },
      onSeedTrigger(task, seed, outcome) {
        seeds.inc({ outcome });
        logger.info("seed peer trigger", { taskId: task.id, seedHostId: seed.id, outcome });
      },
    };
  }

  #registerGauges(): void {
    const resources = this.resources;
    this.metrics.gauge("df_scheduler_hosts", "Hosts known", [], (g) => g.set(resources.hosts.size));
    this.metrics.gauge("df_scheduler_tasks", "Tasks known", [], (g) => g.set(resources.tasks.size));
    this.metrics.gauge("df_scheduler_peers", "Peers known", [], (g) => g.set(resources.peers.size));
    const live = this.live;
    this.metrics.gauge("df_scheduler_candidate_parent_limit", "Parents handed out per scheduling round, as in force now", [], (g) =>
      g.set(live.limits.candidateParentLimit),
    );
    this.metrics.gauge("df_scheduler_filter_parent_limit", "Peers sampled per scheduling round, as in force now", [], (g) =>
      g.set(live.limits.filterParentLimit),
    );
  }

  get address(): Address {
    if (!this.#address) throw new DfError("FAILED_PRECONDITION", "the scheduler has not started: call start() first");
    return this.#address;
  }

  async start(): Promise<Address> {
    const logger = this.deps.logger;
    const clock = this.deps.clock ?? systemClock;
    const announcements = this.container.resolve(Announcements);
    this.#server = createRpcServer({ address: this.config.listen });
    const preheater = new Preheater(this.resources, this.deps.seedPeerFetcher ?? this.#ownTrigger!, logger.child("preheat"));
    const preheatGate = new PreheatGate({
      allowedCallers: this.config.preheat.allowedCallers,
      managerAddresses: this.config.manager.addresses,
      logger: logger.child("preheat"),
    });
    const refusals = this.metrics.counter("df_scheduler_limit_rejections_total", "Calls refused by a limit, by the config key (limits.*) or rule", ["limit"]);
    const guard = new CallGuard(this.resources, this.config.limits, (limit) => {
      refusals.inc({ limit });
      logger.debug("call refused by a limit", { limit });
    });
    const handlers = schedulerHandlers(this.resources, announcements, clock, logger, preheater, preheatGate, guard);
    this.#server.addService(schedulerRpc.SchedulerService, handlers);
    this.#address = await this.#server.start();
    if (this.config.metricsListen) {
      const [host, port] = parseListen(this.config.metricsListen, "metricsListen");
      this.#metricsServer = await serveMetrics(this.metrics, { host, port });
    }
    const gcOptions = {
      peerTtlMs: this.config.gc.peerTtl,
      pieceDownloadTimeoutMs: this.config.gc.pieceDownloadTimeout,
      hostMissedAnnounces: this.config.gc.hostMissedAnnounces,
      defaultAnnounceIntervalMs: this.config.gc.defaultAnnounceInterval,
    };
    this.#gcTimer = setInterval(() => {
      const result = collectGarbage(this.resources, clock.now(), gcOptions, logger.child("gc"));
      if (result.hosts + result.peers + result.tasks > 0) logger.info("gc", { ...result });
    }, this.config.gc.interval);
    this.#gcTimer.unref();
    if (this.config.manager.addresses.length > 0) this.#startManagerLink(this.#address, clock);
    logger.info("scheduler started", {
      listen: formatAddress(this.#address),
      ...(this.#metricsServer ? { metrics: this.#metricsServer.url } : {}),
    });
    return this.#address;
  }

  get metricsUrl(): string | undefined {
    return this.#metricsServer?.url;
  }

  /** The link to the manager, when `manager.addresses` is set and the scheduler started. */
  get managerLink(): ManagerLink | undefined {
    return this.#managerLink;
  }

  #startManagerLink(address: Address, clock: Clock): void {
    if (address.kind !== "tcp") {
      this.deps.logger.warn("not registering with the manager: it needs a TCP listen address peers can reach", { listen: this.config.listen });
      return;
    }
    this.#managerLink = new ManagerLink({
      config: this.config,
      advertise: { ip: advertisedIp(this.config, address.host), port: address.port },
      live: this.live,
      resources: this.resources,
      clock,
      logger: this.deps.logger,
      metrics: this.metrics,
      ...(this.deps.managerRetry ? { retry: this.deps.managerRetry } : {}),
    });
    this.#managerLink.start();
  }

  async stop(): Promise<void> {
    // Leave the manager first, so it stops handing this scheduler out.
    await this.#managerLink?.stop();
    if (this.#gcTimer) clearInterval(this.#gcTimer);
    await this.#server?.stop({ graceMs: 1000 });
    await this.#metricsServer?.close();
    this.#ownTrigger?.close();
    this.container.dispose();
  }
}

/**
 * `host.advertiseIp`; else the listen host when it names one interface; else (a wildcard
 * listen) this machine's first non-internal IPv4 address, so that peers on other hosts
 * can reach the address the manager hands out; loopback only on a machine with none.
 */
function advertisedIp(config: SchedulerConfig, listenHost: string): string {
  if (config.host.advertiseIp) return config.host.advertiseIp;
  const wildcard = listenHost === "" || listenHost === "0.0.0.0" || listenHost === "::";
  if (!wildcard && isIP(listenHost)) return listenHost;
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === "IPv4" && !i.internal);
  return external?.address ?? "127.0.0.1";
}

