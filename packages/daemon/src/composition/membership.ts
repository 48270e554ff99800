import { parseListen } from "@df/rpc";
import type { ServiceModule } from "@df/service-kit";
import { serveMetrics, type MetricsServer } from "@df/telemetry";
import { seedPeerMembership } from "../scheduler-link/seed-membership.js";
import type { DaemonContext } from "./context.js";

/** A seed peer with a manager registers and keeps alive with it; last to start, first to stop, so the manager stops handing it out before anything closes. */
export function membershipModule(ctx: DaemonContext): ServiceModule[] {
  const { config, host } = ctx;
  if (!host.seed || config.manager.addresses.length === 0) return [];
  return [
    {
      name: "manager-membership",
      start() {
        ctx.started.membership = seedPeerMembership(config, host, ctx.logger, ctx.metrics);
        ctx.started.membership.start();
      },
      stop: () => ctx.started.membership?.stop(),
    },
  ];
}

/** Prometheus /metrics, when `metricsListen` is set: up first, down last. */
export function metricsEndpointModule(ctx: DaemonContext): ServiceModule[] {
  if (!ctx.config.metricsListen) return [];
  let server: MetricsServer | undefined;
  return [
    {
      name: "metrics-endpoint",
      async start() {
        const [metricsHost, metricsPort] = parseListen(ctx.config.metricsListen, "metricsListen");
        server = await serveMetrics(ctx.metrics, { host: metricsHost, port: metricsPort });
        ctx.started.metricsUrl = server.url;
      },
      stop: () => server?.close(),
    },
  ];
}
