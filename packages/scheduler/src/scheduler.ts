import "reflect-metadata";
import { DfError, systemClock, type Clock, type Logger } from "@df/interface";
import { formatAddress, loadMemberTls, parseListen, warnPlaintext, type Address } from "@df/rpc";
import { ComposedService, metricsEndpointModule, resolvePlugins, type DependencyContainer, type ServiceModule } from "@df/service-kit";
import { Metrics } from "@df/telemetry";
import {
  coreModule,
  gcModule,
  managerLinkModule,
  schedulerServiceModule,
  type SchedulerContext,
} from "./composition/modules.js";
import type { SchedulerConfig } from "./config.js";
import { LiveScheduling } from "./manager/live-config.js";
import type { ManagerLink } from "./manager/manager-link.js";
import { Resources } from "./resource/resources.js";
import type { AnnouncementEvents, AnnouncementOptions } from "./service/announcements.js";
import { RpcSeedPeerTrigger } from "./service/seed-trigger.js";
import type { SeedPeerFetcher, SeedPeerTrigger } from "./service/types.js";

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

/** `metricsListen` as host and port, or undefined when empty (no endpoint). */
function metricsListenOf(listen: string): { host: string; port: number } | undefined {
  if (!listen) return undefined;
  const [host, port] = parseListen(listen, "metricsListen");
  return { host, port };
}

/** The scheduler's modules in start order; they stop in reverse (the manager link first). */
function schedulerModules(ctx: SchedulerContext): ServiceModule[] {
  const metrics = metricsEndpointModule(ctx.metrics, metricsListenOf(ctx.config.metricsListen), (url) => (ctx.started.metricsUrl = url));
  return [coreModule(ctx), ...metrics, gcModule(ctx), schedulerServiceModule(ctx), ...managerLinkModule(ctx)];
}

/**
 * One scheduler: its own child container, resources, evaluators, gRPC service, GC loop
 * and metrics. Many can run in one process.
 */
export class Scheduler {
  readonly resources: Resources;
  readonly metrics: Metrics;
  /** The scheduling values in force: the config's, as the manager's dynamic config overrides them. */
  readonly live: LiveScheduling;
  readonly #context: SchedulerContext;
  readonly #service: ComposedService;
  #starting: Promise<Address> | undefined;

  private constructor(
    readonly config: SchedulerConfig,
    context: SchedulerContext,
  ) {
    this.#context = context;
    this.resources = context.resources;
    this.metrics = context.metrics;
    this.live = context.live;
    this.#service = new ComposedService(schedulerModules(context));
    this.#registerGauges();
  }

  static async create(config: SchedulerConfig, deps: SchedulerDeps): Promise<Scheduler> {
    const logger = deps.logger;
    const tls = loadMemberTls(config.security.tls, deps.configDir ? { baseDir: deps.configDir } : {});
    if (tls === undefined) warnPlaintext(logger, "scheduler");
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
      badContentReporters: s.badContentReporters,
    };
    return new Scheduler(config, {
      config,
      logger,
      clock: deps.clock ?? systemClock,
      metrics,
      live: new LiveScheduling(s, options),
      options,
      evaluators,
      resources: new Resources({ allowCycles: s.allowCycles }, config.limits),
      events: Scheduler.#events(metrics, logger),
      ownTrigger: new RpcSeedPeerTrigger(s.seedPeerTriggerTimeout, logger.child("seed-trigger"), tls?.client),
      ...(tls ? { tls } : {}),
      ...(deps.seedPeerTrigger ? { seedPeerTrigger: deps.seedPeerTrigger } : {}),
      ...(deps.seedPeerFetcher ? { seedPeerFetcher: deps.seedPeerFetcher } : {}),
      ...(deps.managerRetry ? { managerRetry: deps.managerRetry } : {}),
      started: {},
    });
  }

  static #events(metrics: Metrics, logger: Logger): AnnouncementEvents {
    const decisions = metrics.counter("df_scheduler_schedule_decisions_total", "Scheduling answers by kind", ["kind"]);
    const rounds = metrics.histogram("df_scheduler_schedule_rounds", "Rounds a scheduling answer took", { buckets: [1, 2, 3, 4, 5] });
    const seeds = metrics.counter("df_scheduler_seed_peer_triggers_total", "Seed peer triggers by outcome", ["outcome"]);
    const more = metrics.counter("df_scheduler_more_parents_total", "More-parents requests, by whether any new parent was found", ["outcome"]);
    const blocked = metrics.counter("df_scheduler_parents_blocked_total", "Parents blocked for a whole task: several hosts got wrong bytes from them");
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
      onParentBlocked() {
        blocked.inc();
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

  get container(): DependencyContainer {
    return this.#service.container;
  }

  get address(): Address {
    if (!this.#context.started.address) throw new DfError("FAILED_PRECONDITION", "the scheduler has not started: call start() first");
    return this.#context.started.address;
  }

  start(): Promise<Address> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<Address> {
    await this.#service.start();
    const address = this.address;
    this.#context.logger.info("scheduler started", {
      listen: formatAddress(address),
      ...(this.metricsUrl ? { metrics: this.metricsUrl } : {}),
    });
    return address;
  }

  get metricsUrl(): string | undefined {
    return this.#context.started.metricsUrl;
  }

  /** The link to the manager, when `manager.addresses` is set and the scheduler started. */
  get managerLink(): ManagerLink | undefined {
    return this.#context.started.managerLink;
  }

  stop(): Promise<void> {
    return this.#service.close();
  }
}
