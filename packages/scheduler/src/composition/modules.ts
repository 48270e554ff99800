import { networkInterfaces } from "node:os";
import { isIP } from "node:net";
import { Tokens, type Clock, type Evaluator, type Logger } from "@df/interface";
import { createRpcServer, MEMBER_ACCESS, scheduler as schedulerRpc, type Address, type MemberTls, type RpcServer } from "@df/rpc";
import type { ServiceModule } from "@df/service-kit";
import type { Metrics } from "@df/telemetry";
import type { SchedulerConfig } from "../config.js";
import { CallGuard } from "../limits/call-guard.js";
import type { LiveScheduling } from "../manager/live-config.js";
import { ManagerLink } from "../manager/manager-link.js";
import { collectGarbage } from "../resource/gc.js";
import { Resources } from "../resource/resources.js";
import { Announcements, type AnnouncementEvents, type AnnouncementOptions } from "../service/announcements.js";
import { schedulerHandlers } from "../service/handlers.js";
import { PreheatGate } from "../service/preheat-gate.js";
import { Preheater } from "../service/preheat.js";
import type { RpcSeedPeerTrigger } from "../service/seed-trigger.js";
import type { SeedPeerFetcher, SeedPeerTrigger } from "../service/types.js";
import { SchedulerTokens } from "../tokens.js";

/** What the scheduler's modules are built from, and what they learn while starting. */
export interface SchedulerContext {
  config: SchedulerConfig;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  live: LiveScheduling;
  options: AnnouncementOptions;
  evaluators: readonly Evaluator[];
  resources: Resources;
  events: AnnouncementEvents;
  ownTrigger: RpcSeedPeerTrigger;
  seedPeerTrigger?: SeedPeerTrigger;
  seedPeerFetcher?: SeedPeerFetcher;
  managerRetry?: { initialMs?: number; maxMs?: number };
  /** mTLS material from `security.tls`; undefined: plaintext. */
  tls?: MemberTls;
  started: { address?: Address; metricsUrl?: string; managerLink?: ManagerLink };
}

/** Config, clock, evaluators, resources and the scheduling knobs; the own seed trigger closes last. */
export function coreModule(ctx: SchedulerContext): ServiceModule {
  return {
    name: "core",
    register(r) {
      r.value(Tokens.Logger, ctx.logger);
      r.value(Tokens.Clock, ctx.clock);
      r.value(Tokens.Evaluators, ctx.evaluators);
      r.value(SchedulerTokens.Config, ctx.config);
      r.value(Resources, ctx.resources);
      // Read every round, so a limit the manager changes applies from the next one.
      r.value(SchedulerTokens.SelectionLimits, () => ctx.live.limits);
      r.value(SchedulerTokens.Random, Math.random);
      r.value(SchedulerTokens.AnnouncementOptions, ctx.options);
      r.value(SchedulerTokens.SeedPeerTrigger, ctx.seedPeerTrigger ?? ctx.ownTrigger);
      r.value(SchedulerTokens.AnnouncementEvents, ctx.events);
    },
    stop: () => ctx.ownTrigger.close(),
  };
}

/** Drops hosts, peers and tasks that went silent or finished long ago, every `gc.interval`. */
export function gcModule(ctx: SchedulerContext): ServiceModule {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: "gc",
    start() {
      const { gc } = ctx.config;
      const options = {
        peerTtlMs: gc.peerTtl,
        pieceDownloadTimeoutMs: gc.pieceDownloadTimeout,
        hostMissedAnnounces: gc.hostMissedAnnounces,
        defaultAnnounceIntervalMs: gc.defaultAnnounceInterval,
      };
      const logger = ctx.logger.child("gc");
      timer = setInterval(() => {
        const result = collectGarbage(ctx.resources, ctx.clock.now(), options, logger);
        if (result.hosts + result.peers + result.tasks > 0) ctx.logger.info("gc", { ...result });
      }, gc.interval);
      timer.unref();
    },
    stop: () => clearInterval(timer),
  };
}

/** The Scheduler gRPC service peers announce to. */
export function schedulerServiceModule(ctx: SchedulerContext): ServiceModule {
  let server: RpcServer | undefined;
  return {
    name: "scheduler-service",
    register(r) {
      r.singleton(Announcements);
    },
    async start(resolve) {
      const { config, logger } = ctx;
      const preheater = new Preheater(ctx.resources, ctx.seedPeerFetcher ?? ctx.ownTrigger, logger.child("preheat"));
      const preheatGate = new PreheatGate({ allowedCallers: config.preheat.allowedCallers, managerAddresses: config.manager.addresses, logger: logger.child("preheat") });
      const refusals = ctx.metrics.counter("df_scheduler_limit_rejections_total", "Calls refused by a limit, by the config key (limits.*) or rule", ["limit"]);
      const guard = new CallGuard(ctx.resources, config.limits, (limit) => {
        refusals.inc({ limit });
        logger.debug("call refused by a limit", { limit });
      });
      server = createRpcServer({ address: config.listen, ...(ctx.tls ? { tls: ctx.tls.server, access: MEMBER_ACCESS } : {}) });
      server.addService(schedulerRpc.SchedulerService, schedulerHandlers(ctx.resources, resolve(Announcements), ctx.clock, logger, preheater, preheatGate, guard));
      ctx.started.address = await server.start();
    },
    stop: () => server?.stop({ graceMs: 1000 }),
  };
}

/** Registers with the manager and keeps alive; last to start, first to stop, so the manager stops handing this scheduler out first. */
export function managerLinkModule(ctx: SchedulerContext): ServiceModule[] {
  if (ctx.config.manager.addresses.length === 0) return [];
  return [
    {
      name: "manager-link",
      start() {
        const address = ctx.started.address;
        if (address?.kind !== "tcp") {
          ctx.logger.warn("not registering with the manager: it needs a TCP listen address peers can reach", { listen: ctx.config.listen });
          return;
        }
        ctx.started.managerLink = new ManagerLink({
          config: ctx.config,
          advertise: { ip: advertisedIp(ctx.config, address.host), port: address.port },
          live: ctx.live,
          resources: ctx.resources,
          clock: ctx.clock,
          logger: ctx.logger,
          metrics: ctx.metrics,
          ...(ctx.tls ? { tls: ctx.tls.client } : {}),
          ...(ctx.managerRetry ? { retry: ctx.managerRetry } : {}),
        });
        ctx.started.managerLink.start();
      },
      stop: () => ctx.started.managerLink?.stop(),
    },
  ];
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

