import type { AddressInfo } from "node:net";
import { DfError, systemClock, Tokens, type Clock, type Logger } from "@df/interface";
import { createRpcServer, MEMBER_ACCESS, type Address, type MemberTls, type RpcServer } from "@df/rpc";
import type { DependencyContainer, ServiceModule } from "@df/service-kit";
import type { Metrics } from "@df/telemetry";
import type { ManagerConfig } from "../config.js";
import { openDatabase, type Database } from "../db/database.js";
import { FleetCache } from "../fleet/cache.js";
import { KeepAliveTracker } from "../fleet/keepalive.js";
import { PeerRecorder } from "../fleet/peers.js";
import { FleetService, managerServiceDefinition } from "../fleet/service.js";
import { FleetStore } from "../fleet/store.js";
import { JobStore, type JobRunner } from "../jobs.js";
import { PreheatJobRunner } from "../preheat/runner.js";
import { RestServer } from "../rest/server.js";
import type { Searcher } from "../searcher/searcher.js";
import { ManagerTokens } from "../tokens.js";

/** What the manager's modules are built from, and what they learn while starting. */
export interface ManagerContext {
  config: ManagerConfig;
  logger: Logger;
  clock?: Clock;
  metrics: Metrics;
  searcher: Searcher;
  rootPassword: string;
  jobRunner?: JobRunner | ((container: DependencyContainer) => JobRunner);
  memoryTemplateFile?: string;
  /** mTLS material from `security.tls` for the fleet gRPC service; undefined: plaintext. */
  tls?: MemberTls;
  /** The service's container, for a job runner made from it. */
  container: () => DependencyContainer;
  started: { database?: Database; grpc?: Address; rest?: AddressInfo; metricsUrl?: string; keepaliveTimeoutMs?: number };
}

/** Config, clock, logger, searcher, metrics, and the manager's classes (made on first use). */
export function coreModule(ctx: ManagerContext): ServiceModule {
  return {
    name: "core",
    register(r) {
      r.value(Tokens.Logger, ctx.logger);
      r.value(Tokens.Clock, ctx.clock ?? systemClock);
      r.value(ManagerTokens.Config, ctx.config);
      r.value(ManagerTokens.Searcher, ctx.searcher);
      r.value(ManagerTokens.Metrics, ctx.metrics);
      r.singleton(FleetStore);
      r.singleton(FleetCache);
      r.singleton(KeepAliveTracker);
      r.singleton(PeerRecorder);
      r.singleton(FleetService);
      r.singleton(JobStore);
      r.singleton(RestServer);
    },
  };
}

/** The database, opened (and migrated) before anything reads it, closed after everything. */
export function databaseModule(ctx: ManagerContext, url: string): ServiceModule {
  const { config } = ctx;
  return {
    name: "database",
    register(r) {
      r.factory(ManagerTokens.Database, () => {
        if (!ctx.started.database) throw new DfError("FAILED_PRECONDITION", "the manager has not started: call start() first");
        return ctx.started.database;
      });
    },
    async start() {
      ctx.started.database = await openDatabase({
        url,
        logger: ctx.logger.child("db"),
        connectAttempts: config.database.connectAttempts,
        retryDelayMs: config.database.retryDelay,
        poolSize: config.database.poolSize,
        ...(ctx.memoryTemplateFile ? { memoryTemplateFile: ctx.memoryTemplateFile } : {}),
      });
    },
    stop: () => ctx.started.database?.close(),
  };
}

/** Runs stored jobs (preheat by default); closed before the database. */
export function jobRunnerModule(ctx: ManagerContext): ServiceModule {
  let runner: JobRunner | undefined;
  return {
    name: "job-runner",
    register(r) {
      r.factory(ManagerTokens.JobRunner, (resolve) => {
        const given = ctx.jobRunner;
        runner =
          typeof given === "function"
            ? given(ctx.container())
            : (given ?? new PreheatJobRunner(resolve(ManagerTokens.Database), resolve(JobStore), ctx.config, ctx.logger.child("preheat")));
        return runner;
      });
    },
    stop: () => runner?.close?.(),
  };
}

/** The default clusters and the root user, then the gauges that read them. */
export function fleetSetupModule(ctx: ManagerContext): ServiceModule {
  return {
    name: "fleet-setup",
    async start(resolve) {
      const store = resolve(FleetStore);
      await store.seedDefaults();
      if (await resolve(RestServer).auth.ensureRoot(ctx.rootPassword)) ctx.logger.info("root user created");
      resolve(ManagerTokens.JobRunner);
      ctx.metrics.gauge("df_manager_keepalive_streams", "KeepAlive streams open on this manager", [], (g) => g.set(resolve(KeepAliveTracker).streams));
      ctx.metrics.gauge("df_manager_members", "Schedulers and seed peers by state", ["kind", "state"], async (g) => {
        const counts = await store.memberCounts().catch(() => undefined);
        if (!counts) return;
        g.reset();
        for (const c of counts) g.set({ kind: c.kind, state: c.state }, c.count);
      });
    },
  };
}

/** Records the peers that list schedulers, in batches; flushed on stop. */
export function peerRecorderModule(): ServiceModule {
  let peers: PeerRecorder | undefined;
  return {
    name: "peer-recorder",
    start(resolve) {
      peers = resolve(PeerRecorder);
      peers.start();
    },
    stop: () => peers?.stop(),
  };
}

/** The fleet gRPC service for schedulers and seed peers. */
export function grpcModule(ctx: ManagerContext): ServiceModule {
  let server: RpcServer | undefined;
  return {
    name: "fleet-grpc",
    async start(resolve) {
      const fleet = resolve(FleetService);
      const listCounter = ctx.metrics.counter("df_manager_list_schedulers_total", "ListSchedulers answers by outcome", ["outcome"]);
      fleet.events = { onListSchedulers: (outcome) => listCounter.inc({ outcome }) };
      server = createRpcServer({ address: ctx.config.grpcListen, ...(ctx.tls ? { tls: ctx.tls.server, access: MEMBER_ACCESS } : {}) });
      server.addService(managerServiceDefinition(), fleet.handlers());
      ctx.started.grpc = await server.start();
    },
    stop: () => server?.stop({ graceMs: 1000 }),
  };
}

/** The REST API and the web console. */
export function restModule(ctx: ManagerContext): ServiceModule {
  let rest: RestServer | undefined;
  return {
    name: "rest",
    async start(resolve) {
      rest = resolve(RestServer);
      ctx.started.rest = await rest.start();
    },
    stop: () => rest?.stop(),
  };
}

/** Marks members that stop keeping alive inactive; first to stop, so nobody is marked inactive by our own shutdown. */
export function keepAliveModule(ctx: ManagerContext): ServiceModule {
  let tracker: KeepAliveTracker | undefined;
  return {
    name: "keepalive",
    start(resolve) {
      tracker = resolve(KeepAliveTracker);
      const inactive = ctx.metrics.counter("df_manager_members_inactive_total", "Members marked inactive by this manager", ["kind", "reason"]);
      tracker.events = { onInactive: (kind, _id, reason) => inactive.inc({ kind, reason }) };
      tracker.start();
      ctx.started.keepaliveTimeoutMs = tracker.timeoutMs;
      // Jobs a previous manager left running resume once members had time to come back.
      const runner = resolve(ManagerTokens.JobRunner);
      if (runner instanceof PreheatJobRunner) runner.resumeAfter(2 * ctx.config.keepalive.interval);
    },
    stop: () => tracker?.stop(),
  };
}
