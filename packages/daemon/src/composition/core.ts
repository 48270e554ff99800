import { systemClock, Tokens } from "@df/interface";
import type { ServiceModule } from "@df/service-kit";
import { TaskConductor } from "../conductor/conductor.js";
import { DaemonMetrics } from "../conductor/metrics.js";
import { DaemonHost } from "../host.js";
import { SchedulerClients } from "../scheduler-link/scheduler-clients.js";
import { DaemonTokens } from "../tokens.js";
import type { DaemonContext } from "./context.js";

/** The parts every other module builds on; the source plugins close when everything else has stopped. */
export function coreModule(ctx: DaemonContext): ServiceModule {
  return {
    name: "core",
    register(r) {
      r.value(Tokens.Logger, ctx.logger);
      r.value(Tokens.Clock, ctx.clock ?? systemClock);
      r.value(DaemonTokens.Config, ctx.config);
      r.value(DaemonTokens.Metrics, ctx.metrics);
      r.value(DaemonHost, ctx.host);
      r.value(Tokens.SourceRegistry, ctx.sources);
      r.factory(DaemonMetrics, (resolve) => new DaemonMetrics(ctx.metrics, () => resolve(TaskConductor).running));
    },
    stop: () => ctx.sources.close(),
  };
}

/** Connections to the schedulers, closed last: everything that talks to a scheduler stops before. */
export function schedulerClientsModule(ctx: DaemonContext): ServiceModule {
  const clients = new SchedulerClients(ctx.config.scheduler.addresses, ctx.tls?.client);
  return {
    name: "scheduler-clients",
    register: (r) => r.value(SchedulerClients, clients),
    stop: () => clients.close(),
  };
}
